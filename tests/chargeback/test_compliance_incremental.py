"""The trail step's cheap paths: redacting decisions by their JSON text, and verifying the
chain from the last checkpoint. Each must give what the thorough path gives, or fall back to it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from engine.processors import StepContext, Upstream
from engine.secrets import Redactor
from processors.chargeback.compliance import ComplianceTrail, changes_nothing, main
from processors.chargeback.trail.store import canonical_json
from processors.chargeback.trail.verify import verify_chain, verify_run

SECRET = "sk-test-0123456789abcdef"
QUOTED_SECRET = 'pa"ss\\word\n42'
REDACT = Redactor.for_env(
    {"OPENAI_API_KEY": SECRET, "DB_PASSWORD": QUOTED_SECRET, "LOG_LEVEL": "information"}
)

_text = st.one_of(
    st.text(max_size=8),
    st.sampled_from(
        [
            SECRET,
            f"key {SECRET} here",
            QUOTED_SECRET,
            f"x{QUOTED_SECRET}",
            "postgresql://cb:hunter22pw@db/cb",
            "see https://example.org/a",
            "information",
        ]
    ),
)
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False),
    _text,
    st.just(Decimal("425.00")),
)
_key = st.one_of(_text, st.integers(0, 20), st.booleans())
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(_key, inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(_value)
def test_changes_nothing_is_said_only_of_values_redaction_leaves_alone(value: Any) -> None:
    if changes_nothing(REDACT, value):
        assert canonical_json(value) == canonical_json(REDACT.scrub_value(value))


def test_a_key_that_is_not_text_is_refused_at_any_depth() -> None:
    # masking turns keys into text: 1 and "1" become one key, so masking changes the value
    value = {"decisions": [{"reason": {1: "x", "1": "y"}}]}
    assert canonical_json(value) != canonical_json(REDACT.scrub_value(value))
    assert not changes_nothing(REDACT, value)
    assert changes_nothing(REDACT, {"decisions": [{"reason": {"1": "y"}}]})


def test_a_secret_or_url_anywhere_in_a_large_value_is_seen() -> None:
    claim = {"lines": [{"line": n, "invoice": f"INV{n}"} for n in range(2000)]}
    assert changes_nothing(REDACT, claim)
    claim["lines"][1234]["note"] = f"token {QUOTED_SECRET}"
    assert not changes_nothing(REDACT, claim)
    del claim["lines"][1234]["note"]
    claim["lines"][77]["src"] = "postgresql://cb:hunter22pw@db/cb"
    assert not changes_nothing(REDACT, claim)
    assert "hunter22pw" not in canonical_json(REDACT.scrub_value(claim))


def _run(tmp_path: Path, run_id: str = "run-1", paid: str = "850.00") -> dict[str, object]:
    """The trail step after a run that decided two lines: five records (two steps, two line
    decisions, the workflow); ``paid``, the resolution's total, changes one step's result."""
    decisions: list[dict[str, Any]] = [
        {"line": n, "status": "accept", "accepted_amount": "425.00", "reason_codes": []}
        for n in (1, 2)
    ]
    context = StepContext(
        run_id=run_id,
        workflow="chargeback",
        step="compliance-trail",
        attempt=1,
        params={},
        env={},
        upstream={
            "extract-identifiers": Upstream("Succeeded", {"line_count": 2}, {}),
            "chargeback-resolution": Upstream(
                "Succeeded", {"accepted": 2, "total_paid": paid}, {"decisions": decisions}
            ),
        },
        workdir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        workflow_status="Succeeded",
    )
    return dict(ComplianceTrail({"actor": "svc"}).process(context).outputs)


def _sql(tmp_path: Path, statement: str) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_engine(f"sqlite:///{tmp_path / 'store.db'}")


def _report(out: dict[str, object]) -> str:
    return Path(str(out["report_path"])).read_text("utf-8")


def test_each_run_verifies_from_the_last_checkpoint_and_the_command_from_the_start(
    tmp_path: Path, capsys: Any
) -> None:
    first = _run(tmp_path, run_id="run-1")
    assert "verification from the first record: intact\n" in _report(first)
    second = _run(tmp_path, run_id="run-2")
    assert "intact (records 1-5 as an earlier run verified them; 6-10 now)" in _report(second)
    assert verify_run(_engine(tmp_path), "run-2").trusted == 10  # its own checkpoint

    # A change before the checkpoint is for the full check; the step checks what is new.
    _sql(
        tmp_path, "UPDATE cb_audit SET payload = replace(payload, '425.00', '925.00') WHERE seq = 3"
    )
    third = _run(tmp_path, run_id="run-3")
    assert "intact (records 1-10 as an earlier run verified them; 11-15 now)" in _report(third)
    assert main(["verify", "--db", f"sqlite:///{tmp_path / 'store.db'}"]) == 1
    assert "record seq 3 " in capsys.readouterr().out


def test_a_checkpoint_whose_record_changed_is_not_trusted(tmp_path: Path) -> None:
    _run(tmp_path, run_id="run-1")
    _run(tmp_path, run_id="run-2")
    # Record 10 (the newest checkpoint) changed, hash and all: verification falls back to
    # checkpoint 5 and finds the change when it reaches record 10.
    _sql(
        tmp_path,
        "UPDATE cb_audit SET payload = replace(payload, 'Succeeded', 'Failed') WHERE seq = 10",
    )
    _sql(tmp_path, f"UPDATE cb_audit SET record_hash = '{'f' * 64}' WHERE seq = 10")
    third = _run(tmp_path, run_id="run-3")
    assert "BROKEN: record seq 10 " in _report(third)
    result = verify_run(_engine(tmp_path), "run-3")
    assert not result.ok and result.trusted == 5
    assert verify_chain(_engine(tmp_path), run_id="run-3").broken == result.broken


def test_a_resumed_trail_step_appends_and_verifies_nothing_new(tmp_path: Path) -> None:
    first = _run(tmp_path)
    again = _run(tmp_path)
    assert again["records"] == first["records"]
    assert "intact (records 1-5 as an earlier run verified them)\n" in _report(again)


def test_a_resumed_run_reports_its_records_from_before_a_later_checkpoint(tmp_path: Path) -> None:
    # run-2 verifies after run-1 (checkpoint 10); run-1 resumed with a changed result appends
    # a record after it. Its verification starts at 10, its report still holds all six.
    _run(tmp_path, run_id="run-1")
    _run(tmp_path, run_id="run-2")
    resumed = _run(tmp_path, run_id="run-1", paid="425.00")
    report = _report(resumed)
    assert "intact (records 1-10 as an earlier run verified them; 11-11 now)" in report
    assert resumed["records"] == 6
    assert "- Records for this run: 6 (1 appended by this step)" in report
    with _engine(tmp_path).connect() as conn:
        rows = conn.execute(
            text("SELECT seq, record_hash FROM cb_audit WHERE run_id = 'run-1' ORDER BY seq")
        ).all()
    assert [seq for seq, _ in rows] == [1, 2, 3, 4, 5, 11]
    assert resumed["head_hash"] == rows[-1][1]
    steps = [line for line in report.splitlines() if line.startswith(("| 1 ", "| 2 ", "| 11 "))]
    assert len(steps) == 3 and '"425.00"' in steps[-1]
    assert [line.split(" | ")[0] for line in report.splitlines() if '"status"' in line] == [
        "| 3",
        "| 4",
    ]
