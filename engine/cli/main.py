"""Entry point: builds the parser from the command table and dispatches.

Command modules are imported to build the parser, so each keeps its heavy imports (hera,
sqlalchemy, openai) inside its ``main``: ``flowspec validate`` must start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

#: command name -> module under engine.cli; each module has HELP, add_arguments(p), main(args)
COMMANDS: dict[str, str] = {
    "validate": "validate",
    "graph": "graph",
    "plan": "plan",
    "run": "run",
    "runs": "runs",
    "show": "show",
    "resume": "resume",
    "compile": "compile",
    "submit": "submit",
    "watch": "watch",
    "step": "step",
    "schema": "schema",
    "explain": "explain",
}

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with one line, as documented
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="flowspec", description="Declarative YAML workflows with Argo's semantics.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(f"engine.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"engine.cli.{module_name}":
                raise
            continue  # a command still being built is simply not offered
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(handler=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
