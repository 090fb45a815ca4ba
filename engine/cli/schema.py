"""``flowspec schema``: the JSON Schema editors use for completion and hover."""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def main(args: argparse.Namespace) -> int:
    from engine.schema import schema_path

    sys.stdout.write(schema_path().read_text(encoding="utf-8"))
    return 0
