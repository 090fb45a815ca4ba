"""Rule ids come from one registry (processors/chargeback/rules.py): no rule step names a rule
by a loose string, and a line's reasons are ordered as the brief's §8 orders its rules."""

from __future__ import annotations

import ast
from pathlib import Path

from processors.chargeback import rules

PACKAGE = Path(rules.__file__).parent
#: calls whose argument at this position is a rule id
RULE_ARGUMENT = {"Finding": 1, "_Reject": 0}


def _literal_rules() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            index = RULE_ARGUMENT.get(str(name), 0 if name == "add" and "federal" in path.name
                                      else None)
            if index is None or len(node.args) <= index:
                continue
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append(f"{path.name}:{node.lineno}: {arg.value!r}")
    return found


def test_no_rule_step_names_a_rule_by_a_loose_string() -> None:
    assert _literal_rules() == []


def test_reasons_follow_the_briefs_order_with_the_other_checks_after_it() -> None:
    ids = sorted(rules.RULES, key=rules.rank)
    numbered = [i for i in ids if i[0] == "R"]
    assert numbered == sorted(numbered)  # R02 < R06 < R06-customer < R08-R16 < R20
    assert ids[len(numbered):] == ["340B", "NPI", "SAP"]
    assert rules.rank("unknown")[0] == len(rules.RULES)
