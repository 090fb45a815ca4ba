"""The claim travels once: intake stores it, later steps load it by reference and check it;
findings travel as JSON and decode to what the step found."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib.util
import json
import sys
import zlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from engine.canonical import dump_bytes
from engine.processors import StepContext, StepFailed, Upstream
from processors.chargeback.claim import (
    Address,
    Claim,
    ClaimLine,
    Envelope,
    Finding,
    Identifier,
    Issue,
    MalformedFinding,
    Party,
    decode_findings,
)
from processors.chargeback.claim_body import MARKER, encode_claim
from processors.chargeback.claim_store import REF_KEY, claim_from_upstream, load_claim, store_claim
from processors.chargeback.db import get_engine
from processors.chargeback.edi import ClaimFormatError, parse_844
from processors.chargeback.eligibility import ContractEligibility
from processors.chargeback.extract import ExtractIdentifiers
from processors.chargeback.reference import testing
from processors.chargeback.reference.testing import step_context

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "specs/samples"
SAMPLE = SAMPLES / "cb_rules_contract.edi"


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


# --- the stored body (claim_body): what a step in another process decodes ---------------------


def _cold_load(url: str, claim: Claim) -> Claim:
    """``claim`` stored, then loaded as a step in another process loads it."""
    ref = store_claim(url, "run-1", claim)
    _forget(url)
    return load_claim(url, ref)


def _intake_claims(tmp_path: Path) -> list[Claim]:
    """Every sample document intake reads (844s, the free text and the PDF), as it reads it."""
    step = ExtractIdentifiers({})
    context = StepContext(
        run_id="r1",
        workflow="chargeback",
        step="extract-identifiers",
        attempt=1,
        params={},
        env={"OPENAI_API_KEY": ""},  # offline: whoever runs the tests may have a key
        upstream={},
        workdir=tmp_path,
    )
    claims = []
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix in (".edi", ".txt", ".pdf"):
            try:
                claims.append(step.read(path.read_bytes(), context))
            except ClaimFormatError:
                continue  # a sample of a file that is refused
    return claims


def _bench_claim(lines: int, monkeypatch: pytest.MonkeyPatch) -> Claim:
    """The benchmark's generated claim (bench/bench_chargeback.py), as intake parses it. The
    bench is no package: it is loaded from its file, a module only while the test runs (its
    dataclasses look their module up)."""
    spec = importlib.util.spec_from_file_location("bench_chargeback", ROOT / "bench/bench_chargeback.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)
    spec.loader.exec_module(bench)
    return parse_844(bench.generate_844(lines))


def _every_kind_of_value() -> Claim:
    """A claim with what samples rarely have together: issues, credits, missing fields,
    candidate NDCs, decimals that are equal but written differently, no customer."""
    clinic = Party(
        "ST",
        "CLINIC",
        (Identifier("dea", "AB1234563", True, qualifier="11"), Identifier("hin", "X", False, "bad")),
        Address(("1 MAIN ST", "SUITE 2"), "DAYTON", "OH", "45402", None),
    )
    same_clinic = dataclasses.replace(clinic)  # equal, another object
    lines = (
        ClaimLine(1, "1", 1, "C1", "VA", clinic, "12345678901", "12345-6789-01", "N4", None, (),
                  "DRUG", Decimal(-2), "UN", Decimal("1E+2"), Decimal("80.00"), Decimal("-40.0"),
                  "INV1", "1", dt.date(2024, 3, 6), dt.date(2024, 3, 7)),
        ClaimLine(2, "2", 1, customer=same_clinic, ndc_problem="ambiguous",
                  ndc_candidates=("12345678901", "12345678902"), quantity=Decimal("0.000"),
                  issues=(Issue("quantity", "15", "missing"), Issue("wac", None, "a notice"))),
        ClaimLine(3, "3"),
    )
    envelope = Envelope("ZZ", "S", "ZZ", "R", "1", "2", "3", "A", "B", dt.date(2024, 3, 8), "1200", "P")
    return Claim("x12-844", "x12-844", "a" * 64, "DM1", dt.date(2024, 3, 8), lines, "05",
                 distributor=dataclasses.replace(clinic, role="DS"), total_claimed=Decimal(-40),
                 envelope=envelope, issues=(Issue("total_claimed", None, "differs"),))


def test_every_sample_claim_loads_cold_as_intake_read_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    claims = _intake_claims(tmp_path)
    assert {c.format for c in claims} == {"x12-844", "text", "pdf"}
    assert any(line.issues for c in claims for line in c.lines)
    assert any(line.is_credit for c in claims for line in c.lines)
    assert any(line.missing_fields for c in claims for line in c.lines)
    for claim in claims:
        loaded = _cold_load(url, claim)
        assert loaded == claim
        assert loaded is not claim


def test_the_bench_claim_loads_cold_as_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    claim = _bench_claim(600, monkeypatch)
    assert _cold_load(url, claim) == claim


def test_values_of_every_kind_load_exactly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    claim = _every_kind_of_value()
    loaded = _cold_load(url, claim)
    assert loaded == claim
    # equal is not enough for decimals: the 849 writes them as they were submitted
    assert [str(line.wac) for line in loaded.lines] == ["1E+2", "None", "None"]
    assert str(loaded.lines[1].quantity) == "0.000"


def test_lines_that_shared_a_customer_share_the_loaded_one(tmp_path: Path) -> None:
    """Steps compare customers by identity before value: one object per distinct customer."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    claim = parse_844((SAMPLES / "844_example.edi").read_bytes())
    distinct = {line.customer for line in claim.lines}
    assert len(distinct) < len(claim.lines)
    loaded = _cold_load(url, claim)
    by_value = {line.customer: line.customer for line in loaded.lines}
    assert by_value.keys() == distinct
    assert all(line.customer is by_value[line.customer] for line in loaded.lines)
    first, second = _cold_load(url, _every_kind_of_value()).lines[:2]
    assert first.customer is second.customer  # equal objects are one again


