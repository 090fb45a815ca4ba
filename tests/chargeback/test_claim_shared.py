"""Published JSON that several steps read (the claim, a rule step's findings) is decoded once,
and only that very object's decoding is reused."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from engine.processors import Upstream
from processors.chargeback.claim import (
    Claim,
    ClaimLine,
    Finding,
    decode_findings,
    shared_claim,
    shared_findings,
)
from processors.chargeback.edi import parse_844
from processors.chargeback.eligibility import ContractEligibility
from processors.chargeback.reference import testing
from processors.chargeback.reference.testing import step_context
from processors.chargeback.resolution import gather_findings


def _wire(debit_memo: str = "DM1") -> dict[str, object]:
    lines = (ClaimLine(line=1, line_id="1", quantity=Decimal(2)),)
    return Claim("x12-844", "x12-844", "0" * 64, debit_memo, None, lines).to_json()


def test_the_same_object_is_decoded_once() -> None:
    wire = _wire()
    first = shared_claim(wire)
    assert first == Claim.from_json(wire)
    assert shared_claim(wire) is first


def test_an_equal_but_other_object_is_decoded_anew() -> None:
    wire, twin = _wire(), _wire()
    assert shared_claim(twin) == shared_claim(wire)
    assert shared_claim(twin) is not shared_claim(wire)


def test_only_the_last_few_objects_are_kept() -> None:
    wire = _wire()
    first = shared_claim(wire)
    for n in range(3):
        shared_claim(_wire(f"DM{n}"))
    assert shared_claim(wire) is not first  # forgotten, decoded again


def test_a_malformed_claim_fails_every_time() -> None:
    wire = _wire()
    wire["format"] = "csv"
    for _ in range(2):
        with pytest.raises(ValueError, match="claim.format"):
            shared_claim(wire)


def test_parallel_steps_share_one_decoding() -> None:
    wire = _wire()
    with ThreadPoolExecutor(max_workers=4) as pool:
        claims = list(pool.map(lambda _: shared_claim(wire), range(8)))
    assert all(c is claims[0] for c in claims)


def test_findings_are_decoded_once_for_every_step_reading_them(tmp_path: Path) -> None:
    raw = [Finding(n, "R10", "pass", None, "in force").to_json() for n in (1, 2)]
    upstream = {"contract-eligibility": Upstream("Succeeded", {}, {"findings": raw})}
    context = testing.context(tmp_path, upstream, step="sap-customer-creation")
    first = [f for _, f in gather_findings(context).findings]
    again = [f for _, f in gather_findings(context).findings]
    assert [f.line for f in first] == [1, 2]
    assert all(a is b for a, b in zip(first, again, strict=True))


def test_what_a_step_published_and_kept_is_never_decoded() -> None:
    wire = _wire()
    claim = Claim.from_json(_wire())
    shared_claim.keep(wire, claim)
    assert shared_claim(wire) is claim
    findings = (Finding(1, "R10", "adjust", "06", "price", Decimal("12.50")),)
    raw = [f.to_json() for f in findings]
    shared_findings.keep(raw, findings)
    assert shared_findings(raw) is findings


def test_a_rule_step_keeps_exactly_what_decoding_its_findings_gives(tmp_path: Path) -> None:
    """A rule step hands later steps its findings themselves; a resumed run or a pod decodes
    the published JSON instead, and must get the same findings."""
    document = Path(__file__).resolve().parents[2] / "specs/samples/cb_rules_contract.edi"
    url = f"sqlite:///{tmp_path / 'store.db'}"
    context = step_context(parse_844(document.read_bytes()), url, tmp_path)
    published = ContractEligibility({}).process(context).data["findings"]
    kept = shared_findings(published)
    assert any(f.outcome != "pass" for f in kept)
    assert decode_findings(json.loads(json.dumps(published))) == kept
