"""Load a directory of reference CSV files into the store, all or nothing.

A directory holds ``manifest.csv`` (which file is which dataset, as of which date) and the
files it names. Loading first parses *every* file and collects *every* problem as
``file:line: column X: what is wrong``; only a clean set touches the database, inside one
transaction, so a half-loaded contract file can never price a claim. Each file becomes a
snapshot row (dataset, file name, snapshot date, sha256, rows); a file whose bytes were already
loaded for its dataset is skipped, so loading the same snapshot twice changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from engine.processors import TransientError
from processors.chargeback import db
from processors.chargeback.reference import fields as f
from processors.chargeback.reference import models as m
from processors.chargeback.reference.datasets import (
    DATASETS,
    Column,
    Dataset,
    LoadContext,
    Record,
    Row,
)
from processors.chargeback.schema import Base

MANIFEST = "manifest.csv"
MANIFEST_HEADER = ("file", "dataset", "snapshot_date", "kind")
SHIPPED_DATA = Path(__file__).with_name("data")
_IN_CHUNK = 500


class ReferenceLoadError(Exception):
    """Every problem found; nothing was loaded."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the reference data; nothing was loaded")
        self.errors = list(errors)


@dataclass(frozen=True)
class ManifestEntry:
    file: str
    dataset: Dataset
    snapshot_date: date
    kind: str
    line: int


@dataclass(frozen=True)
class ParsedFile:
    entry: ManifestEntry
    path: Path
    sha256: str
    records: list[tuple[int, Record]]


@dataclass(frozen=True)
class FileResult:
    file: str
    dataset: str
    snapshot_date: date
    sha256: str
    rows: int
    status: str  # loaded | unchanged

    def describe(self) -> str:
        return (
            f"{self.status:9} {self.file} ({self.dataset}, {self.snapshot_date.isoformat()}, "
            f"{self.rows} rows, sha256 {self.sha256[:12]})"
        )


# --- reading -------------------------------------------------------------------------------


