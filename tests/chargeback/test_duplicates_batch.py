"""duplicate-check on a claim with more keys than one IN list takes (the store is asked about
all of them at once): every line must get the same verdict it would get alone (R06 paid, R07
delta, pending review, soft-key review, never claimed), wherever its keys fall among the
others. test_history checks the look-up itself on PostgreSQL and the other databases' way."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

from processors.chargeback.claim import decode_findings
from processors.chargeback.db import KEYS_PER_QUERY
from processors.chargeback.duplicates import DuplicateCheck
from processors.chargeback.reference.testing import (
    ReferenceSet,
    claim,
    claim_line,
    party,
    step_context,
)

HOSPITAL = {"dea": "BS4182301", "hin": "A1B2C3D00"}
#: more lines than the keys one query takes, times the three keys a line is looked up under
LINES = 2 * KEYS_PER_QUERY // 3 + 7


def _invoice(n: int) -> str:
    return f"INV{n:05d}"


def _expected(n: int) -> tuple[str, str | None, str]:
    """What line ``n`` is, by construction of the ledger below."""
    kind = n % 5
    if kind == 0:
        return ("reject", "28", "duplicate: quantity 10 already paid")
    if kind == 1:
        return ("adjust", "28", "resubmission: quantity 4 already paid")
    if kind == 2:
        return ("review", "25", "the same invoice line is still pending")
    if kind == 3:
        return ("review", "25", "possible duplicate under another invoice line number")
    return ("pass", None, "not claimed before")


def test_every_line_of_a_large_claim_is_decided_as_if_checked_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    ref = ReferenceSet()
    ref.add("sap_customers", kunnr="1", name1="ST ELSEWHERE GENERAL HOSPITAL", **HOSPITAL)
    ref.add("wholesaler_dc", dc_key="DC1", dea="RA7301194")
    common = {
        "dm_no": "DM-OLD",
        "ndc11": "12345678901",
        "customer_key": "0000000001",
        "invoice_date": "2024-03-04",
        "amount": "425.00",
    }
    for n in range(1, LINES + 1):
        row = {**common, "line_no": str(n), "invoice_no": _invoice(n)}
        kind = n % 5
        if kind == 0:
            ref.add("claim_history", **row, quantity="10", paid_quantity="10")
        elif kind == 1:
            ref.add("claim_history", **row, quantity="4", paid_quantity="4")
        elif kind == 2:
            ref.add("claim_history", **row, quantity="10", status="PENDING")
        elif kind == 3:
            ref.add("claim_history", **row, quantity="10", invoice_line="7", paid_quantity="10")
    ref.load(tmp_path / "ref", url)

    lines = [
        claim_line(n, party(**HOSPITAL), invoice_number=_invoice(n)) for n in range(1, LINES + 1)
    ]
    result = DuplicateCheck({}).process(step_context(claim(*lines), url, tmp_path))

    found = list(decode_findings(result.data["findings"]))
    assert [f.line for f in found] == list(range(1, LINES + 1))
    for f in found:
        outcome, code, message = _expected(f.line)
        assert (f.outcome, f.code) == (outcome, code), f
        assert f.message.startswith(message), f
    # kind 1 pays the delta 10 - 4 = 6 at (125.00 - 82.50) each
    assert {f.amount for f in found if f.outcome == "adjust"} == {Decimal("255.00")}
    assert result.data["net_quantity"] == {str(n): "6" for n in range(1, LINES + 1) if n % 5 == 1}
    assert result.outputs["duplicate_lines"] == Counter(n % 5 for n in range(1, LINES + 1))[0]
