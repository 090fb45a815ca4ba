"""``flowspec schema``: the JSON Schema editors use for completion and hover.

``--output`` writes it where another repository's editor settings or schema catalog point, so
a project that only installs flowspec need not copy it by hand (or vendor this repository).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", "-o", metavar="PATH",
                   help="write the schema to PATH (folders are created) instead of stdout")


def main(args: argparse.Namespace) -> int:
    from engine.schema import schema_path

    text = schema_path().read_text(encoding="utf-8")
    if args.output is None:
        sys.stdout.write(text)
        return 0
    target = Path(args.output)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"flowspec schema: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}", file=sys.stderr)
    return 0
