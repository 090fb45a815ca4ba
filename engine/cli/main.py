"""Entry point: builds the parser from the command table and dispatches.

Only the module of the command being run is imported, and each keeps its heavy imports (hera,
sqlalchemy, openai) inside its ``main``: ``flowspec validate`` must start fast.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

#: command -> one-line help; the command lives in engine/cli/<command>.py with
#: add_arguments(parser) and main(args) -> exit code.
COMMANDS: dict[str, str] = {
    "validate": "check specs (files or folders): schema and semantic checks, every error with its position",
    "graph": "draw the DAG as mermaid, dot or json",
    "plan": "show the resolved order, effective env (with origins), retries and timeouts per step",
    "run": "run a spec locally: Argo's decisions, parallel steps, durable and resumable state",
    "runs": "list runs, newest first, with their phase and step counts (filter by workflow, "
            "phase, age)",
    "prune": "forget finished runs older than an age or date (never running or resumable ones)",
    "show": "show one run: steps, phases, attempts, durations, errors and outputs",
    "report": "write one run as a self-contained HTML page: DAG, timeline of attempts, each "
              "step's outputs, files, errors and logs",
    "ui": "serve the run list and each run's page on a local web server (read-only)",
    "logs": "print what a run's steps wrote to stdout and stderr, per attempt; -f follows",
    "resume": "continue a stopped or killed run from where its store says it was",
    "retry": "run a finished run's failed steps (or --from STEP) and what follows them again",
    "cancel": "stop a run from another terminal (finally steps still run; --terminate skips them)",
    "compile": "compile a spec to an Argo Workflow, WorkflowTemplate or CronWorkflow (YAML)",
    "submit": "compile a spec (or take a WorkflowTemplate on the server), create it on an Argo "
              "Server and follow it (exit code from its phase); --update replaces a template",
    "watch": "follow a workflow on an Argo Server until it ends (exit code from its phase)",
    "argo": "workflows on an Argo Server: list, logs, stop, terminate, retry",
    "step": "run one step of an embedded spec inside an Argo pod (the in-pod runner)",
    "schema": "print the spec's JSON Schema (draft 2020-12)",
    "explain": "explain a diagnostic code (e.g. FS207); without a code, list them all",
    "lsp": "language server over stdio: diagnostics, completion, hover, go to definition, "
           "rename (needs the lsp extra)",
}

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

#: CPython collects its youngest generation every 700 allocations and, every hundred of those,
#: walks every object the process holds; a run holding a 10,000-line claim's parsed form and its
#: steps' findings spent 2.3-2.6 s of a 10 s chargeback run in such walks. Collecting the
#: young generation 70x less often still collects cycles, for a few MB of garbage held longer.
GC_THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> None:
    """Set the process's collector thresholds (the command owns the process; a library,
    which ``engine.run`` is, must not)."""
    gc.set_threshold(*GC_THRESHOLDS)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors exit 2 with one line, as documented
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _chosen(argv: Sequence[str]) -> str | None:
    """The command named on the line: only its module is imported (start-up time matters)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flowspec")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = _Parser(prog="flowspec", description="Declarative YAML workflows with Argo's semantics.")
    parser.add_argument("--version", action="version", version=f"flowspec {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    chosen = _chosen(argv)
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(f"engine.cli.{name}")
            module.add_arguments(p)
            p.set_defaults(handler=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    tune_gc()
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug of ours: one line for the user, the traceback on request
        if os.environ.get("FLOWSPEC_DEBUG"):
            raise
        print(f"flowspec {args.command}: internal error: {type(exc).__name__}: {exc} "
              "(set FLOWSPEC_DEBUG=1 for the traceback and please report it)", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
