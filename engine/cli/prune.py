"""``flowspec prune --older-than AGE``: forget finished runs, so the store does not grow for
ever. Runs still going or interrupted (resumable) are kept whatever their age, and so is
anything a processor keeps in the same database (the chargeback compliance trail is an audit
record with its own retention)."""

from __future__ import annotations

import argparse
import json
import sys

from engine.cli.common import moment
from engine.cli.run import EXIT_OK, add_store_argument, fail


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_store_argument(p)
    p.add_argument("--older-than", type=moment, required=True, metavar="AGE|DATE",
                   help="forget runs that finished before then: an age (30d) or a date")
    p.add_argument("--dry-run", action="store_true", help="list what would go, delete nothing")
    p.add_argument("--format", choices=("text", "json"), default="text")


def main(args: argparse.Namespace) -> int:
    from engine.store import StoreError, open_store

    try:
        store = open_store(args.db, create=False)
        try:
            gone = store.delete_runs(args.older_than, dry_run=args.dry_run)
        finally:
            store.close()
    except StoreError as exc:
        return fail("prune", str(exc))
    if args.format == "json":
        json.dump({"dry_run": args.dry_run, "runs": gone}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    for run_id in gone:
        print(run_id)
    verb = "would forget" if args.dry_run else "forgot"
    print(f"{verb} {len(gone)} finished run(s)", file=sys.stderr)
    return EXIT_OK
