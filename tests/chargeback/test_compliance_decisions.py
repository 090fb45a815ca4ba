"""The trail step's shortcuts give what the thorough path gives: line records redact each
decision only when the step's data needs it, and the report reuses the records verification
decoded only while they are what the store holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from engine.processors import StepContext, Upstream
from engine.secrets import Redactor
from processors.chargeback.compliance import build_entries
from processors.chargeback.db import get_engine
from processors.chargeback.trail.report import render_report
from processors.chargeback.trail.store import Decoded, append_entries, canonical_json, run_rows
from processors.chargeback.trail.verify import verify_run

SECRET = "sk-test-0123456789abcdef"
REDACT = Redactor.for_env({"OPENAI_API_KEY": SECRET})

CLEAN = [
    {"line": 1, "status": "accept", "reason_codes": ("06", "25"), "notes": {"b": 1, "a": [2]}},
    {"line": 2, "status": "reject", "accepted_amount": "0.00", "reason_codes": ["28"]},
]
#: each makes redaction change the step's data: a secret, a URL password, a number as a key
NEEDS_REDACTION = [
    {"line": 3, "status": "pend", "note": f"called with {SECRET}"},
    {"line": 4, "status": "pend", "source": "postgresql://cb:hunter22pw@db/cb"},
    {"line": 5, "status": "accept", "by_code": {10: "b", 9: "a"}, "reason_codes": ("06",)},
]


def _trail_context(
    tmp_path: Path,
    decisions: list[dict[str, Any]],
    env: dict[str, str] | None = None,
    database_url: str | None = None,
) -> StepContext:
    """The compliance step's view after resolution published ``decisions``."""
    return StepContext(
        run_id="run-1",
        workflow="chargeback",
        step="compliance-trail",
        attempt=1,
        params={},
        env=env or {},
        upstream={"chargeback-resolution": Upstream("Succeeded", {}, {"decisions": decisions})},
        workdir=tmp_path,
        database_url=database_url,
        workflow_status="Succeeded",
    )


def _decisions_recorded(tmp_path: Path, decisions: list[dict[str, Any]]) -> list[Any]:
    context = _trail_context(tmp_path, decisions, env={"OPENAI_API_KEY": SECRET})
    entries = build_entries(context, "svc", {}, REDACT)
    return [e.content["decision"] for e in entries if e.content["kind"] == "line"]


@pytest.mark.parametrize("extra", [[], *([d] for d in NEEDS_REDACTION)])
def test_each_decision_is_recorded_as_its_redaction(tmp_path: Path, extra: list[Any]) -> None:
    decisions = [*CLEAN, *extra]
    recorded = _decisions_recorded(tmp_path, decisions)
    assert [canonical_json(r) for r in recorded] == [canonical_json(REDACT.scrub_value(d)) for d in decisions]


def test_a_secret_in_one_decision_is_redacted_there(tmp_path: Path) -> None:
    recorded = canonical_json(_decisions_recorded(tmp_path, [*CLEAN, *NEEDS_REDACTION]))
    assert SECRET not in recorded and "hunter22pw" not in recorded
    assert "***" in recorded and "cb:***@db" in recorded
    assert '"by_code":{"10":"b","9":"a"}' in recorded


def test_the_report_shows_the_stored_record_not_a_stale_decoded_one(tmp_path: Path) -> None:
    """The report reuses what verification decoded only for the payload it decoded."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    context = _trail_context(tmp_path, CLEAN, database_url=url)
    engine = get_engine(url)
    written = append_entries(engine, build_entries(context, "svc", {}, REDACT))
    decoded: Decoded = {}
    verification = verify_run(engine, "run-1", decoded)
    rows = run_rows(engine, "run-1")
    assert sorted(decoded) == [row.seq for row in rows]
    fresh = render_report(context, rows, written, verification, REDACT)
    assert render_report(context, rows, written, verification, REDACT, decoded) == fresh
    stale = {
        seq: (row._replace(payload="{}"), {**record, "step": "forged"})
        for seq, (row, record) in decoded.items()
    }
    assert render_report(context, rows, written, verification, REDACT, stale) == fresh
    engine.dispose()


def test_rows_this_step_wrote_are_trusted_only_while_they_are_what_it_wrote(
    tmp_path: Path,
) -> None:
    """Verification skips re-hashing the rows the step appended itself, but a row changed in
    the database since is still caught, even one whose hash was left as it was."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    context = _trail_context(tmp_path, CLEAN, database_url=url)
    engine = get_engine(url)
    decoded: Decoded = {}
    written = append_entries(engine, build_entries(context, "svc", {}, REDACT), decoded=decoded)
    assert sorted(decoded) == list(range(1, written + 1))
    forged = canonical_json({**decoded[2][1], "actor": "mallory"})
    with engine.begin() as conn:
        conn.execute(text("UPDATE cb_audit SET payload = :p WHERE seq = 2"), {"p": forged})
    result = verify_run(engine, "run-1", dict(decoded))
    assert result.broken is not None
    assert (result.broken.seq, result.broken.reason) == (2, "content does not match its hash (changed)")
    engine.dispose()


@pytest.mark.parametrize(
    "subject",
    [
        {"wholesaler": "RA7301194", "dm_no": "DM1"},
        {"wholesaler": "RA7301194", "dm_no": f"DM-{SECRET}"},
        {"wholesaler": "RA7301194", "source": "postgresql://cb:hunter22pw@db/cb"},
    ],
)
def test_each_subject_is_recorded_as_its_redaction(
    tmp_path: Path, subject: dict[str, str]
) -> None:
    """Subjects are checked for secrets all at once; one that holds a secret or a URL password
    is masked, and the others are recorded as they are."""
    context = _trail_context(tmp_path, CLEAN, env={"OPENAI_API_KEY": SECRET})
    context.upstream["chargeback-resolution"].data["subject"] = subject
    entries = build_entries(context, "svc", {}, REDACT)
    recorded = [e.content["subject"] for e in entries if e.content["kind"] == "line"]
    expected = [REDACT.scrub_value({**subject, "line": d["line"]}) for d in CLEAN]
    assert [canonical_json(r) for r in recorded] == [canonical_json(e) for e in expected]
    assert SECRET not in canonical_json(recorded) and "hunter22pw" not in canonical_json(recorded)
