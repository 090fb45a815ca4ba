"""``flowspec report RUN_ID -o run.html``: one run as a self-contained HTML page.

The page (``engine.report``) shows the DAG coloured by phase with the ``when``/``depends``
that decided each skip and omission, a timeline of every attempt, each step's outputs, data,
files, errors and logs, and the run's params; it loads nothing from the network, so it can be
attached to a CI job as it is. Without ``-o`` the page goes to stdout.

Exit 0; 2 for an unknown run, a store that cannot be read or a file that cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli.run import EXIT_OK, add_run_id_argument, add_store_argument, fail, stored_run


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_id_argument(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write the page here (default: stdout)")
    add_store_argument(p)


def main(args: argparse.Namespace) -> int:
    from engine.report.model import gather
    from engine.report.render import render
    from engine.store import StoreError

    try:
        with stored_run(args) as (store, run_id):
            page = render(gather(store, run_id))
    except StoreError as exc:
        return fail("report", str(exc))
    if args.output is None:
        sys.stdout.write(page)
        return EXIT_OK
    try:
        Path(args.output).write_text(page, encoding="utf-8")
    except OSError as exc:
        return fail("report", f"cannot write {args.output}: {exc.strerror or exc}")
    print(f"wrote {args.output} ({len(page.encode()):,} bytes)", file=sys.stderr)
    return EXIT_OK
