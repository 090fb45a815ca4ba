"""Rule steps reach reference data only through ``processors/chargeback/reference/``: none of
them builds a query of its own around it (issue 13 item 9)."""

from __future__ import annotations

import ast
from pathlib import Path

from processors.chargeback import rules

PACKAGE = Path(rules.__file__).parent
#: the modules that decide claim lines from reference data (the SAP step writes the customer
#: master it keeps, the claim store and review queue their own tables: not reference reads)
RULE_MODULES = (
    "authorization.py",
    "dea_identity.py",
    "duplicates.py",
    "eligibility.py",
    "federal.py",
    "quantity.py",
    "resolution.py",
    "roster.py",
    "timeliness.py",
)
QUERY_CALLS = {"select", "execute", "scalar", "scalars", "query"}


def _queries(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in QUERY_CALLS:
                found.append(f"{path.name}:{node.lineno}: {name}(...)")
    return found


def test_rule_steps_ask_reference_questions_only_through_the_reference_package() -> None:
    assert [q for name in RULE_MODULES for q in _queries(PACKAGE / name)] == []


def test_the_check_finds_a_query() -> None:
    assert _queries(PACKAGE / "reference" / "lookup.py")
