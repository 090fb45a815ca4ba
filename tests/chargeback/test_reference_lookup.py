"""Date logic of the reference lookups, as pure functions over model rows (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from processors.chargeback.reference import lookup
from processors.chargeback.reference import models as m

D = date.fromisoformat
FULL_FILES = [D("2022-06-10"), D("2024-03-11")]


def leie(**kw: object) -> m.LeieExclusion:
    values: dict[str, object] = {
        "excldate": D("2021-01-10"),
        "excltype": "1128b4",
        "reindate": None,
        "waiverdate": None,
        "wvrstate": "",
        "first_seen": D("2022-06-10"),
        "last_seen_full": D("2022-06-10"),
    }
    values.update(kw)
    return m.LeieExclusion(**values)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2021-01-09", "clear"),
        ("2021-01-10", "excluded"),
        ("2022-06-15", "excluded"),
        ("2023-04-30", "excluded"),
        ("2023-05-01", "clear"),
        ("2023-06-15", "clear"),
    ],
)
def test_reinstated_exclusion_with_rein_date(day: str, expected: str) -> None:
    """Brief §9.3: excluded 2021-01-10, reinstated 2023-05-01, gone from the current file."""
    state, _why = lookup.leie_status(leie(reindate=D("2023-05-01")), D(day), FULL_FILES)
    assert state == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2022-06-01", "excluded"),
        ("2022-06-10", "excluded"),
        ("2023-06-15", "uncertain"),
        ("2024-03-11", "clear"),
        ("2024-05-01", "clear"),
    ],
)
def test_dropped_out_without_rein_date_is_uncertain_in_the_gap(day: str, expected: str) -> None:
    state, why = lookup.leie_status(leie(), D(day), FULL_FILES)
    assert state == expected
    if expected == "uncertain":
        assert "between 2022-06-10 and 2024-03-11" in why


def test_still_listed_exclusion_and_state_waiver() -> None:
    listed = leie(last_seen_full=D("2024-03-11"))
    assert lookup.leie_status(listed, D("2024-06-01"), FULL_FILES)[0] == "excluded"
    waived = leie(last_seen_full=D("2024-03-11"), waiverdate=D("2022-01-01"), wvrstate="OH")
    assert lookup.leie_status(waived, D("2023-01-01"), FULL_FILES, "OH")[0] == "clear"
    assert lookup.leie_status(waived, D("2023-01-01"), FULL_FILES, "KY")[0] == "excluded"
    assert lookup.leie_status(waived, D("2021-12-31"), FULL_FILES, "OH")[0] == "excluded"


def test_sam_termination_is_inclusive_and_indefinite_never_ends() -> None:
    row = m.SamExclusion(active_date=D("2023-09-05"), termination_date=D("2024-09-05"))
    assert not lookup.sam_excluded(row, D("2023-09-04"))
    assert lookup.sam_excluded(row, D("2024-09-05"))
    assert not lookup.sam_excluded(row, D("2024-09-06"))
    assert lookup.sam_excluded(
        m.SamExclusion(active_date=D("2023-09-05"), termination_date=None), D("2040-01-01")
    )


def test_npi_deactivation_and_reactivation() -> None:
    row = m.NppesProvider(
        npi="1234567893", deactivation_date=D("2023-11-30"), reactivation_date=None
    )
    assert lookup.npi_active(row, D("2023-11-29"))
    assert not lookup.npi_active(row, D("2023-11-30"))
    row.reactivation_date = D("2024-01-15")
    assert not lookup.npi_active(row, D("2024-01-14"))
    assert lookup.npi_active(row, D("2024-01-15"))


def test_roster_end_date_is_the_first_day_of_non_membership() -> None:
    row = m.GpoRosterMember(
        membership_start_date=D("2019-01-01"), membership_end_date=D("2024-03-15")
    )
    assert lookup.member_on(row, D("2024-03-14"))
    assert not lookup.member_on(row, D("2024-03-15"))
    assert not lookup.member_on(row, D("2018-12-31"))


def line(
    tier: str | None, price: str, start: str = "2024-01-01", end: str = "2024-12-31"
) -> m.ContractLine:
    return m.ContractLine(
        contract_id="C",
        ndc11="1",
        tier=tier,
        contract_price=Decimal(price),
        start_date=D(start),
        end_date=D(end),
    )


def test_price_on_file_prefers_the_customer_tier_then_all_tiers() -> None:
    lines = [line("1", "80.00"), line("2", "82.50"), line(None, "90.00")]
    chosen = lookup.price_on_file(lines, D("2024-03-04"), "2")
    assert isinstance(chosen, lookup.PriceOnFile)
    assert (chosen.line.contract_price, chosen.basis) == (Decimal("82.50"), "tier 2")
    chosen = lookup.price_on_file(lines, D("2024-03-04"), "9")
    assert isinstance(chosen, lookup.PriceOnFile) and chosen.basis == "all tiers"


def test_price_on_file_never_lets_the_claim_pick_the_tier() -> None:
    """Issue 13: tiered prices only and no tier for the customer (none, or one the contract
    does not price): the price a wholesaler claims is not taken as the tier; a person decides."""
    lines = [line("2", "82.50"), line("1", "80.00")]
    for tier in (None, "9"):
        unknown = lookup.price_on_file(lines, D("2024-03-04"), tier)
        assert isinstance(unknown, lookup.TierUnknown)
        assert unknown.prices == "tier 1 80.00, tier 2 82.50"
    expired = [line(None, "1", "2023-01-01", "2023-12-31")]
    assert lookup.price_on_file(expired, D("2024-03-04"), None) is None


def test_child_340b_site_maps_to_its_parent() -> None:
    assert lookup.parent_340b_candidates("BL03074A") == ("BL030740",)
    assert lookup.parent_340b_candidates("BL030740") == ()
