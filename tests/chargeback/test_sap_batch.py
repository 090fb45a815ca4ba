"""The store gateway decides a whole claim's customers at once: customers the claim creates or
extends are seen by its later customers, many customers span several lookups, and a parallel
run that writes between our read and our write never leads to a second customer."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.processors import StepResult
from processors.chargeback.claim import Claim, ClaimLine, Identifier, Party
from processors.chargeback.db import KEYS_PER_QUERY, get_engine
from processors.chargeback.reference.models import SapCustomerIdentifier, SapKna1
from processors.chargeback.reference.testing import step_context
from processors.chargeback.sap import SapCustomerCreation, StoreGateway


def _party(name: str, **ids: str) -> Party:
    return Party("ST", name, tuple(Identifier(k, v, True) for k, v in ids.items()))  # type: ignore[arg-type]


def _run(tmp_path: Path, *parties: Party) -> StepResult:
    lines = tuple(
        ClaimLine(line=n, line_id=str(n), customer=p, quantity=Decimal(1))
        for n, p in enumerate(parties, start=1)
    )
    claim = Claim("x12-844", "x12-844", "0" * 64, "DM1", None, lines)
    context = step_context(claim, f"sqlite:///{tmp_path / 'store.db'}", tmp_path)
    return SapCustomerCreation({}).process(context)


def _count(tmp_path: Path, model: Any) -> int:
    with Session(get_engine(f"sqlite:///{tmp_path / 'store.db'}")) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_later_customers_of_a_claim_see_what_earlier_ones_created(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        _party("ST ELSEWHERE", dea="BS4182301", hin="A1B2C3D00"),
        _party("ST ELSEWHERE NORTH", dea="BS4182301", hin="A1B2C3D00"),  # same request key
        _party("ST ELSEWHERE", dea="BS4182301"),  # found by its DEA
        _party("ST ELSEWHERE", dea="BS4182301", gln="1234567890128"),  # adds a GLN
        _party("ELSEWHERE ANNEX", gln="1234567890128"),  # found by that new GLN
        _party("ST ELSEWHERE", dea="BS4182301", hin="Z9Z9Z9Z00"),  # another HIN: conflict
    )
    actions = [(c["action"], c["number"]) for c in result.data["customers"]]
    assert actions == [
        ("created", "0000900000"),
        ("unchanged", "0000900000"),
        ("unchanged", "0000900000"),
        ("updated", "0000900000"),
        ("unchanged", "0000900000"),
        ("conflict", "0000900000"),
    ]
    assert _count(tmp_path, SapKna1) == 1
    assert _count(tmp_path, SapCustomerIdentifier) == 3


def test_many_customers_are_found_and_created_across_lookups(tmp_path: Path) -> None:
    many = 2 * KEYS_PER_QUERY + 11
    parties = [_party(f"PHARMACY {n}", dea=f"AB{n:07d}") for n in range(many)]
    first = _run(tmp_path, *parties[: many // 2])
    assert first.outputs["created"] == many // 2
    second = _run(tmp_path, *parties)
    assert dict(second.outputs) == {
        "created": many - many // 2,
        "updated": 0,
        "unchanged": many // 2,
        "conflicts": 0,
    }
    numbers = [c["number"] for c in second.data["customers"]]
    assert numbers == [str(900000 + n).zfill(10) for n in range(many)]
    assert _count(tmp_path, SapKna1) == many


def test_a_parallel_run_writing_between_read_and_write_creates_nothing_twice(
    tmp_path: Path, monkeypatch: Any
) -> None:
    hospital = _party("ST ELSEWHERE", dea="BS4182301", hin="A1B2C3D00")
    clinic = _party("RIVERBEND CLINIC", dea="FR5529017")
    read = StoreGateway._read
    parallel: list[StepResult] = []
    raced = False

    def read_then_lose_the_race(self: StoreGateway, *args: Any) -> Any:
        nonlocal raced
        staged = read(self, *args)
        if not raced:  # the other run commits the same customers right after our first read
            raced = True
            parallel.append(_run(tmp_path, hospital, clinic))
        return staged

    monkeypatch.setattr(StoreGateway, "_read", read_then_lose_the_race)
    ours = _run(tmp_path, hospital, clinic)
    assert parallel[0].outputs["created"] == 2
    assert dict(ours.outputs) == {"created": 0, "updated": 0, "unchanged": 2, "conflicts": 0}
    assert _count(tmp_path, SapKna1) == 2
