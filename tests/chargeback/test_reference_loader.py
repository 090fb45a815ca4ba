"""The reference loader: all problems reported with file/line/column, all-or-nothing, snapshots,
idempotent reloads, replace vs merge semantics, and the command line."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from processors.chargeback.db import session_scope
from processors.chargeback.reference import models as m
from processors.chargeback.reference.__main__ import main
from processors.chargeback.reference.datasets import DATASETS
from processors.chargeback.reference.loader import ReferenceLoadError, load_directory
from processors.chargeback.reference.testing import ReferenceSet

README = Path(__file__).parents[2] / "processors/chargeback/reference/README.md"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def count(url: str, model: type[m.Base]) -> int:
    with session_scope(url) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def small_set() -> ReferenceSet:
    ref = ReferenceSet()
    ref.add("products", ndc11="00123456789")
    ref.add("wac", ndc11="00123456789", wac="125.00")
    ref.add("contracts", contract_id="C-1", gpo_id="G1", allowed_cot="HOSP_ACUTE|CLINIC")
    ref.add("contract_lines", contract_id="C-1", ndc11="00123456789", contract_price="82.5000")
    ref.add(
        "sap_customers",
        kunnr="100001",
        name1="ST ELSEWHERE",
        hin="A1B2C3D00",
        dea="BS4182301",
        gln="1234567890128",
    )
    return ref


def write_files(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_load_records_rows_and_one_snapshot_per_file(tmp_path: Path, url: str) -> None:
    results = small_set().load(tmp_path / "ref", url)
    assert {r.dataset for r in results} == {
        "products",
        "wac",
        "contracts",
        "contract_lines",
        "sap_customers",
    }
    assert all(r.status == "loaded" for r in results)
    with session_scope(url) as s:
        snaps = {x.dataset: x for x in s.scalars(select(m.ReferenceSnapshot))}
        assert snaps["contracts"].snapshot_date == date(2024, 3, 1)
        assert snaps["contracts"].row_count == 1
        assert re.fullmatch(r"[0-9a-f]{64}", snaps["contracts"].sha256)
        line = s.scalars(select(m.ContractLine)).one()
        assert (
            line.contract_price == Decimal("82.5000")
            and line.snapshot_id == snaps["contract_lines"].id
        )
        kna1 = s.scalars(select(m.SapKna1)).one()
        assert kna1.kunnr == "0000100001"  # SAP ALPHA conversion
        assert kna1.gln == "1234567890128" and (kna1.bbbnr, kna1.bbsnr, kna1.bubkz) == (
            "1234567",
            "89012",
            "8",
        )
        ids = {(i.id_type, i.id_number) for i in s.scalars(select(m.SapCustomerIdentifier))}
        assert ids == {("HIN", "A1B2C3D00"), ("DEA", "BS4182301"), ("GLN", "1234567890128")}
        assert s.scalars(select(m.Contract)).one().allowed_cot_set == {"HOSP_ACUTE", "CLINIC"}


def test_loading_the_same_snapshot_twice_changes_nothing(tmp_path: Path, url: str) -> None:
    ref = small_set()
    ref.load(tmp_path / "ref", url)
    again = load_directory(tmp_path / "ref", url)
    assert {r.status for r in again} == {"unchanged"}
    assert count(url, m.ReferenceSnapshot) == 5
    assert count(url, m.ContractLine) == 1 and count(url, m.SapCustomerIdentifier) == 3


def test_every_problem_is_reported_and_nothing_is_loaded(tmp_path: Path, url: str) -> None:
    directory = write_files(
        tmp_path / "bad",
        {
            "manifest.csv": "file,dataset,snapshot_date\nproducts.csv,products,2024-03-01\n"
            "wac.csv,wac,2024-03-01\ncontracts.csv,contracts,2024-03-01\n",
            "products.csv": "ndc11,labeler,description,package_size,uom,dea_schedule,active_from,active_to\n"
            "123456789,ACME,X,1,EA,,2020-01-01,\n"
            "00123456789,ACME,X,1,EA,7,2020-01-01,\n",
            "wac.csv": "ndc11,wac,effective_from,effective_to\n00123456789,12.34567,2024-02-30,\n",
            "contracts.csv": "contract_id,gpo_id,contract_type,mode,start_date,end_date,status,allowed_cot\n"
            "C-1,,GPO,INDIRECT,2024-01-01,2023-12-31,ACTIVE,HOSPITAL\n",
        },
    )
    with pytest.raises(ReferenceLoadError) as caught:
        load_directory(directory, url)
    errors = caught.value.errors
    prefix = str(directory)
    assert (
        f"{prefix}/products.csv:2: column ndc11: '123456789' has 9 digits, an NDC11 has 11; leading zeros lost in a spreadsheet? store NDCs as text"
        in errors
    )
    assert any(
        e.startswith(f"{prefix}/products.csv:3: column dea_schedule: '7' is not one of")
        for e in errors
    )
    assert f"{prefix}/wac.csv:2: column wac: 12.34567 has more than 4 decimals" in errors
    assert (
        f"{prefix}/wac.csv:2: column effective_from: '2024-02-30' is not a date; write YYYY-MM-DD"
        in errors
    )
    assert any(
        e.startswith(f"{prefix}/contracts.csv:2: column allowed_cot: 'HOSPITAL' is not one of")
        for e in errors
    )
    assert len(errors) == 5
    assert count(url, m.ReferenceSnapshot) == 0 and count(url, m.Product) == 0


def test_cross_field_checks_and_duplicate_keys(tmp_path: Path, url: str) -> None:
    ref = ReferenceSet()
    ref.add("contracts", contract_id="C-1", contract_type="GPO", gpo_id="")
    ref.add(
        "contracts", contract_id="C-2", gpo_id="G", start_date="2024-05-01", end_date="2024-01-01"
    )
    ref.add("contracts", contract_id="C-3", gpo_id="G")
    ref.add("contracts", contract_id="c-3", gpo_id="G")  # case-insensitive: same contract
    ref.add("gpo_roster", gpo_id="G", gpo_member_id="M1")  # no identifier at all
    with pytest.raises(ReferenceLoadError) as caught:
        ref.load(tmp_path / "ref", url)
    messages = [e.split(": ", 1)[1] for e in caught.value.errors]
    assert messages == [
        "column gpo_id: a GPO contract needs the GPO's id",
        "column end_date: 2024-01-01 is before start_date 2024-05-01",
        "duplicate row for contract_id=C-3 (first at line 4)",
        "columns hin, dea, gln, npi, id340b: at least one must be filled in",
    ]


def test_structural_problems_name_the_file_and_line(tmp_path: Path, url: str) -> None:
    directory = write_files(
        tmp_path / "bad",
        {
            "manifest.csv": "file,dataset,snapshot_date,kind\nwac.csv,wac,2024-03-01,\n"
            "missing.csv,wac,2024-03-01,\nx.csv,prices,2024-03-01,\nwac.csv,wac,2024-03-01,\n"
            "sam.csv,contracts,2024-13-01,supplement\n",
            "wac.csv": "ndc11,effective_from,colour\n00123456789,2024-01-01,red\n",
            "x.csv": "a\n",
            "sam.csv": "a\n",
        },
    )
    with pytest.raises(ReferenceLoadError) as caught:
        load_directory(directory, url)
    text = "\n".join(caught.value.errors)
    assert f"{directory}/manifest.csv:3: column file: missing.csv does not exist" in text
    assert f"{directory}/manifest.csv:4: column dataset: 'prices' is not one of" in text
    assert (
        f"{directory}/manifest.csv:5: column file: wac.csv is listed twice (first at line 2)"
        in text
    )
    assert (
        f"{directory}/manifest.csv:6: column kind: 'supplement' is not allowed for contracts; use full"
        in text
    )
    assert f"{directory}/manifest.csv:6: column snapshot_date: '2024-13-01' is not a date" in text
    assert f"{directory}/wac.csv:1: column wac: missing from the header" in text
    assert f"{directory}/wac.csv:1: column colour: not a wac column" in text


def test_wrong_field_count_and_missing_manifest(tmp_path: Path, url: str) -> None:
    directory = write_files(
        tmp_path / "bad",
        {
            "manifest.csv": "file,dataset,snapshot_date\nwac.csv,wac,2024-03-01\n",
            "wac.csv": "ndc11,wac,effective_from,effective_to\n00123456789,1,000.00,2024-01-01,\n",
        },
    )
    with pytest.raises(ReferenceLoadError) as caught:
        load_directory(directory, url)
    assert caught.value.errors == [
        f"{directory}/wac.csv:2: 5 fields, the header has 4; quote values that contain commas"
    ]
    with pytest.raises(ReferenceLoadError) as caught:
        load_directory(write_files(tmp_path / "empty", {}), url)
    assert "manifest.csv: missing" in caught.value.errors[0]


def test_a_newer_complete_snapshot_replaces_and_an_older_one_is_refused(
    tmp_path: Path, url: str
) -> None:
    first = ReferenceSet("2024-03-01")
    first.add("contracts", contract_id="C-1", gpo_id="G").add(
        "contracts", contract_id="C-2", gpo_id="G"
    )
    first.load(tmp_path / "a", url)
    second = ReferenceSet("2024-04-01")
    second.add("contracts", contract_id="C-2", gpo_id="G", status="TERMINATED")
    second.load(tmp_path / "b", url)
    with session_scope(url) as s:
        rows = list(s.scalars(select(m.Contract)))
        assert [(c.contract_id, c.status) for c in rows] == [("C-2", "TERMINATED")]
    older = ReferenceSet("2024-02-01")
    older.add("contracts", contract_id="C-9", gpo_id="G")
    with pytest.raises(ReferenceLoadError) as caught:
        older.load(tmp_path / "c", url)
    assert "is older than the loaded contracts snapshot 2024-04-01" in caught.value.errors[0]
    assert count(url, m.Contract) == 1


def test_leie_history_survives_a_party_dropping_out(tmp_path: Path, url: str) -> None:
    party = {
        "BUSNAME": "BLUE RIVER PHARMACY",
        "NPI": "1234567893",
        "EXCLDATE": "20210110",
        "ZIP": "43215-1234",
    }
    ref = ReferenceSet()
    ref.add("leie", "UPDATED-2022.csv", **party)
    ref.add("leie", "2305REIN.csv", **party, REINDATE="20230501")
    ref.add("leie", "UPDATED-2024.csv", LASTNAME="DOE", FIRSTNAME="JANE", EXCLDATE="20230901")
    ref.file_options("UPDATED-2022.csv", snapshot_date="2022-06-10")
    ref.file_options("2305REIN.csv", snapshot_date="2023-06-12", kind="supplement")
    ref.file_options("UPDATED-2024.csv", snapshot_date="2024-03-11")
    ref.load(tmp_path / "ref", url)
    with session_scope(url) as s:
        row = s.scalars(select(m.LeieExclusion).where(m.LeieExclusion.npi == "1234567893")).one()
        assert (row.excldate, row.reindate) == (date(2021, 1, 10), date(2023, 5, 1))
        assert (row.first_seen, row.last_seen_full, row.zip5) == (
            date(2022, 6, 10),
            date(2022, 6, 10),
            "43215",
        )
        assert row.name_key == "BLUE RIVER PHARMACY"
        assert count(url, m.LeieExclusion) == 2


def test_one_identifier_belongs_to_one_customer(tmp_path: Path, url: str) -> None:
    ref = ReferenceSet()
    ref.add("sap_customers", kunnr="1", hin="A1B2C3D00").add(
        "sap_customers", kunnr="2", hin="A1B2C3D00"
    )
    with pytest.raises(ReferenceLoadError) as caught:
        ref.load(tmp_path / "ref", url)
    assert caught.value.errors == [
        f"{tmp_path / 'ref'}/sap_customers.csv:3: column hin: A1B2C3D00 already belongs to "
        + "customer 0000000001; one identifier, one customer"
    ]
    assert count(url, m.SapKna1) == 0


def test_real_nppes_header_loads_with_extra_columns(tmp_path: Path, url: str) -> None:
    header = (
        "NPI,Entity Type Code,Provider Organization Name (Legal Business Name),"
        "Provider Last Name (Legal Name),Provider First Name,NPI Deactivation Reason Code,"
        "NPI Deactivation Date,NPI Reactivation Date,Provider Gender Code"
    )
    directory = write_files(
        tmp_path / "n",
        {
            "manifest.csv": "file,dataset,snapshot_date\nnpidata.csv,nppes,2024-03-11\n",
            "npidata.csv": f"{header}\n1234567893,2,ACME CLINIC,,,,,,\n1245319599,,,,,DT,11/30/2023,,\n",
        },
    )
    load_directory(directory, url)
    with session_scope(url) as s:
        deactivated = s.get(m.NppesProvider, "1245319599")
        assert deactivated is not None and deactivated.entity_type is None
        assert deactivated.deactivation_date == date(2023, 11, 30)


def test_cli_load_prints_snapshots_and_exit_codes(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = small_set().write(tmp_path / "ref")
    assert main(["load", str(directory), "--db", url]) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"loaded\s+contracts.csv \(contracts, 2024-03-01, 1 rows, sha256 [0-9a-f]{12}\)", out
    )
    assert main(["load", str(directory), "--db", url]) == 0
    assert "unchanged contracts.csv" in capsys.readouterr().out
    (directory / "wac.csv").write_text("ndc11,wac,effective_from,effective_to\nABC,1,2024-01-01,\n")
    assert main(["load", str(directory), "--db", url]) == 1
    err = capsys.readouterr().err
    assert "wac.csv:2: column ndc11: 'ABC' is not an NDC" in err and "nothing was loaded" in err
    assert main(["load", str(directory), "--db", "nonsense"]) == 2


def test_cli_never_prints_a_database_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = small_set().write(tmp_path / "ref")
    code = main(
        ["load", str(directory), "--db", "postgresql+psycopg://cb:s3cr3t-pw@127.0.0.1:1/none"]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "s3cr3t-pw" not in captured.out + captured.err


def test_readme_documents_every_dataset_and_column() -> None:
    text = README.read_text(encoding="utf-8")
    for dataset in DATASETS.values():
        assert f"### {dataset.name} ({dataset.mode}" in text, dataset.name
        for column in dataset.columns:
            assert column.header in text, f"{dataset.name}.{column.header}"


def test_parallel_first_use_loads_the_reference_set_exactly_once(tmp_path: Path, url: str) -> None:
    """Several pods starting on an empty store race to create the tables and load the data."""
    directory = small_set().write(tmp_path / "ref")
    code = (
        "import sys; from processors.chargeback.reference.loader import ensure_loaded; "
        "ensure_loaded(sys.argv[1], __import__('pathlib').Path(sys.argv[2]))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url, str(directory)], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    assert count(url, m.ReferenceSnapshot) == 5 and count(url, m.SapKna1) == 1


def test_cli_usage_errors_return_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["load"]) == 2
    assert "the following arguments are required" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "load a directory of reference CSV files" in capsys.readouterr().out