def _rows(path: Path, errors: list[str]) -> Iterator[tuple[int, list[str], dict[str, str]]]:
    """(line, header, row) for each data row; structural problems go to ``errors``."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                errors.append(f"{path}:1: the file is empty; it needs a header line")
                return
            header = [h.strip() for h in header]
            for raw in reader:
                if not any(cell.strip() for cell in raw):
                    continue
                if len(raw) != len(header):
                    errors.append(
                        f"{path}:{reader.line_num}: {len(raw)} fields, the header has "
                        f"{len(header)}; quote values that contain commas"
                    )
                    continue
                yield reader.line_num, header, dict(zip(header, raw, strict=True))
    except UnicodeDecodeError as exc:
        errors.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save as UTF-8")
    except csv.Error as exc:
        errors.append(f"{path}: unreadable CSV: {exc}")


def _check_header(path: Path, header: list[str], dataset: Dataset, errors: list[str]) -> bool:
    known = [c.header for c in dataset.columns]
    # optional columns may be left out, except where unknown columns are ignored (NPPES):
    # there a misspelt header would silently drop a column that decides lines
    needed = [
        c.header
        for c in dataset.columns
        if c.required or (dataset.extra_columns_allowed and not c.optional_column)
    ]
    missing = [name for name in needed if name not in header]
    unknown = [] if dataset.extra_columns_allowed else [h for h in header if h not in known]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    for name in missing:
        errors.append(
            f"{path}:1: column {name}: missing from the header (expected: {', '.join(known)})"
        )
    for name in unknown:
        errors.append(
            f"{path}:1: column {name}: not a {dataset.name} column (known: {', '.join(known)})"
        )
    for name in duplicated:
        errors.append(f"{path}:1: column {name}: appears more than once in the header")
    return not (missing or unknown or duplicated)


def read_manifest(directory: Path, errors: list[str]) -> list[ManifestEntry]:
    path = directory / MANIFEST
    if not path.is_file():
        errors.append(
            f"{path}: missing; list each file as file,dataset,snapshot_date[,kind] "
            f"(datasets: {', '.join(DATASETS)})"
        )
        return []
    entries: list[ManifestEntry] = []
    seen_files: dict[str, int] = {}
    header_ok: bool | None = None
    for line, header, row in _rows(path, errors):
        if header_ok is None:
            header_ok = _manifest_header_ok(path, header, errors)
        if not header_ok:
            return []
        problems = []
        name = row["file"].strip()
        dataset = DATASETS.get(row["dataset"].strip())
        kind = (row.get("kind") or "").strip().lower() or "full"
        if not name or "/" in name or "\\" in name or name.startswith("."):
            problems.append(f"column file: {name!r} must be a file name inside {directory}")
        elif not (directory / name).is_file():
            problems.append(f"column file: {name} does not exist in {directory}")
        elif name in seen_files:
            problems.append(
                f"column file: {name} is listed twice (first at line {seen_files[name]})"
            )
        if dataset is None:
            problems.append(
                f"column dataset: {row['dataset'].strip()!r} is not one of {', '.join(DATASETS)}"
            )
        elif kind not in ("full", "supplement") or (
            kind == "supplement" and not dataset.supplements_allowed
        ):
            allowed = "full or supplement" if dataset.supplements_allowed else "full"
            problems.append(
                f"column kind: {kind!r} is not allowed for {dataset.name}; use {allowed}"
            )
        try:
            snapshot_date = f.iso_date(row["snapshot_date"])
        except ValueError as exc:
            problems.append(f"column snapshot_date: {exc}")
        errors.extend(f"{path}:{line}: {p}" for p in problems)
        if not problems and dataset is not None:
            seen_files[name] = line
            entries.append(ManifestEntry(name, dataset, snapshot_date, kind, line))
    replaced: dict[str, ManifestEntry] = {}
    for entry in entries:
        if entry.dataset.mode == "replace":
            first = replaced.setdefault(entry.dataset.name, entry)
            if first is not entry:
                errors.append(
                    f"{path}:{entry.line}: column dataset: {entry.dataset.name} is a complete "
                    f"snapshot, already given by {first.file} (line {first.line}); load one per run"
                )
    return entries


def _manifest_header_ok(path: Path, header: list[str], errors: list[str]) -> bool:
    missing = [h for h in MANIFEST_HEADER[:3] if h not in header]
    unknown = [h for h in header if h not in MANIFEST_HEADER]
    for name in missing:
        errors.append(f"{path}:1: column {name}: missing from the header")
    for name in unknown:
        errors.append(f"{path}:1: column {name}: unknown (known: {', '.join(MANIFEST_HEADER)})")
    return not (missing or unknown)


def parse_file(entry: ManifestEntry, directory: Path, errors: list[str]) -> ParsedFile:
    path = directory / entry.file
    dataset = entry.dataset
    records: list[tuple[int, Record]] = []
    first_by_key: dict[tuple[Any, ...], int] = {}
    header_ok: bool | None = None
    for line, header, row in _rows(path, errors):
        if header_ok is None:
            header_ok = _check_header(path, header, dataset, errors)
        if not header_ok:
            break
        record: Record = {}
        problems: list[str] = []
        for column in dataset.columns:
            raw = row.get(column.header, "")
            if not raw.strip():
                if column.required:
                    problems.append(f"column {column.header}: required, but empty")
                    continue
                record[column.key] = (
                    column.default if column.default is not None else _empty(column)
                )
                continue
            try:
                record[column.key] = column.parse(raw)
            except ValueError as exc:
                problems.append(f"column {column.header}: {exc}")
        if not problems:
            problems += [msg for check in dataset.checks if (msg := check(record))]
        if not problems:
            key = tuple(record.get(k) for k in dataset.key)
            first = first_by_key.setdefault(key, line)
            if first != line:
                shown = ", ".join(f"{k}={v}" for k, v in zip(dataset.key, key, strict=True) if v)
                problems.append(f"duplicate row for {shown} (first at line {first})")
        errors.extend(f"{path}:{line}: {p}" for p in problems)
        records.append((line, record))
    return ParsedFile(entry, path, hashlib.sha256(path.read_bytes()).hexdigest(), records)


def _empty(column: Column) -> Any:
    """An empty optional cell is what its parser makes of "" (text: ""), or NULL."""
    try:
        return column.parse("")
    except ValueError:
        return None


# --- writing -------------------------------------------------------------------------------


def _key(values: dict[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(values.get(n) for n in names)


class _Merger:
    """Upserts rows of ``merge`` datasets against what the store already holds."""

    def __init__(self, session: Session, model: type[Base], key: tuple[str, ...]) -> None:
        self.session, self.model, self.key = session, model, key
        self.existing: dict[tuple[Any, ...], Any] = {}

    def preload(self, rows: list[dict[str, Any]]) -> None:
        column = getattr(self.model, self.key[0])
        values = sorted({r.get(self.key[0]) for r in rows}, key=str)
        for i in range(0, len(values), _IN_CHUNK):
            stmt = select(self.model).where(column.in_(values[i : i + _IN_CHUNK]))
            for obj in self.session.scalars(stmt):
                self.existing[tuple(getattr(obj, n) for n in self.key)] = obj

    def upsert(self, values: dict[str, Any]) -> Any:
        obj = self.existing.get(_key(values, self.key))
        if obj is None:
            obj = self.model(**values)
            self.session.add(obj)
            self.existing[_key(values, self.key)] = obj
            return None
        previous = {k: getattr(obj, k) for k in values}
        for name, value in values.items():
            setattr(obj, name, value)
        return previous


def _merge_leie(previous: dict[str, Any], obj: m.LeieExclusion) -> None:
    """A later file refines a party's history; it never forgets what an earlier one said."""
    obj.first_seen = min(previous["first_seen"], obj.first_seen)
    seen = [d for d in (previous["last_seen_full"], obj.last_seen_full) if d is not None]
    obj.last_seen_full = max(seen) if seen else None
    obj.reindate = obj.reindate or previous["reindate"]
    obj.waiverdate = obj.waiverdate or previous["waiverdate"]


