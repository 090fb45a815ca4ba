"""SAP customer creation through the store gateway: real SQLite files, KNA1/KNB1/KNVV rows."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.processors import StepContext, StepFailed, StepResult, Upstream
from processors.chargeback.claim import (
    Address,
    Claim,
    ClaimLine,
    Finding,
    Identifier,
    Party,
    decode_findings,
)
from processors.chargeback.db import get_engine
from processors.chargeback.reference import testing
from processors.chargeback.reference.models import (
    SapCreateRequest,
    SapCustomerIdentifier,
    SapKna1,
    SapKnb1,
    SapKnvv,
)
from processors.chargeback.sap import SapCustomerCreation, request_key


def _id(kind: str, value: str, valid: bool = True) -> Identifier:
    return Identifier(kind, value, valid)  # type: ignore[arg-type]


HOSPITAL = Party(
    "ST",
    "ST ELSEWHERE GENERAL HOSPITAL",
    (_id("dea", "BS4182301"), _id("hin", "A1B2C3D00"), _id("gln", "1234567890128")),
    Address(("1 HOSPITAL DR",), "SPRINGFIELD", "OH", "45501"),
)
CLINIC = Party(
    "ST",
    "RIVERBEND COMMUNITY CLINIC",
    (_id("dea", "FR5529017"), _id("hin", "R7K2M9P00")),
    Address(("22 RIVER RD",), "DAYTON", "OH", "45402"),
)


def _claim(*customers: Party) -> Claim:
    lines = tuple(
        ClaimLine(line=n, line_id=str(n), customer=party, quantity=Decimal(1))
        for n, party in enumerate(customers, start=1)
    )
    return Claim("x12-844", "x12-844", "0" * 64, "DM1", None, lines)


def _context(tmp_path: Path, claim: Claim, findings: list[Finding] | None = None) -> StepContext:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upstream = {"extract-identifiers": testing.intake(claim, url)}
    if findings is not None:
        upstream["contract-eligibility"] = Upstream(
            "Succeeded", {}, {"findings": [f.to_json() for f in findings]}
        )
    return testing.context(tmp_path, upstream, url, step="sap-customer-creation")


def _run(
    tmp_path: Path, claim: Claim, config: Mapping[str, Any] | None = None, **kw: Any
) -> StepResult:
    return SapCustomerCreation(config or {}).process(_context(tmp_path, claim, **kw))


def _session(tmp_path: Path) -> Session:
    return Session(get_engine(f"sqlite:///{tmp_path / 'store.db'}"))


def _count(tmp_path: Path, model: Any) -> int:
    with _session(tmp_path) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _existing(tmp_path: Path, kunnr: str, name: str, ids: list[tuple[str, str]]) -> None:
    with _session(tmp_path) as s, s.begin():
        s.add(SapKna1(kunnr=kunnr, name1=name))
        s.add_all(SapCustomerIdentifier(kunnr=kunnr, id_type=t, id_number=n) for t, n in ids)


def test_creates_each_ship_to_customer_in_kna1_knb1_knvv(tmp_path: Path) -> None:
    result = _run(tmp_path, _claim(HOSPITAL, HOSPITAL, CLINIC))
    assert dict(result.outputs) == {"created": 2, "updated": 0, "unchanged": 0, "conflicts": 0}
    with _session(tmp_path) as s:
        hospital = s.get(SapKna1, ("100", "0000900000"))
        assert hospital is not None
        assert (hospital.name1, hospital.ort01, hospital.pstlz, hospital.regio) == (
            "ST ELSEWHERE GENERAL HOSPITAL",
            "SPRINGFIELD",
            "45501",
            "OH",
        )
        assert (hospital.bbbnr, hospital.bbsnr, hospital.bubkz) == ("1234567", "89012", "8")
        assert s.get(SapKnb1, ("100", "0000900000", "1000")).akont == "0012100000"  # type: ignore[union-attr]
        assert s.get(SapKnvv, ("100", "0000900001", "1000", "10", "00")) is not None
        ids = set(s.execute(select(SapCustomerIdentifier.kunnr, SapCustomerIdentifier.id_type)))
        assert ids == {
            ("0000900000", "HIN"),
            ("0000900000", "DEA"),
            ("0000900000", "GLN"),
            ("0000900001", "HIN"),
            ("0000900001", "DEA"),
        }
    assert [c["lines"] for c in result.data["customers"]] == [[1, 2], [3]]


def test_a_rerun_or_a_parallel_run_never_creates_a_second_customer(tmp_path: Path) -> None:
    claim = _claim(HOSPITAL, CLINIC)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [f.result() for f in [pool.submit(_run, tmp_path, claim) for _ in range(2)]]
    again = _run(tmp_path, claim)
    assert dict(again.outputs) == {"created": 0, "updated": 0, "unchanged": 2, "conflicts": 0}
    assert sum(int(r.outputs["created"]) for r in results) == 2
    assert _count(tmp_path, SapKna1) == 2
    assert _count(tmp_path, SapCreateRequest) == 2


def test_request_key_ignores_order_and_depends_on_every_identifier() -> None:
    a = request_key([("HIN", "A1B2C3D00"), ("DEA", "BS4182301")])
    assert a == request_key([("DEA", "BS4182301"), ("HIN", "A1B2C3D00")])
    assert a != request_key([("DEA", "BS4182301")])


def test_an_existing_customer_found_by_dea_gets_the_missing_identifiers(tmp_path: Path) -> None:
    _existing(tmp_path, "0000100042", "ST ELSEWHERE GENERAL", [("DEA", "BS4182301")])
    result = _run(tmp_path, _claim(HOSPITAL))
    assert dict(result.outputs) == {"created": 0, "updated": 1, "unchanged": 0, "conflicts": 0}
    assert result.data["customers"][0]["number"] == "0000100042"
    with _session(tmp_path) as s:
        held = set(
            s.scalars(
                select(SapCustomerIdentifier.id_type).where(
                    SapCustomerIdentifier.kunnr == "0000100042"
                )
            )
        )
    assert held == {"DEA", "HIN", "GLN"}
    assert _count(tmp_path, SapKna1) == 1


def test_identifiers_of_two_customers_are_a_conflict_for_review(tmp_path: Path) -> None:
    _existing(tmp_path, "0000100001", "ST ELSEWHERE GENERAL", [("DEA", "BS4182301")])
    _existing(tmp_path, "0000100002", "SPRINGFIELD CLINIC", [("HIN", "A1B2C3D00")])
    result = _run(tmp_path, _claim(HOSPITAL, HOSPITAL))
    assert result.outputs["conflicts"] == 1 and result.outputs["created"] == 0
    findings = list(decode_findings(result.data["findings"]))
    assert [(f.line, f.outcome, f.code) for f in findings] == [
        (1, "review", "25"),
        (2, "review", "25"),
    ]
    assert "0000100001, 0000100002" in findings[0].message
    assert _count(tmp_path, SapKna1) == 2


def test_a_different_hin_on_the_customer_is_not_silently_added(tmp_path: Path) -> None:
    _existing(tmp_path, "0000100001", "ST ELSEWHERE", [("DEA", "BS4182301"), ("HIN", "Z9Z9Z9Z00")])
    result = _run(tmp_path, _claim(HOSPITAL))
    assert result.outputs["conflicts"] == 1
    assert "HIN A1B2C3D00 (SAP has Z9Z9Z9Z00)" in result.data["customers"][0]["message"]
    assert _count(tmp_path, SapCustomerIdentifier) == 2


def test_another_gln_or_npi_of_the_customer_is_a_warning_not_a_conflict(tmp_path: Path) -> None:
    """Issue 13: a valid GLN nobody holds, sent with the DEA and HIN that found the customer,
    held the line (25) while a GLN failing its check digit passed. A customer has a GLN per
    location and an NPI per subpart: a new one is noted, not added and not a conflict."""
    held = [("DEA", "BS4182301"), ("HIN", "A1B2C3D00"), ("GLN", "0360007777771")]
    _existing(tmp_path, "0000100001", "ST ELSEWHERE", [*held, ("NPI", "1234567893")])
    other_npi = Party("ST", HOSPITAL.name, (*HOSPITAL.identifiers, _id("npi", "2987654326")))
    result = _run(tmp_path, _claim(HOSPITAL, other_npi))
    assert dict(result.outputs) == {"created": 0, "updated": 0, "unchanged": 2, "conflicts": 0}
    findings = list(decode_findings(result.data["findings"]))
    assert [(f.line, f.outcome) for f in findings] == [(1, "pass"), (2, "pass")]
    assert "does not hold GLN 1234567890128;" in findings[0].message
    assert "does not hold GLN 1234567890128, NPI 2987654326;" in findings[1].message
    assert _count(tmp_path, SapCustomerIdentifier) == 4


def test_customers_without_usable_ids_or_with_every_line_rejected_are_skipped(
    tmp_path: Path,
) -> None:
    nobody = Party("ST", "NO ID PHARMACY", (_id("dea", "XX0000000", valid=False),))
    rejected = [Finding(2, "R17", "reject", "26", "not on the roster")]
    result = _run(tmp_path, _claim(nobody, CLINIC), findings=rejected)
    assert dict(result.outputs) == {"created": 0, "updated": 0, "unchanged": 0, "conflicts": 0}
    assert [c["action"] for c in result.data["customers"]] == ["skipped", "skipped"]
    assert _count(tmp_path, SapKna1) == 0


def test_number_range_is_configurable_and_its_end_is_a_clear_error(tmp_path: Path) -> None:
    config = {"number_range": ["0000500000", "0000500000"], "company_code": "2000"}
    first = _run(tmp_path, _claim(HOSPITAL), config)
    assert first.data["customers"][0]["number"] == "0000500000"
    with _session(tmp_path) as s:
        assert s.get(SapKnb1, ("100", "0000500000", "2000")) is not None
    with pytest.raises(StepFailed, match="number range 0000500000-0000500000 is exhausted"):
        _run(tmp_path, _claim(CLINIC), config)
