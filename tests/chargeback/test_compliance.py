"""The audit trail against a real SQLite file: chaining, idempotency, secrecy and tampering."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from engine.processors import StepContext, Upstream
from processors.chargeback.claim import Claim, ClaimLine
from processors.chargeback.compliance import ComplianceTrail, main
from processors.chargeback.db import get_engine
from processors.chargeback.reference.models import ReferenceSnapshot
from processors.chargeback.reference.testing import intake
from processors.chargeback.trail.store import GENESIS_HASH, canonical_json, chain_hash
from processors.chargeback.trail.verify import verify_chain

SECRET = "sk-test-0123456789abcdef"
CLAIM = Claim(
    "text",
    "llm:gpt-4o-mini",
    "0" * 64,
    "DM0315240012",
    None,
    tuple(
        ClaimLine(line=n, line_id=str(n), invoice_number="INV88123401", claimed_amount=Decimal(a))
        for n, a in ((1, "425.00"), (4, "271.25"))
    ),
)


def _context(tmp_path: Path, run_id: str = "run-1", **changes: Any) -> StepContext:
    doc = tmp_path / "claim.edi"
    if not doc.exists():
        doc.write_text("ISA*00*...~", "utf-8")
    upstream = {
        "extract-identifiers": Upstream(
            "Succeeded",
            {
                "customer_count": 2,
                "source": "postgresql://cb:hunter22pw@db/cb",
                "note": f"key {SECRET}",
            },
            dict(intake(CLAIM, f"sqlite:///{tmp_path / 'store.db'}", run_id).data),
        ),
        "duplicate-check": Upstream("Succeeded", {"is_duplicate": False}, {"findings": []}),
        "gpo-roster-validation": Upstream("Skipped", {}, {}),
        "chargeback-resolution": Upstream(
            "Succeeded",
            {"accepted": 1, "rejected": 1, "total_paid": "425.00"},
            {
                "subject": {"wholesaler": "RA7301194", "dm_no": "DM0315240012"},
                "decisions": [
                    {
                        "line": 1,
                        "status": "accept",
                        "accepted_amount": "425.00",
                        "reason_codes": [],
                    },
                    {
                        "line": 4,
                        "status": "reject",
                        "accepted_amount": "0.00",
                        "reason_codes": ["28"],
                    },
                ],
            },
        ),
    }
    values: dict[str, object] = {
        "run_id": run_id,
        "workflow": "chargeback",
        "step": "compliance-trail",
        "attempt": 1,
        "params": {"document": str(doc)},
        "env": {"OPENAI_API_KEY": SECRET, "LOG_LEVEL": "info"},
        "upstream": upstream,
        "workdir": tmp_path,
        "database_url": f"sqlite:///{tmp_path / 'store.db'}",
        "workflow_status": "Succeeded",
    }
    values.update(changes)
    return StepContext(**values)  # type: ignore[arg-type]


def _run(tmp_path: Path, **changes: Any) -> dict[str, object]:
    result = ComplianceTrail({"actor": "svc-chargeback"}).process(_context(tmp_path, **changes))
    return dict(result.outputs)


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_engine(f"sqlite:///{tmp_path / 'store.db'}")


def _sql(tmp_path: Path, statement: str, **params: object) -> None:
    engine = _engine(tmp_path)
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def _payloads(tmp_path: Path) -> list[dict[str, Any]]:
    engine = _engine(tmp_path)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT payload FROM cb_audit ORDER BY seq")).scalars().all()
    engine.dispose()
    return [json.loads(r) for r in rows]


def test_records_every_step_each_line_and_the_workflow_chained(tmp_path: Path) -> None:
    out = _run(tmp_path)
    records = _payloads(tmp_path)
    kinds = [(r["kind"], r["step"]) for r in records]
    assert kinds == [
        ("step", "extract-identifiers"),
        ("step", "duplicate-check"),
        ("step", "gpo-roster-validation"),
        ("step", "chargeback-resolution"),
        ("line", "chargeback-resolution"),
        ("line", "chargeback-resolution"),
        ("workflow", "compliance-trail"),
    ]
    assert out["records"] == len(records)
    prev = GENESIS_HASH
    for r in records:
        assert r["prev_hash"] == prev
        prev = chain_hash(prev, r)
    assert out["head_hash"] == prev
    assert records[0]["step_version"] == "llm:gpt-4o-mini"
    assert records[0]["actor"] == "svc-chargeback"
    assert records[4]["subject"] == {
        "wholesaler": "RA7301194",
        "dm_no": "DM0315240012",
        "line": 1,
        "line_id": "1",
        "invoice": "INV88123401",
        "invoice_line": None,
        "ndc11": None,
        "submitted": "425.00",
    }
    assert records[5]["decision"]["reason_codes"] == ["28"]
    assert records[-1]["status"] == "Succeeded"
    assert len(str(records[-1]["document_sha256"])) == 64
    assert verify_chain(_engine(tmp_path), run_id="run-1").ok


def test_records_the_newest_reference_snapshot_of_each_dataset(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with Session(engine) as session, session.begin():
        for dataset, day, sha in [
            ("contract", date(2024, 2, 1), "a" * 64),
            ("contract", date(2024, 3, 1), "b" * 64),
            ("leie", date(2024, 3, 10), "c" * 64),
        ]:
            session.add(
                ReferenceSnapshot(
                    dataset=dataset,
                    file_name=f"{dataset}.csv",
                    snapshot_date=day,
                    sha256=sha,
                    row_count=1,
                    loaded_at=datetime(2024, 3, 11, tzinfo=UTC),
                )
            )
    upstream = dict(_context(tmp_path).upstream)
    cited = {"roster": "2024-03-05#" + "d" * 64}
    upstream["gpo-roster-validation"] = Upstream("Succeeded", {}, {"reference_snapshots": cited})
    _run(tmp_path, upstream=upstream)
    expected = {"contract": "2024-03-01#" + "b" * 64, "leie": "2024-03-10#" + "c" * 64}
    records = {(r["kind"], r["step"]): r for r in _payloads(tmp_path)}
    assert records["step", "duplicate-check"]["reference_snapshots"] == expected
    assert records["step", "gpo-roster-validation"]["reference_snapshots"] == {**expected, **cited}
    assert records["workflow", "compliance-trail"]["reference_snapshots"] == expected


def test_secrets_are_never_recorded_only_env_names(tmp_path: Path) -> None:
    out = _run(tmp_path, database_url=f"sqlite:///{tmp_path / 'store.db'}")
    raw = canonical_json(_payloads(tmp_path))
    report = Path(str(out["report_path"])).read_text("utf-8")
    assert SECRET not in raw and SECRET not in report
    assert "***" in raw
    assert "hunter22pw" not in raw and "postgresql://cb:***@db/cb" in raw
    assert _payloads(tmp_path)[-1]["env_names"] == ["LOG_LEVEL", "OPENAI_API_KEY"]


def test_a_resumed_run_appends_nothing_twice_but_records_new_results(tmp_path: Path) -> None:
    first = _run(tmp_path)
    again = _run(tmp_path)
    assert again == first
    # After a resume, a step that had been skipped now ran: only that is new.
    ctx = _context(tmp_path)
    upstream = dict(ctx.upstream)
    upstream["gpo-roster-validation"] = Upstream("Succeeded", {"members": 2}, {"findings": []})
    later = _run(tmp_path, upstream=upstream)
    assert later["records"] == int(str(first["records"])) + 2  # the step and a new workflow record
    assert verify_chain(_engine(tmp_path)).ok


def test_runs_share_one_chain(tmp_path: Path) -> None:
    _run(tmp_path, run_id="run-1")
    second = _run(tmp_path, run_id="run-2")
    records = _payloads(tmp_path)
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert records[-1]["run_id"] == "run-2"
    assert verify_chain(_engine(tmp_path), run_id="run-2").head_hash == second["head_hash"]


def test_parallel_runs_append_to_one_unbroken_chain(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(_run, tmp_path, run_id=f"run-{i}") for i in range(4)]
        for future in futures:
            future.result()  # re-raises a worker's exception here
    result = verify_chain(_engine(tmp_path))
    assert result.ok and result.records == 4 * 7


def test_report_is_readable_markdown(tmp_path: Path) -> None:
    out = _run(tmp_path)
    report = Path(str(out["report_path"])).read_text("utf-8")
    assert report.startswith("# Compliance report: run `run-1`")
    assert "| 3 | gpo-roster-validation | Skipped |" in report
    assert str(out["head_hash"]) in report
    assert "intact" in report


# --- tampering: every kind is caught, and the first broken record is named -----------------


@pytest.fixture()
def trail(tmp_path: Path) -> Path:
    _run(tmp_path, run_id="run-1")
    _run(tmp_path, run_id="run-2")
    return tmp_path


def test_untouched_trail_verifies(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--db", f"sqlite:///{trail / 'store.db'}"]) == 0
    assert capsys.readouterr().out.startswith("OK: 14 records")


def test_a_record_written_by_the_former_encoder_still_verifies(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Records used to be encoded by the standard library, which writes some float exponents
    differently (1e-07, not 1e-7); such a record is as it was written, not changed."""
    engine = _engine(trail)
    with engine.begin() as conn:
        seq, prev = conn.execute(
            text("SELECT seq, record_hash FROM cb_audit ORDER BY seq DESC LIMIT 1")
        ).one()
        record = {
            "kind": "step",
            "outputs": {"rate": 1e-07},
            "prev_hash": prev,
            "run_id": "run-0",
            "seq": seq + 1,
            "step": "legacy",
        }
        payload = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert payload != canonical_json(record)  # the case this test is about
        conn.execute(
            text(
                "INSERT INTO cb_audit (seq, run_id, step, entry_key, payload, prev_hash, "
                "record_hash) VALUES (:seq, 'run-0', 'legacy', 'k', :p, :prev, :h)"
            ),
            {
                "seq": seq + 1,
                "p": payload,
                "prev": prev,
                "h": hashlib.sha256((prev + payload).encode()).hexdigest(),
            },
        )
    engine.dispose()
    assert main(["verify", "--db", f"sqlite:///{trail / 'store.db'}"]) == 0
    assert capsys.readouterr().out.startswith("OK: 15 records")


