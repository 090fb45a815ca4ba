"""``python -m processors.chargeback.reference``: load or generate reference data.

    load DIR [--db URL]             load DIR/manifest.csv and its files (all or nothing)
    generate OUT_DIR [--seed N]     write a fictitious reference set with a manifest

Exit codes: 0 done, 1 the data has problems (every one printed), 2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from engine.processors import StepFailed
from processors.chargeback.reference.generate import generate
from processors.chargeback.reference.loader import ReferenceLoadError, load_directory

DEFAULT_DB = "sqlite:///.flowspec/state.db"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m processors.chargeback.reference",
        description="Load or generate chargeback reference data (contracts, rosters, federal lists).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    load = sub.add_parser("load", help="load a directory of reference CSV files")
    load.add_argument(
        "directory", type=Path, help="folder with manifest.csv and the files it names"
    )
    load.add_argument(
        "--db",
        default=None,
        help=f"SQLAlchemy URL of the store (default: $FLOWSPEC_DB or {DEFAULT_DB})",
    )
    gen = sub.add_parser("generate", help="write a fictitious, deterministic reference set")
    gen.add_argument("out_dir", type=Path, help="folder to write (created if missing)")
    gen.add_argument("--seed", type=int, default=844, help="random seed (default 844)")
    gen.add_argument("--customers", type=int, default=400, help="SAP customers (default 400)")
    gen.add_argument(
        "--roster-only", type=int, default=1700, help="roster facilities not in SAP (default 1700)"
    )
    return parser


def _safe_url(url: str) -> str:
    """The URL for messages, password masked: a secret never reaches the terminal or a log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


def _load(directory: Path, url: str) -> int:
    try:
        parsed = make_url(url)
    except ArgumentError:
        print(
            f"error: --db {_safe_url(url)} is not a SQLAlchemy URL (e.g. sqlite:///state.db)",
            file=sys.stderr,
        )
        return 2
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        results = load_directory(directory, url)
    except ReferenceLoadError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"{len(exc.errors)} problem(s); nothing was loaded", file=sys.stderr)
        return 1
    except (SQLAlchemyError, StepFailed) as exc:
        print(f"error: cannot write to {_safe_url(url)}: {type(exc).__name__}", file=sys.stderr)
        return 2
    for result in results:
        print(result.describe())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): a code, never an exit
        return exc.code if isinstance(exc.code, int) else 2
    if args.command == "load":
        return _load(args.directory, args.db or os.environ.get("FLOWSPEC_DB") or DEFAULT_DB)
    try:
        written = generate(args.out_dir, args.seed, args.customers, args.roster_only)
    except OSError as exc:
        print(f"error: cannot write {args.out_dir}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} files to {args.out_dir} (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