def _merge_dea(session: Session, previous: dict[str, Any], obj: m.DeaRegistration) -> None:
    """A registration a newer snapshot shows inactive, without saying since when, stopped
    after the last snapshot that showed it active: a sale up to that snapshot's date was made
    under an active registration (brief §9.4), a later one may not have been."""
    if obj.active or obj.inactive_from is not None:
        return
    if previous["active"]:
        seen = session.get(m.ReferenceSnapshot, previous["snapshot_id"])
        if seen is not None:
            obj.inactive_from = seen.snapshot_date + timedelta(days=1)
    else:
        obj.inactive_from = previous["inactive_from"]


def _apply_merge(
    session: Session, parsed: ParsedFile, built: list[tuple[int, Row]], errors: list[str]
) -> None:
    dataset = parsed.entry.dataset
    by_model: dict[type[Base], list[tuple[int, dict[str, Any]]]] = {}
    for line, (model, values) in built:
        by_model.setdefault(model, []).append((line, values))
    for model in sorted(by_model, key=lambda mdl: -dataset.tables.index(mdl)):
        merger = _Merger(session, model, dataset.merge_keys[model])
        merger.preload([v for _, v in by_model[model]])
        for line, values in by_model[model]:
            if model is m.SapCustomerIdentifier:
                owner = merger.existing.get(_key(values, merger.key))
                if owner is not None and owner.kunnr != values["kunnr"]:
                    column = next(c for c, t in _SAP_ID_TYPES.items() if t == values["id_type"])
                    errors.append(
                        f"{parsed.path}:{line}: column {column}: {values['id_number']} already "
                        f"belongs to customer {owner.kunnr}; one identifier, one customer"
                    )
                    continue
            previous = merger.upsert(values)
            if previous is not None and model is m.LeieExclusion:
                _merge_leie(previous, merger.existing[_key(values, merger.key)])
            if previous is not None and model is m.DeaRegistration:
                _merge_dea(session, previous, merger.existing[_key(values, merger.key)])
        session.flush()


def _apply_replace(session: Session, built: list[tuple[int, Row]], dataset: Dataset) -> None:
    for model in dataset.tables:  # children first
        session.execute(delete(model))
    by_model: dict[type[Base], list[dict[str, Any]]] = {}
    for _, (model, values) in built:
        by_model.setdefault(model, []).append(values)
    for model in reversed(dataset.tables):  # parents first
        if by_model.get(model):
            session.execute(insert(model), by_model[model])


