"""``flowspec run SPEC``: run locally with Argo's semantics, durably, with live progress.

Exit 0 only when the workflow Succeeded; 1 when it Failed or ended in Error, or when the spec
has problems (the rule of every command: 1 problems found); 130 after Ctrl-C; 2 for usage
and I/O problems (bad spec path, bad ``-p``, a store that cannot be used).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.cli.common import add_param_argument, given_params

if TYPE_CHECKING:
    from engine.store import Store

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_store_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", default=None,
                   help="the run store (default: $FLOWSPEC_DB, else sqlite:///.flowspec/state.db)")


def add_run_id_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", metavar="RUN_ID", help="the run (a unique prefix is enough)")


@contextlib.contextmanager
def stored_run(args: argparse.Namespace) -> Iterator[tuple[Store, str]]:
    """The store ``--db`` names (never created) and the run RUN_ID names (a unique prefix
    resolved), the store closed afterwards: what every command about one stored run starts
    with. StoreError (no store, no such run) is the caller's to report."""
    from engine.store import open_store

    store = open_store(args.db, create=False)
    try:
        yield store, store.resolve_run_id(args.run_id)
    finally:
        store.close()


def add_run_options(p: argparse.ArgumentParser) -> None:
    add_store_argument(p)
    p.add_argument("--max-parallel", type=positive_int, default=None, metavar="N",
                   help="most steps running at once (default: the number of CPUs)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text: a summary table; json: the run document (as flowspec show)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="the spec file")
    add_param_argument(p)
    add_run_options(p)
    p.add_argument("--output-dir", metavar="DIR", default=None,
                   help="keep the files the steps write under DIR/RUN_ID/STEP (default "
                        ".flowspec/runs); each run has its own folder")


def fail(command: str, message: str, code: int = EXIT_USAGE) -> int:
    print(f"flowspec {command}: {message}", file=sys.stderr)
    return code


def main(args: argparse.Namespace) -> int:
    from engine.cli.common import load_or_report
    from engine.local import arun
    from engine.params import ParamError, local_files, resolve_params
    from engine.run_id import new_run_id
    from engine.secrets import missing_secrets, spec_secrets
    from engine.store import StoreError, open_store

    spec = load_or_report(args.spec)
    if isinstance(spec, int):
        return spec  # 1: the spec has problems (as validate says), 2: it cannot be read
    try:
        params = local_files(spec, resolve_params(spec, given_params(args)), Path.cwd())
    except ParamError as exc:
        return fail("run", str(exc).replace("\n", "\n  "))
    needed = spec_secrets(spec)
    unset = missing_secrets(needed, os.environ)
    if unset:
        return fail("run", f"{len(unset)} secret(s) the run needs are not set, so nothing was "
                    "run; locally each is read from an environment variable:\n  "
                    + "\n  ".join(f"{ref}: export {ref.local_variable}=...  (read by "
                                  f"{', '.join(needed[ref])})" for ref in unset)
                    + "\n  (mark a secret 'optional: true' if the run can do without it)")
    try:
        store = open_store(args.db)
    except StoreError as exc:
        return fail("run", str(exc))
    run_id = new_run_id(spec.name)
    try:
        return drive("run", run_id, args.format, lambda observer: arun(
            spec, params, store=store, max_parallel=args.max_parallel, observer=observer,
            run_id=run_id, output_dir=args.output_dir))
    finally:
        store.close()


def drive(command: str, run_id: str, fmt: str,
          start: Callable[[Any], Coroutine[Any, Any, Any]]) -> int:
    """Run (or resume) with progress on stderr and the summary on stdout; the exit code."""
    from engine.cli.progress import make_progress, print_summary
    from engine.store import RunBusy, StoreError, UnknownRun
    from engine.store.errors import NothingToRetry

    progress = make_progress()
    # Objects that exist before the run (the spec, its YAML positions) cannot become garbage
    # because of it; keeping them out of the collector's full passes saves a third of a big
    # run's overhead. The command owns its process; the library leaves the collector alone.
    gc.freeze()
    try:
        result = asyncio.run(_with_sigterm(start(progress)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        progress.close()
        return fail(command, f"interrupted; the run can be continued with: flowspec resume "
                             f"{run_id}", EXIT_INTERRUPTED)
    except (RunBusy, UnknownRun, NothingToRetry) as exc:
        progress.close()
        return fail(command, str(exc))
    except StoreError as exc:
        progress.close()
        return fail(command, f"{exc}\n  the run stopped; once fixed, continue it with: "
                             f"flowspec resume {run_id}", EXIT_USAGE)
    progress.close()
    if fmt == "json":
        json.dump(result.document(), sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        print_summary(result)
    return EXIT_OK if result.succeeded else EXIT_FAILED


async def _with_sigterm(work: Coroutine[Any, Any, Any]) -> Any:
    """SIGTERM stops a run the way Ctrl-C does: attempts recorded, the run resumable."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    # Not the main thread, or no signals on this platform: then SIGTERM keeps its default.
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, task.cancel if task else lambda: None)
    return await work
