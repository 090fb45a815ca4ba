"""``flowspec explain CODE``: what a diagnostic means and how to fix it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.diagnostics import Code


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("code", nargs="?", help="a code such as FS207")


def registered_codes() -> Mapping[str, Code]:
    """Every diagnostic code: each is declared where its check lives, so those modules are
    imported first (the editor's hover shows the same text)."""
    import engine.compile.codes
    import engine.compile.versions
    import engine.ignores
    import engine.loader
    import engine.rules
    import engine.schema  # noqa: F401
    from engine.diagnostics import CODES

    return CODES


def main(args: argparse.Namespace) -> int:
    from engine.diagnostics import did_you_mean

    codes = registered_codes()
    if not args.code:
        for listed in sorted(codes.values(), key=lambda c: c.id):
            silenceable = " (silenceable)" if listed.silenceable else ""
            print(f"{listed.id}  {listed.severity:<7}  {listed.title}{silenceable}")
        print("\nTo accept a warning (or a silenceable error) where it is, end its line with "
              "`# flowspec: ignore[CODE]`; `flowspec explain FS011` tells more.")
        return 0
    wanted = args.code.strip().upper()
    if wanted.isdigit():
        wanted = f"FS{int(wanted):03d}"
    c = codes.get(wanted)
    if c is None:
        hint = did_you_mean(wanted, codes) or "run 'flowspec explain' to list every code"
        print(f"flowspec explain: unknown code {args.code!r}; {hint}", file=sys.stderr)
        return 2
    print(f"{c.id}: {c.title} ({c.severity})\n\n{c.explanation}")
    if c.silenceable:
        print(f"\nSilenceable: where it is wanted, end the line with "
              f"`# flowspec: ignore[{c.id}]`.")
    return 0
