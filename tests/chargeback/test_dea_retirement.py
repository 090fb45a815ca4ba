"""A retired DEA registration is judged on the invoice date (brief §9.4): a sale made while it
was active passes, one made after it stopped does not (R19)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from processors.chargeback.claim import Finding, decode_findings
from processors.chargeback.db import session_scope
from processors.chargeback.federal import FederalDbValidation
from processors.chargeback.reference import lookup
from processors.chargeback.reference import models as m
from processors.chargeback.reference.generate import dea_with_check
from processors.chargeback.reference.loader import ReferenceLoadError
from processors.chargeback.reference.testing import (
    ReferenceSet,
    claim,
    claim_line,
    party,
    step_context,
)

C2 = "12345000102"
RETIRED = dea_with_check("AR", "246810")  # retired 2024-03-10
UNDATED = dea_with_check("AU", "135791")  # inactive, nobody knows since when


def registration(**values: object) -> m.DeaRegistration:
    return m.DeaRegistration(dea_no=RETIRED, expiration_date=date(2026, 6, 30), **values)


@pytest.mark.parametrize(
    ("values", "day", "active"),
    [
        ({"active": True}, date(2024, 3, 12), True),
        ({"active": False, "inactive_from": date(2024, 3, 10)}, date(2024, 3, 9), True),
        ({"active": False, "inactive_from": date(2024, 3, 10)}, date(2024, 3, 10), False),
        ({"active": False}, date(2020, 1, 1), False),
    ],
)
def test_active_on_the_day(values: dict[str, object], day: date, active: bool) -> None:
    assert registration(**values).active_on(day) is active


def _base(ref: ReferenceSet) -> ReferenceSet:
    ref.add("products", ndc11=C2, dea_schedule="2")
    ref.add("contracts", contract_id="C-GPO", gpo_id="G1")
    ref.add(
        "dea",
        dea_no=RETIRED,
        bac="A",
        expiration_date="2026-06-30",
        active="N",
        inactive_from="2024-03-10",
    )
    ref.add("dea", dea_no=UNDATED, bac="A", expiration_date="2026-06-30", active="N")
    return ref


def screen(url: str, tmp_path: Path, dea: str, day: str) -> list[Finding]:
    line = claim_line(
        1, party("RIDGEWAY PHARMACY", dea=dea), contract_id="C-GPO", ndc11=C2, invoice_date=day
    )
    result = FederalDbValidation({}).process(step_context(claim(line), url, tmp_path))
    return list(decode_findings(result.data["findings"]))


def test_a_sale_before_the_retirement_passes_one_after_it_is_26(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    _base(ReferenceSet()).load(tmp_path / "ref", url)
    before = screen(url, tmp_path, RETIRED, "2024-03-09")
    assert not [f for f in before if f.outcome != "pass"]
    after = [f for f in screen(url, tmp_path, RETIRED, "2024-03-10") if f.rule == "R19"]
    assert [(f.outcome, f.code) for f in after] == [("reject", "26")]
    assert "inactive (retired or revoked) since 2024-03-10" in after[0].message
    undated = [f for f in screen(url, tmp_path, UNDATED, "2021-01-04") if f.rule == "R19"]
    assert [(f.outcome, f.code) for f in undated] == [("reject", "26")]


def test_a_newer_snapshot_that_turns_a_registration_inactive_dates_it(tmp_path: Path) -> None:
    """Active in the 2024-03-01 file, inactive (no date) in the 2024-04-01 one: it stopped
    after 2024-03-01, so the loader records 2024-03-02; a third file keeps that date."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    first = ReferenceSet("2024-03-01")
    first.add("dea", dea_no=UNDATED, bac="A", expiration_date="2026-06-30")
    first.load(tmp_path / "one", url)
    second = ReferenceSet("2024-04-01")
    second.add("dea", dea_no=UNDATED, bac="A", expiration_date="2026-06-30", active="N")
    second.load(tmp_path / "two", url)
    third = ReferenceSet("2024-05-01")
    third.add(
        "dea", dea_no=UNDATED, bac="A", name="RENAMED", expiration_date="2026-06-30", active="N"
    )
    third.load(tmp_path / "three", url)
    with session_scope(url) as session:
        (row,) = session.scalars(select(m.DeaRegistration)).all()
        assert (row.active, row.inactive_from, row.name) == (False, date(2024, 3, 2), "RENAMED")
        assert lookup.dea_status(session, (UNDATED, date(2024, 3, 1))).active
        assert not lookup.dea_status(session, (UNDATED, date(2024, 3, 2))).active


def test_an_active_registration_cannot_have_an_inactive_date(tmp_path: Path) -> None:
    ref = ReferenceSet()
    ref.add(
        "dea", dea_no=RETIRED, bac="A", expiration_date="2026-06-30", inactive_from="2024-03-10"
    )
    with pytest.raises(ReferenceLoadError) as error:
        ref.load(tmp_path / "ref", f"sqlite:///{tmp_path / 'state.db'}")
    assert error.value.errors == [
        (
            f"{tmp_path / 'ref' / 'dea.csv'}:2: column inactive_from: only an inactive registration "
            "(active N) has one"
        )
    ]
