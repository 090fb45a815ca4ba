"""The claim travels once: intake stores it, later steps load it by reference and check it;
findings travel as JSON and decode to what the step found."""

from __future__ import annotations

import json
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.processors import StepFailed, Upstream
from processors.chargeback.claim import (
    Claim,
    ClaimLine,
    Finding,
    MalformedFinding,
    decode_findings,
)
from processors.chargeback.claim_store import REF_KEY, claim_from_upstream, load_claim, store_claim
from processors.chargeback.db import get_engine
from processors.chargeback.edi import parse_844
from processors.chargeback.eligibility import ContractEligibility
from processors.chargeback.reference import testing
from processors.chargeback.reference.testing import step_context

SAMPLE = Path(__file__).resolve().parents[2] / "specs/samples/cb_rules_contract.edi"


def _claim(debit_memo: str = "DM1") -> Claim:
    lines = (ClaimLine(line=1, line_id="1", quantity=Decimal(2)),)
    return Claim("x12-844", "x12-844", "0" * 64, debit_memo, None, lines)


def _forget(url: str) -> None:
    """Push the claims stored so far out of the few this process keeps decoded, as a step in
    another process (a pod, a resumed run) starts without them."""
    for n in range(3):
        store_claim(url, "other-run", _claim(f"OTHER{n}"))


def test_the_reference_is_small_and_loads_the_same_claim(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    claim = parse_844(SAMPLE.read_bytes())
    ref = store_claim(url, "run-1", claim)
    assert set(ref) == {"id", "sha256", "debit_memo", "lines"}
    assert len(json.dumps(ref)) < 200
    _forget(url)
    assert load_claim(url, ref) == claim


def test_a_retried_intake_stores_the_claim_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first = store_claim(url, "run-1", _claim())
    assert store_claim(url, "run-1", _claim()) == first
    with get_engine(url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cb_claim")).scalar() == 1


def test_a_claim_changed_in_the_database_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    ref = store_claim(url, "run-1", _claim())
    _forget(url)
    other = json.dumps(_claim("DM2").to_json()).encode()
    with get_engine(url).begin() as conn:
        conn.execute(
            text("UPDATE cb_claim SET body = :b WHERE id = :i"),
            {"b": zlib.compress(other), "i": ref["id"]},
        )
    with pytest.raises(StepFailed, match="does not match its digest"):
        load_claim(url, ref)


@pytest.mark.parametrize(
    ("ref", "message"),
    [({"id": "7"}, "malformed"), ({"id": 999, "sha256": "f" * 64}, "no stored claim 999")],
)
def test_a_bad_reference_is_a_clear_failure(tmp_path: Path, ref: object, message: str) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with pytest.raises(StepFailed, match=message):
        load_claim(url, ref)


def test_a_step_without_an_intake_ancestor_says_so(tmp_path: Path) -> None:
    context = testing.context(tmp_path, {"other": Upstream("Succeeded", {}, {})}, "sqlite://")
    with pytest.raises(StepFailed, match="no claim found in any upstream step"):
        claim_from_upstream(context)


def test_the_claim_is_found_by_its_reference_whatever_intake_is_called(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    claim = _claim()
    upstream = {"read-it": Upstream("Succeeded", {}, {REF_KEY: store_claim(url, "run-1", claim)})}
    assert claim_from_upstream(testing.context(tmp_path, upstream, url)) == ("read-it", claim)


def test_published_findings_decode_to_what_the_step_found(tmp_path: Path) -> None:
    """A step in another process (a pod, a resumed run) reads the published JSON: compact
    rows, one per finding."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    context = step_context(parse_844(SAMPLE.read_bytes()), url, tmp_path)
    published = ContractEligibility({}).process(context).data["findings"]
    decoded = decode_findings(json.loads(json.dumps(published)))
    assert any(f.outcome != "pass" for f in decoded)
    assert [f.to_row() for f in decoded] == published


def test_a_finding_row_of_the_wrong_length_is_malformed() -> None:
    with pytest.raises(MalformedFinding, match="a finding row has 3 values"):
        decode_findings([[1, "R10", "pass", None, "ok"], [1, "R10", "pass"]])

def test_a_finding_of_another_shape_is_still_judged_by_its_fields() -> None:
    finding = Finding(3, "R10", "adjust", "06", "price", Decimal("12.50"))
    assert decode_findings([{**finding.to_json(), "amount": "12.50"}]) == (finding,)
    with pytest.raises(ValueError, match="outcome"):
        decode_findings([{**finding.to_json(), "outcome": "maybe"}])
