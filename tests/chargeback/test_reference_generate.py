"""The generator: deterministic, valid check digits, loads cleanly, matches the shipped set,
and the shipped set makes the brief's example claim resolve as its 849 says."""

from __future__ import annotations

import csv
import filecmp
from pathlib import Path

import pytest

from engine.processors import StepContext
from processors.chargeback.claim import Claim, decode_findings
from processors.chargeback.duplicates import DuplicateCheck
from processors.chargeback.edi import parse_844
from processors.chargeback.eligibility import ContractEligibility
from processors.chargeback.federal import FederalDbValidation
from processors.chargeback.identifiers import check_dea, check_gln, check_npi
from processors.chargeback.reference.__main__ import main
from processors.chargeback.reference.generate import PLANTED, generate
from processors.chargeback.reference.loader import SHIPPED_DATA, load_directory
from processors.chargeback.reference.testing import intake
from processors.chargeback.roster import GpoRosterValidation

EXAMPLE_844 = Path(__file__).resolve().parents[2] / "specs" / "samples" / "844_example.edi"
SMALL = {"customers": 40, "roster_only": 60}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=7, **SMALL)
    b = generate(tmp_path / "b", seed=7, **SMALL)
    generate(tmp_path / "c", seed=8, **SMALL)
    names = [p.name for p in a]
    assert names == [p.name for p in b] and "manifest.csv" in names
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", names, shallow=False)
    assert mismatch == [] and errors == []
    _, differ, _ = filecmp.cmpfiles(tmp_path / "a", tmp_path / "c", names, shallow=False)
    assert "sap_customers.csv" in differ and "gpo_roster.csv" in differ


def test_generated_identifiers_carry_valid_check_digits(tmp_path: Path) -> None:
    generate(tmp_path, seed=3, **SMALL)
    off_formula = PLANTED["dea_off_formula"]  # §9.10: DEA issued it though it fails the formula
    customers = rows(tmp_path / "sap_customers.csv")
    assert [r["dea"] for r in customers if r["kunnr"] == off_formula["kunnr"]] == [
        off_formula["dea"]
    ]
    # planted after the random world, with only the identifiers their case is about
    late = {
        off_formula["kunnr"],
        PLANTED["tribal_fqhc_340b"]["kunnr"],
        PLANTED["contract_pharmacy_340b"]["kunnr"],
    }
    customers = [r for r in customers if r["kunnr"] not in late]
    assert len(customers) == SMALL["customers"]
    for row in customers:
        assert check_npi(row["npi"]).valid, row
        assert check_dea(row["dea"]).valid, row
        assert not row["gln"] or check_gln(row["gln"]).valid, row
        assert len(row["hin"]) == 9
    for row in rows(tmp_path / "nppes.csv"):
        assert check_npi(row["NPI"]).valid
    for row in rows(tmp_path / "dea.csv"):
        assert check_dea(row["dea_no"]).valid or row["dea_no"] == off_formula["dea"]


def test_generated_set_loads_and_cli_generate_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "generate",
                str(tmp_path / "g"),
                "--seed",
                "5",
                "--customers",
                "30",
                "--roster-only",
                "20",
            ]
        )
        == 0
    )
    assert "wrote 18 files" in capsys.readouterr().out
    results = load_directory(tmp_path / "g", f"sqlite:///{tmp_path / 's.db'}")
    assert all(r.status == "loaded" and r.rows > 0 for r in results)


def test_shipped_data_is_the_seed_844_output_and_small(tmp_path: Path) -> None:
    written = generate(tmp_path, seed=844)
    names = sorted(p.name for p in written)
    assert sorted(p.name for p in SHIPPED_DATA.iterdir() if p.suffix == ".csv") == names
    _, mismatch, errors = filecmp.cmpfiles(tmp_path, SHIPPED_DATA, names, shallow=False)
    assert mismatch == [] and errors == [], (
        "regenerate: python -m processors.chargeback.reference generate <data dir> --seed 844"
    )
    assert sum(p.stat().st_size for p in SHIPPED_DATA.iterdir()) < 3_000_000
    assert len(rows(SHIPPED_DATA / "gpo_roster.csv")) > 2000
    assert len(rows(SHIPPED_DATA / "contracts.csv")) >= 24


def _context(tmp_path: Path, claim: Claim, run_id: str) -> StepContext:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    return StepContext(
        run_id=run_id,
        workflow="chargeback",
        step="check",
        attempt=1,
        params={},
        env={},
        upstream={"intake": intake(claim, url, run_id)},
        workdir=tmp_path,
        database_url=url,
    )


def test_example_claim_resolves_as_its_849_on_the_shipped_data(tmp_path: Path) -> None:
    """An empty store gets the shipped set on first use; the four checks then find exactly what
    849_example.edi answers: line 3 adjusted to 255.00 (06), line 4 a duplicate (28)."""
    claim = parse_844(EXAMPLE_844.read_bytes())
    ctx = _context(tmp_path, claim, "run-1")
    results = {
        cls.__name__: cls({}).process(ctx)
        for cls in (DuplicateCheck, ContractEligibility, GpoRosterValidation, FederalDbValidation)
    }
    findings = [f for r in results.values() for f in decode_findings(r.data["findings"])]
    not_passing = sorted(
        (f.line, f.outcome, f.code, f.amount) for f in findings if f.outcome != "pass"
    )
    assert [(n, o, c, str(a)) for n, o, c, a in not_passing] == [
        (3, "adjust", "06", "255.00"),
        (4, "reject", "28", "0.00"),
    ]
    assert dict(results["DuplicateCheck"].outputs) == {
        "is_duplicate": False,
        "duplicate_lines": 1,
        "duplicate_customers": 0,
    }
    assert results["ContractEligibility"].data["prices"]["3"]["contract_price"] == "82.50"
    snapshots = results["FederalDbValidation"].data["reference_snapshots"]
    assert set(snapshots) >= {"leie", "sam", "dea", "nppes", "opais"}
    assert all("#" in v for v in snapshots.values())


def test_planted_cases_are_in_the_shipped_data() -> None:
    dea = {(r["dea_no"], r["expiration_date"]) for r in rows(SHIPPED_DATA / "dea.csv")}
    assert (PLANTED["dea_renewed"]["dea"], PLANTED["dea_renewed"]["expired"]) in dea
    rein = rows(SHIPPED_DATA / "2305REIN.csv")
    assert rein[0]["NPI"] == PLANTED["leie_reinstated"]["npi"] and rein[0]["REINDATE"] == "20230501"
    current = rows(SHIPPED_DATA / "leie_2024-03_UPDATED.csv")
    assert all(r["NPI"] != PLANTED["leie_reinstated"]["npi"] for r in current)
    opais = {r["id340b"]: r for r in rows(SHIPPED_DATA / "opais.csv")}
    assert (
        opais[PLANTED["child_site_340b"]["id340b"]]["parent_id340b"]
        == PLANTED["child_site_340b"]["parent"]
    )
