"""The whole reference set: every dataset generated in order, and written with its manifest."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path

from processors.chargeback.reference.datasets import DATASETS, LEIE_HEADER, headers
from processors.chargeback.reference.generate.planted import _Planted


class World(_Planted):
    """Builds every dataset as rows of strings; ``write`` puts them on disk."""

    def __init__(self, seed: int, customers: int = 400, roster_only: int = 1700) -> None:
        """The customers first, then each dataset in this order: a seed's random draws, and so
        its rows, depend on it."""
        super().__init__(seed, customers, roster_only)
        self._products()
        self._contracts()
        self._rosters()
        self._sap()
        self._dea()
        self._nppes()
        self._opais()
        self._leie()
        self._sam()
        self._wholesalers()
        self._history()
        self._planted_rows()

    def write(self, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        snapshot = {
            "products": "2024-03-01",
            "wac": "2024-03-01",
            "contracts": "2024-03-01",
            "contract_lines": "2024-03-01",
            "contract_eligibility": "2024-03-01",
            "gpo_roster": "2024-03-08",
            "sam": "2024-03-14",
            "dea": "2024-03-14",
            "nppes": "2024-03-11",
            "opais": "2024-03-15",
            "opais_contract_pharmacies": "2024-03-15",
            "wholesaler_dc": "2024-01-02",
            "sap_customers": "2024-03-15",
            "claim_history": "2024-03-15",
        }
        manifest: list[dict[str, str]] = []
        written: list[Path] = []
        for name, rows in self.tables.items():
            if name == "leie":
                continue
            written.append(_write_csv(out_dir / f"{name}.csv", list(headers(DATASETS[name])), rows))
            manifest.append(
                {
                    "file": f"{name}.csv",
                    "dataset": name,
                    "snapshot_date": snapshot[name],
                    "kind": "full",
                }
            )
        for file_name, snap, kind in (
            ("leie_2022-06_UPDATED.csv", "2022-06-10", "full"),
            ("2305REIN.csv", "2023-06-12", "supplement"),
            ("leie_2024-03_UPDATED.csv", "2024-03-11", "full"),
        ):
            written.append(
                _write_csv(out_dir / file_name, list(LEIE_HEADER), self.leie_files[file_name])
            )
            manifest.append(
                {"file": file_name, "dataset": "leie", "snapshot_date": snap, "kind": kind}
            )
        written.append(
            _write_csv(
                out_dir / "manifest.csv", ["file", "dataset", "snapshot_date", "kind"], manifest
            )
        )
        return written


def _write_csv(path: Path, header: list[str], rows: Iterable[Mapping[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({h: row.get(h, "") for h in header})
    return path