def _write(session: Session, files: list[ParsedFile], errors: list[str]) -> list[FileResult]:
    loaded_at = datetime.now(UTC)
    snapshots = list(session.scalars(select(m.ReferenceSnapshot)))
    known = {(s.dataset, s.sha256) for s in snapshots}
    results: list[FileResult] = []
    order = list(DATASETS)
    for parsed in sorted(
        files, key=lambda p: (order.index(p.entry.dataset.name), p.entry.snapshot_date)
    ):
        entry, dataset = parsed.entry, parsed.entry.dataset
        result = FileResult(
            entry.file,
            dataset.name,
            entry.snapshot_date,
            parsed.sha256,
            len(parsed.records),
            "loaded",
        )
        if (dataset.name, parsed.sha256) in known:
            results.append(_replace_status(result, "unchanged"))
            continue
        newer = [
            s
            for s in snapshots
            if s.dataset == dataset.name and s.snapshot_date > entry.snapshot_date
        ]
        if dataset.mode == "replace" and newer:
            newest = max(newer, key=lambda s: (s.snapshot_date, s.id))
            errors.append(
                f"{parsed.path}: snapshot {entry.snapshot_date} is older than the loaded "
                f"{dataset.name} snapshot {newest.snapshot_date} ({newest.file_name}); "
                "a complete snapshot may only move forward"
            )
            continue
        snapshot = m.ReferenceSnapshot(
            dataset=dataset.name,
            file_name=entry.file,
            kind=entry.kind,
            snapshot_date=entry.snapshot_date,
            sha256=parsed.sha256,
            row_count=len(parsed.records),
            loaded_at=loaded_at,
        )
        session.add(snapshot)
        session.flush()
        ctx = LoadContext(entry.snapshot_date, entry.kind, loaded_at)
        built = [
            (line, (model, _with_snapshot(model, values, snapshot.id)))
            for line, record in parsed.records
            for model, values in dataset.rows(dict(record), ctx)
        ]
        if dataset.mode == "replace":
            _apply_replace(session, built, dataset)
        else:
            _apply_merge(session, parsed, built, errors)
        results.append(result)
    return results


_SAP_ID_TYPES = {"hin": "HIN", "dea": "DEA", "gln": "GLN", "npi": "NPI", "id340b": "340B"}


def _with_snapshot(model: type[Base], values: dict[str, Any], snapshot_id: int) -> dict[str, Any]:
    if "snapshot_id" in model.__table__.columns:
        return {**values, "snapshot_id": snapshot_id}
    return values


def _replace_status(result: FileResult, status: str) -> FileResult:
    return FileResult(
        result.file, result.dataset, result.snapshot_date, result.sha256, result.rows, status
    )


def load_directory(directory: Path, database_url: str) -> list[FileResult]:
    """Load every file the manifest names; raises ReferenceLoadError with all problems."""
    errors: list[str] = []
    if not directory.is_dir():
        raise ReferenceLoadError([f"{directory}: not a directory"])
    entries = read_manifest(directory, errors)
    files = [parse_file(entry, directory, errors) for entry in entries]
    if errors:
        raise ReferenceLoadError(errors)
    with db.session_scope(database_url) as session:
        results = _write(session, files, errors)
        if errors:
            session.rollback()
            raise ReferenceLoadError(errors)
    return results


_ensured: set[str] = set()
_ensure_lock = threading.Lock()


def ensure_loaded(database_url: str, directory: Path = SHIPPED_DATA) -> None:
    """Load a reference set (the shipped one) into a store that has no reference data yet.

    Parallel steps may race to do it; the snapshot's unique (dataset, sha256) lets exactly one
    win, and the others find the data there when they look again.
    """
    with _ensure_lock:
        if database_url in _ensured:
            return
        if not _has_snapshots(database_url):
            try:
                load_directory(directory, database_url)
            except (IntegrityError, OperationalError) as exc:
                if not _has_snapshots(database_url):
                    raise TransientError(
                        f"loading the shipped reference data failed: {type(exc).__name__}"
                    ) from None
        _ensured.add(database_url)


def _has_snapshots(database_url: str) -> bool:
    with db.session_scope(database_url) as session:
        return bool(session.scalar(select(func.count()).select_from(m.ReferenceSnapshot)))
