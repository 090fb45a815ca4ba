"""Small hand-made reference sets and claims for tests of the reference-data rule steps.

Reference sets are written as real CSV files and loaded by the real loader.

Tests (ours and other steps') describe only the rows that matter to them; every other
required column gets a plain default here. Going through CSV and ``load_directory`` rather
than inserting rows keeps the tests honest about the file layouts users write.

    ref = ReferenceSet()
    ref.add("contracts", contract_id="C1", gpo_id="G1")
    ref.add("contract_lines", contract_id="C1", ndc11="12345678901", contract_price="82.50")
    ref.load(tmp_path / "ref", url)
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.processors import StepContext, Upstream
from processors.chargeback.claim import (
    Address,
    Claim,
    ClaimLine,
    Identifier,
    Party,
    chargeback_amount,
)
from processors.chargeback.claim_store import REF_KEY, store_claim
from processors.chargeback.reference.datasets import DATASETS, headers
from processors.chargeback.reference.loader import FileResult, load_directory

#: Defaults for required columns, so a test names only what it is about.
DEFAULTS: Mapping[str, Mapping[str, str]] = {
    "products": {
        "labeler": "NORTHWIND PHARMACEUTICALS INC",
        "description": "TEST PRODUCT",
        "package_size": "1",
        "uom": "EA",
        "active_from": "2000-01-01",
    },
    "wac": {"effective_from": "2000-01-01"},
    "contracts": {
        "contract_type": "GPO",
        "mode": "INDIRECT",
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
        "status": "ACTIVE",
    },
    "contract_lines": {"start_date": "2024-01-01", "end_date": "2024-12-31"},
    "contract_eligibility": {"start_date": "2024-01-01"},
    "gpo_roster": {
        "facility_name": "TEST FACILITY",
        "class_of_trade": "HOSP_ACUTE",
        "membership_start_date": "2020-01-01",
    },
    "leie": {
        "EXCLTYPE": "1128b4",
        "NPI": "0000000000",
        "DOB": "00000000",
        "REINDATE": "00000000",
        "WAIVERDATE": "00000000",
    },
    "sam": {"Classification": "Firm", "Termination Date": "Indefinite"},
    "dea": {"bac": "B", "schedules": "2 2N 3 3N 4 5", "name": "TEST FACILITY"},
    "nppes": {"Entity Type Code": "2"},
    "opais": {
        "ce_id": "1",
        "entity_type": "DSH",
        "name": "TEST ENTITY",
        "participating": "Y",
        "participating_start_date": "2020-01-01",
    },
    "wholesaler_dc": {"wholesaler": "TEST DC", "dsa_start": "2020-01-01"},
    "sap_customers": {
        "name1": "TEST CUSTOMER",
        "bukrs": "1000",
        "akont": "0012100000",
        "vkorg": "1000",
        "vtweg": "10",
        "spart": "00",
    },
    "claim_history": {
        "wholesaler_id": "DC1",
        "dm_date": "2024-02-01",
        "invoice_line": "1",
        "invoice_date": "2024-01-15",
        "status": "PAID",
    },
}


class ReferenceSet:
    """Rows per file; several files of one dataset (LEIE full + REIN) are separate files."""

    def __init__(self, snapshot_date: str = "2024-03-01") -> None:
        self.snapshot_date = snapshot_date
        self.files: dict[str, tuple[str, str, str, list[dict[str, str]]]] = {}

    def add(self, dataset: str, file: str | None = None, **values: Any) -> ReferenceSet:
        """Add one row to ``file`` (default ``<dataset>.csv``); see ``file_options``."""
        if dataset not in DATASETS:
            raise KeyError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
        row = {
            **DEFAULTS.get(dataset, {}),
            **{k: "" if v is None else str(v) for k, v in values.items()},
        }
        name = file or f"{dataset}.csv"
        if name not in self.files:
            self.files[name] = (dataset, self.snapshot_date, "full", [])
        self.files[name][3].append(row)
        return self

    def file_options(
        self, file: str, *, snapshot_date: str | None = None, kind: str | None = None
    ) -> ReferenceSet:
        dataset, old_date, old_kind, rows = self.files[file]
        self.files[file] = (dataset, snapshot_date or old_date, kind or old_kind, rows)
        return self

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        manifest = []
        for name, (dataset, snapshot_date, kind, rows) in self.files.items():
            columns = list(headers(DATASETS[dataset]))
            with (directory / name).open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
                writer.writeheader()
                for row in rows:
                    unknown = set(row) - set(columns)
                    if unknown:
                        raise KeyError(f"{dataset} has no column(s) {', '.join(sorted(unknown))}")
                    writer.writerow(row)
            manifest.append((name, dataset, snapshot_date, kind))
        with (directory / "manifest.csv").open("w", encoding="utf-8", newline="") as fh:
            lines = csv.writer(fh, lineterminator="\n")
            lines.writerow(["file", "dataset", "snapshot_date", "kind"])
            lines.writerows(manifest)
        return directory

    def load(self, directory: Path, database_url: str) -> list[FileResult]:
        return load_directory(self.write(directory), database_url)


# --- claims ---------------------------------------------------------------------------------


def party(
    name: str = "ST ELSEWHERE GENERAL HOSPITAL",
    *,
    postal_code: str = "45501",
    state: str = "OH",
    **identifiers: str,
) -> Party:
    """An end customer (N1*ST) with identifiers given by kind: ``dea=``, ``hin=``, ``npi=``,
    ``gln=``, ``id340b=`` (the 340B ID)."""
    idents = tuple(
        Identifier(kind="340b" if kind == "id340b" else kind, value=value, valid=True)  # type: ignore[arg-type]
        for kind, value in identifiers.items()
    )
    return Party(
        "ST", name, idents, Address(("1 HOSPITAL DR",), "SPRINGFIELD", state, postal_code, "US")
    )


def claim_line(
    number: int,
    customer: Party,
    *,
    contract_id: str | None = "C-1",
    ndc11: str | None = "12345678901",
    quantity: str = "10",
    wac: str = "125.00",
    contract_price: str = "82.50",
    amount: str | None = None,
    invoice_number: str | None = "INV1",
    invoice_line: str | None = "1",
    invoice_date: str | None = "2024-03-04",
) -> ClaimLine:
    """A claim line; the claimed amount defaults to (WAC - CP) x quantity."""
    qty, w, cp = Decimal(quantity), Decimal(wac), Decimal(contract_price)
    return ClaimLine(
        line=number,
        line_id=str(number),
        contract_id=contract_id,
        customer=customer,
        ndc11=ndc11,
        quantity=qty,
        unit="UN",
        wac=w,
        contract_price=cp,
        claimed_amount=Decimal(amount) if amount is not None else chargeback_amount(w, cp, qty),
        invoice_number=invoice_number,
        invoice_line=invoice_line,
        invoice_date=date.fromisoformat(invoice_date) if invoice_date else None,
    )


def claim(
    *lines: ClaimLine,
    debit_memo: str = "DM0001",
    purpose: str = "00",
    distributor_dea: str = "RA7301194",
    claim_date: str = "2024-03-15",
) -> Claim:
    distributor = Party(
        "DS", "ACME DRUG DC", (Identifier("dea", distributor_dea, True, qualifier="11"),)
    )
    return Claim(
        format="x12-844",
        extractor="test",
        document_sha256="0" * 64,
        debit_memo=debit_memo,
        claim_date=date.fromisoformat(claim_date),
        lines=tuple(lines),
        purpose=purpose,
        distributor=distributor,
    )


def context(
    workdir: Path,
    upstream: Mapping[str, Upstream],
    database_url: str | None = None,
    *,
    step: str = "check",
    run_id: str = "run-1",
) -> StepContext:
    """The context a chargeback step sees in a run of the ``chargeback`` workflow, first
    attempt, no params or env, after ``upstream``."""
    return StepContext(
        run_id=run_id,
        workflow="chargeback",
        step=step,
        attempt=1,
        params={},
        env={},
        upstream=upstream,
        workdir=workdir,
        database_url=database_url,
    )


def step_context(
    the_claim: Claim, database_url: str, workdir: Path, run_id: str = "run-1"
) -> StepContext:
    """The context a rule step sees after an intake step named ``intake`` stored the claim."""
    upstream = {"intake": intake(the_claim, database_url, run_id)}
    return context(workdir, upstream, database_url, run_id=run_id)


def intake(the_claim: Claim, database_url: str, run_id: str = "run-1") -> Upstream:
    """What a later step sees of an intake step that read ``the_claim``: the claim stored in
    the chargeback database, and the reference to it as the step's data."""
    ref = store_claim(database_url, run_id, the_claim)
    return Upstream("Succeeded", {}, {REF_KEY: ref, "step_version": the_claim.extractor})
