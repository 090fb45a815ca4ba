"""Bulk reference questions give, for every key, what asking that key alone gives.

The rule steps ask each question once for the whole claim (``Memo.prefetch``); a grouping
mistake there (a row filed under the wrong customer, a HIN base that swallows another's
family, a lost order) would change decisions silently. So every batched question is asked
both ways over the shipped reference set, on SQLite and on PostgreSQL, for customers drawn
from the roster, the customer master, the exclusion lists and made-up identifiers.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from processors.chargeback.claim import Address, Identifier, Party
from processors.chargeback.db import session_scope
from processors.chargeback.reference import lookup
from processors.chargeback.reference.loader import SHIPPED_DATA, ensure_loaded

DAYS = (date(2022, 6, 15), date(2024, 3, 4))
KINDS = {"hin": "hin", "dea": "dea", "gln": "gln", "npi": "npi", "id340b": "340b"}


def _rows(name: str) -> list[dict[str, str]]:
    with (SHIPPED_DATA / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _parties() -> Iterator[Party | None]:
    """Every 7th roster member, a HIN base family, exclusion-list names, strangers, nobody."""
    for row in _rows("gpo_roster")[::7]:
        idents = tuple(
            Identifier(kind, row[column], True) for column, kind in KINDS.items() if row[column]
        )
        yield Party("ST", row["facility_name"], idents, Address((), "", "", row["zip"], "US"))
    hin = next(r["hin"] for r in _rows("gpo_roster") if r["hin"])
    yield Party("ST", "Sibling site", (Identifier("hin", hin[:7] + "ZZ", True),))
    for row in _rows("sam"):
        address = Address((), row["City"], row["State / Province"], row["Zip Code"], "US")
        yield Party("ST", row["Name"], (), address)
    yield Party("ST", "Nobody Known", (Identifier("dea", "AB1234563", True),))
    yield None


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = (
        f"sqlite:///{tmp_path / 'ref.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    ensure_loaded(url)
    return url


def _both_ways(url: str, question: lookup.Batched[Any, Any], keys: list[Any]) -> None:
    with session_scope(url) as session:
        bulk = lookup.Memo(session).prefetch(question, keys)
        assert list(bulk) == list(dict.fromkeys(keys))
        for key in bulk:
            assert _plain(bulk[key]) == _plain(question(session, key)), key


def _plain(answer: Any) -> Any:
    """ORM rows compared by primary identity, so two loads of one row are equal."""
    if isinstance(answer, (list, tuple)):
        return [_plain(a) for a in answer]
    if isinstance(answer, lookup.RosterHit):
        return (answer.row.id, answer.matched_by)
    if isinstance(answer, lookup.DeaStatus):
        return (answer.dea_no, answer.found, _plain(answer.period), answer.problems)
    if hasattr(answer, "__table__"):
        return (type(answer).__name__, *answer.__mapper__.primary_key_from_instance(answer))
    return answer


def test_bulk_answers_equal_single_answers(store: str) -> None:
    parties = list(_parties())
    with session_scope(store) as session:
        memo = lookup.Memo(session)
        matches = lookup.prefetch_customers(memo, parties)
        customers = [lookup.known_identifiers(memo, m) for m in matches]
        kunnrs = [m.kunnr for m in matches]
        screened = [(m.values("NPI"), m.name, m.postal_code) for m in matches]
    assert sum(1 for m in matches if m.kunnr) > 10, "too few customers resolved"
    _both_ways(store, lookup.resolve_customer, parties)
    _both_ways(store, lookup.master_identifiers, kunnrs)
    _both_ways(store, lookup.customer, kunnrs)
    _both_ways(store, lookup.roster_hits, customers)
    _both_ways(store, lookup.leie_rows, screened)
    _both_ways(store, lookup.sam_rows, screened)
    deas = [r["dea_no"] for r in _rows("dea")[::5]] + ["AB1234563"]
    _both_ways(store, lookup.dea_status, [(n, d) for n in deas for d in DAYS])
    npis = [r["NPI"] for r in _rows("nppes")[::9]] + ["1234567893"]
    _both_ways(store, lookup.nppes, npis)
    _both_ways(store, lookup.opais_by_npi, [(n,) for n in npis] + [tuple(npis[:5]), ()])
    contracts = [r["contract_id"] for r in _rows("contracts")]
    _both_ways(store, lookup.contract, [*contracts, contracts[0].lower() + " ", "NO-SUCH"])
    lines = [(r["contract_id"], r["ndc11"]) for r in _rows("contract_lines")[::4]]
    _both_ways(store, lookup.contract_lines, [*lines, ("NO-SUCH", "00000000000")])
    ndcs = sorted({r["ndc11"] for r in _rows("wac")})
    _both_ways(store, lookup.product, [*ndcs, "99999999999"])
    _both_ways(store, lookup.wac_at, [(n, d) for n in ndcs for d in DAYS])
    ids = [r["id340b"] for r in _rows("opais")[::3]]
    _both_ways(store, lookup.opais_entity, ids + ["XX000000"])


def test_roster_hits_keep_the_strongest_match_first(store: str) -> None:
    """A full HIN outranks its base; the base finds a sibling site of the same facility."""
    row = next(r for r in _rows("gpo_roster") if r["hin"])
    with session_scope(store) as session:
        memo = lookup.Memo(session)
        exact, sibling = (f"HIN:{row['hin']}",), (f"HIN:{row['hin'][:7]}ZZ",)
        hits = memo.prefetch(lookup.roster_hits, [exact, sibling])
    assert hits[exact][0].matched_by == f"HIN {row['hin']}"
    assert {h.row.hin for h in hits[sibling]} >= {row["hin"]}
    assert all(h.matched_by == f"HIN base {row['hin'][:7]}" for h in hits[sibling])


def test_equal_parties_get_one_match_known_by_identity(store: str) -> None:
    """The rule steps tell customers apart by their match's identity, whether a claim sends
    one Party object per customer or an equal one on every line."""
    row = next(r for r in _rows("gpo_roster") if r["hin"])
    sent = Party("ST", row["facility_name"], (Identifier("hin", row["hin"], True),))
    again, other = dataclasses.replace(sent), Party("ST", "Nobody Known", ())
    with session_scope(store) as session:
        memo = lookup.Memo(session)
        matches = memo.match_all([sent, again, other, sent])
        assert len(matches) == 2 and matches[0].kunnr is not None
        assert memo.match_of(sent) is memo.match_of(again) is matches[0]
        assert memo.match_of(other) is matches[1]
        assert memo.match_all([again, other]) == matches