def _restore(url: str, ref: dict[str, Any], body: bytes) -> dict[str, Any]:
    """Replace the stored body of ``ref`` (as intake of another version would have written
    it) and return the reference naming it."""
    _forget(url)
    with get_engine(url).begin() as conn:
        conn.execute(
            text("UPDATE cb_claim SET body = :b WHERE id = :i"),
            {"b": zlib.compress(body), "i": ref["id"]},
        )
    return {**ref, "sha256": hashlib.sha256(body).hexdigest()}


def test_a_claim_stored_before_the_compact_body_still_loads(tmp_path: Path) -> None:
    """A run resumed across the upgrade loads the claim its intake stored the old way."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    claim = _every_kind_of_value()
    ref = _restore(url, store_claim(url, "run-1", claim), dump_bytes(claim.to_json()))
    assert load_claim(url, ref) == claim


def _body(claim: Claim) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(encode_claim(claim))
    return body


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change to the body at a dotted ``path`` (a number indexes a list)."""

    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return change


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda body: body["lines"].pop(key)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set(MARKER, 3), "claim_body 3 is not a format this version reads"),
        (_set("extra", 1), "expected the keys claim, claim_body, lines, parties"),
        (_set("claim.lines", []), "claim: expected an object of the claim's fields"),
        (_set("claim.format", "fax"), "claim.format: 'fax' is not one of"),
        (_set("parties", {}), "parties: expected a list"),
        (_set("parties.0.name", 7), r"parties\[0\]: party.name: expected str"),
        (_drop("wac"), "lines: expected one column for each of line, line_id"),
        (_set("lines.unit", "UN"), "lines.unit: expected a list, got str"),
        (_set("lines.line.1", True), r"lines.line\[1\]: expected an integer, got True"),
        (_set("lines.line_id.0", None), r"lines.line_id\[0\]: must not be null"),
        (_set("lines.wac.0", "lots"), r"lines.wac\[0\]: 'lots' is not a decimal number"),
        (_set("lines.wac.0", 100), r"lines.wac\[0\]: a decimal travels as a string"),
        (_set("lines.ship_date.0", "07/03/2024"), r"lines.ship_date\[0\]: '07/03/2024' is not an ISO"),
        (_set("lines.ndc_candidates.1", ["1", 2]), r"lines.ndc_candidates\[1\]\[1\]: expected str"),
        (_set("lines.issues.1.0", {"field": "x"}), r"lines.issues\[1\]\[0\]: .*required"),
        (_set("lines.customer.0", 5), r"lines.customer: a party index outside 0..0"),
        (_set("lines.customer.0", -1), r"lines.customer: a party index outside 0..0"),
        (_set("lines.customer.0", "0"), r"lines.customer\[0\]: expected an integer"),
        (_set("lines.invoice_line", [None]), "lines: the columns are not all of one length"),
    ],
)
def test_a_malformed_body_is_a_clear_failure(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    claim = _every_kind_of_value()
    body = _body(claim)
    change(body)
    ref = _restore(url, store_claim(url, "run-1", claim), orjson.dumps(body))
    with pytest.raises(StepFailed, match=f"the stored claim {ref['id']} is malformed: {message}"):
        load_claim(url, ref)


@pytest.mark.parametrize("body", [b"[1, 2]", b"{not json", b'"text"'])
def test_a_body_that_is_no_claim_is_a_clear_failure(tmp_path: Path, body: bytes) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    ref = _restore(url, store_claim(url, "run-1", _claim()), body)
    with pytest.raises(StepFailed, match="is malformed"):
        load_claim(url, ref)