def _broken(trail: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["verify", "--db", f"sqlite:///{trail / 'store.db'}", *args]) == 1
    return capsys.readouterr().out


def test_changed_payload_is_named(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(trail, "UPDATE cb_audit SET payload = replace(payload, '425.00', '925.00') WHERE seq = 5")
    assert (
        "record seq 5 (run run-1, step chargeback-resolution): content does not match"
        in _broken(trail, capsys)
    )


def test_changed_payload_with_recomputed_hash_breaks_the_next_link(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = _engine(trail)
    with engine.begin() as conn:
        payload, prev = conn.execute(
            text("SELECT payload, prev_hash FROM cb_audit WHERE seq = 5")
        ).one()
        record = json.loads(payload)
        record["decision"]["accepted_amount"] = "925.00"
        conn.execute(
            text("UPDATE cb_audit SET payload = :p, record_hash = :h WHERE seq = 5"),
            {"p": canonical_json(record), "h": chain_hash(prev, record)},
        )
    engine.dispose()
    assert "record seq 6 " in _broken(trail, capsys)


def test_changed_column_is_named(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(trail, "UPDATE cb_audit SET run_id = 'run-9' WHERE seq = 3")
    assert "record seq 3 (run run-9, step gpo-roster-validation): column run_id" in _broken(
        trail, capsys
    )


def test_deleted_row_is_named(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(trail, "DELETE FROM cb_audit WHERE seq = 9")
    assert (
        "record seq 10 " in (out := _broken(trail, capsys))
        and "record 9 before it is missing" in out
    )


def test_reordered_rows_are_named(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(trail, "UPDATE cb_audit SET seq = -1 WHERE seq = 2")
    _sql(trail, "UPDATE cb_audit SET seq = 2 WHERE seq = 3")
    _sql(trail, "UPDATE cb_audit SET seq = 3 WHERE seq = -1")
    assert "record seq 2 " in _broken(trail, capsys)


def test_inserted_row_is_named(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A forger who knows the scheme: a well-formed record chained to record 4, put in at 5.
    engine = _engine(trail)
    with engine.begin() as conn:
        prev = conn.execute(text("SELECT record_hash FROM cb_audit WHERE seq = 4")).scalar_one()
        conn.execute(text("UPDATE cb_audit SET seq = seq + 100 WHERE seq >= 5"))
        conn.execute(text("UPDATE cb_audit SET seq = seq - 99 WHERE seq >= 105"))
        record = {"kind": "line", "seq": 5, "run_id": "run-1", "step": "x", "prev_hash": prev}
        conn.execute(
            text(
                "INSERT INTO cb_audit (seq, run_id, step, entry_key, payload, prev_hash, record_hash)"
                " VALUES (5, 'run-1', 'x', 'k', :p, :prev, :h)"
            ),
            {"p": canonical_json(record), "prev": prev, "h": chain_hash(prev, record)},
        )
    engine.dispose()
    # The forged record itself links; the renumbered original after it no longer does.
    assert "record seq 6 (run run-1, step chargeback-resolution)" in _broken(trail, capsys)


def test_cut_off_tail_is_caught_with_the_head(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = verify_chain(_engine(trail)).head_hash
    _sql(trail, "DELETE FROM cb_audit WHERE seq = 14")
    assert main(["verify", "--db", f"sqlite:///{trail / 'store.db'}"]) == 0  # undetectable alone
    capsys.readouterr()
    assert "not in the chain" in _broken(trail, capsys, "--head", head)


def test_run_filter_and_unknown_run(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--db", f"sqlite:///{trail / 'store.db'}", "--run", "run-1"]) == 0
    assert capsys.readouterr().out.startswith("OK: 7 records")
    assert "no audit records for this run" in _broken(trail, capsys, "--run", "nope")


def test_usage_and_missing_trail_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify"]) == 2
    assert main(["verify", "--db", f"sqlite:///{tmp_path / 'missing.db'}"]) == 2
    assert "no database file" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()
    get_engine(f"sqlite:///{tmp_path / 'other.db'}")  # a store without an audit trail
    assert main(["verify", "--db", f"sqlite:///{tmp_path / 'other.db'}"]) == 2
    assert "no audit trail" in capsys.readouterr().err
    assert main(["verify", "--db", "nonsense://"]) == 2
