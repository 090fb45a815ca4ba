"""The chargeback pipeline on PostgreSQL: the batched ledger reads and writes, the customer
batch, the bulk-settled ledger and the bulk-appended, checkpointed trail all run on the
server the CI provides, not only on SQLite."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from engine.executor.result import RunResult
from engine.local import run
from processors.chargeback import compliance
from processors.chargeback.claim import Claim, ClaimLine, Identifier, Party
from processors.chargeback.reference.testing import step_context
from processors.chargeback.sap import SapCustomerCreation

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "specs" / "chargeback.yaml"
EXAMPLE = REPO / "specs" / "samples" / "844_example.edi"


def _decisions(result: RunResult) -> dict[int, tuple[str, tuple[str, ...]]]:
    data = result.steps["chargeback-resolution"].data
    return {d["line"]: (d["status"], tuple(d["reason_codes"])) for d in data["decisions"]}


def test_a_claim_and_its_duplicate_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    first = run(SPEC, {"document": str(EXAMPLE)}, store=pg_url, workdir=tmp_path / "1")
    assert first.phase == "Succeeded"
    assert _decisions(first) == {
        1: ("accept", ()),
        2: ("accept", ()),
        3: ("adjust", ("06",)),
        4: ("reject", ("28",)),
    }
    sap = first.steps["sap-customer-creation"]
    assert sap.phase == "Succeeded" and sap.outputs["conflicts"] == 0
    assert all(c["number"] for c in sap.data["customers"] if c["action"] != "skipped")

    again = run(SPEC, {"document": str(EXAMPLE)}, store=pg_url, workdir=tmp_path / "2")
    assert again.steps["duplicate-check"].outputs["is_duplicate"] is True
    assert all(status == "reject" for status, _ in _decisions(again).values())
    assert again.steps["sap-customer-creation"].phase == "Omitted"  # not every check ran

    trail = again.steps["compliance-trail"]
    assert trail.data["chain_ok"] is True
    report = Path(trail.outputs["report_path"]).read_text("utf-8")
    assert "as an earlier run verified them" in report  # from the first run's checkpoint
    assert compliance.main(["verify", "--db", pg_url]) == 0


def test_new_customers_are_created_once_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    parties = [
        Party("ST", f"PHARMACY {n}", (Identifier("dea", f"AB{n:07d}", True),)) for n in range(3)
    ]
    lines = tuple(
        ClaimLine(line=n, line_id=str(n), customer=p, quantity=Decimal(1))
        for n, p in enumerate([*parties, parties[0]], start=1)
    )
    claim = Claim("x12-844", "x12-844", "0" * 64, "DM1", None, lines)
    context = step_context(claim, pg_url, tmp_path)
    first = SapCustomerCreation({}).process(context)
    assert dict(first.outputs) == {"created": 3, "updated": 0, "unchanged": 0, "conflicts": 0}
    again = SapCustomerCreation({}).process(context)
    assert dict(again.outputs) == {"created": 0, "updated": 0, "unchanged": 3, "conflicts": 0}
    assert [c["number"] for c in again.data["customers"]] == [
        c["number"] for c in first.data["customers"]
    ]
