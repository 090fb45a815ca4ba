"""``flowspec-chargeback``: the pipeline's own maintenance commands under one name.

Each subcommand is the existing module entry point, so there is one implementation each:
``load-reference DIR`` and ``generate-reference OUT`` (processors.chargeback.reference) and
``verify-trail`` (processors.chargeback.compliance).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

USAGE = """usage: flowspec-chargeback COMMAND [ARGS]

commands:
  load-reference DIR [--db URL]        import reference CSV files (all or nothing)
  generate-reference OUT [--seed N]    write a fictitious, realistic reference set
  verify-trail [--db URL] [--run ID]   check the compliance trail's hash chain
"""


def _reference(verb: str) -> Callable[[list[str]], int]:
    def call(args: list[str]) -> int:
        from processors.chargeback.reference.__main__ import main as reference_main

        return reference_main([verb, *args])
    return call


def _verify(args: list[str]) -> int:
    from processors.chargeback.compliance import main as compliance_main

    return compliance_main(["verify", *args])


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "load-reference": _reference("load"),
    "generate-reference": _reference("generate"),
    "verify-trail": _verify,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if args else 2
    command = COMMANDS.get(args[0])
    if command is None:
        print(f"flowspec-chargeback: unknown command {args[0]!r}\n{USAGE}", file=sys.stderr, end="")
        return 2
    return command(args[1:])


if __name__ == "__main__":
    sys.exit(main())
