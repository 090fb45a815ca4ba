"""The chargeback pipeline end to end, through the real ``flowspec`` command line.

One module-scoped store is shared by the three scenarios on purpose: the second run must see
the first run's paid lines (duplicate detection) and the truncated claim must land in the same
hash-chained trail, which ``compliance verify`` then checks as a whole.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pytest

from engine.cli.main import main
from processors.chargeback import compliance

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "specs" / "chargeback.yaml"
#: The domain brief's example pair: the claim ships as a sample, its answer is a test fixture.
EXAMPLE_844 = REPO / "specs" / "samples" / "844_example.edi"
EXAMPLE_849 = REPO / "tests" / "fixtures" / "domain" / "849_example.edi"

#: Envelope fields that carry the moment the response was written or a fresh control number,
#: by segment tag and element position (1-based). Everything else must match the brief's 849.
VOLATILE: dict[str, set[int]] = {
    "ISA": {9, 10, 13},  # interchange date, time, control number
    "GS": {4, 5, 6},  # group date, time, control number
    "BRC": {2},  # response date
    "ST": {2},  # transaction set control number
    "SE": {2},
    "GE": {2},
    "IEA": {2},
}

DECISION_ROW = re.compile(r"^(\d+)\s+\d{11}\s+\S+\s+\S+\s+\S+\s+(\w+)\s+(\S+)\s*$")


def _segments(text: str) -> list[list[str]]:
    """Split an X12 interchange whose delimiters are the brief's (``*`` elements, ``~`` segments)."""
    return [seg.strip().split("*") for seg in text.split("~") if seg.strip()]


def _masked(segments: list[list[str]]) -> list[list[str]]:
    return [
        [
            value if i not in VOLATILE.get(seg[0], set()) else "<volatile>"
            for i, value in enumerate(seg)
        ]
        for seg in segments
    ]


def _decisions(stdout: str) -> dict[int, tuple[str, str]]:
    """The per-line decision table the resolution step prints: line -> (decision, codes)."""
    rows = {}
    for line in stdout.splitlines():
        match = DECISION_ROW.match(line)
        if match:
            rows[int(match.group(1))] = (match.group(2), match.group(3))
    return rows


def _run(document: Path, db: str) -> int:
    return main(["run", str(SPEC), "-p", f"document={document}", "--db", db])


def _show(run_id: str, db: str, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["show", run_id, "--format", "json", "--db", db]) == 0
    return json.loads(capsys.readouterr().out)


def _run_id(stdout: str) -> str:
    match = re.search(r"^run (\S+) (Succeeded|Failed|Error)", stdout, re.MULTILINE)
    assert match, f"no run summary line in:\n{stdout}"
    return match.group(1)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("chargeback-e2e")
    return root, f"sqlite:///{root}/state.db"


def test_example_claim_is_answered_like_the_brief(
    workspace: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root, db = workspace
    monkeypatch.chdir(root)

    assert _run(EXAMPLE_844, db) == 0
    out = capsys.readouterr().out

    assert _decisions(out) == {
        1: ("Accepted", "-"),
        2: ("Accepted", "-"),
        3: ("Adjusted", "06"),
        4: ("Rejected", "28"),
    }
    run_id = _run_id(out)
    kept = root / ".flowspec" / "runs" / run_id  # the run's files: each step's own folder
    written = _segments((kept / "chargeback-resolution" / "response").read_text())
    expected = _segments((EXAMPLE_849).read_text())
    assert _masked(written) == _masked(expected)
    assert (kept / "chargeback-resolution" / "summary").read_text().startswith("#")
    assert (kept / "compliance-trail" / "report").is_file()
    assert compliance.main(["verify", "--db", db]) == 0
    stored = _stored_digests(root / "state.db", run_id)
    assert len(stored) == 7  # every step but the omitted manual-review and the trail itself
    trail = _step_digests_in_trail(root / "state.db", run_id)
    assert {step: trail[step] for step in stored} == stored


def _step_digests_in_trail(db: Path, run_id: str) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        payloads = [json.loads(p) for (p,) in conn.execute(
            "SELECT payload FROM cb_audit WHERE run_id = ? ORDER BY seq", (run_id,))]
    return {p["step"]: p["output_sha256"] for p in payloads if p["kind"] == "step"}


def _stored_digests(db: Path, run_id: str) -> dict[str, str]:
    """What an auditor holding only the engine's store computes for each step that ran."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT node, outputs, data FROM flowspec_events WHERE run_id = ? "
            "AND kind = 'finished' AND node != 'compliance-trail'", (run_id,)).fetchall()
    return {
        node: hashlib.sha256(f'{{"data":{data or "{}"},"outputs":{out}}}'.encode()).hexdigest()
        for node, out, data in rows
    }


def test_same_claim_again_is_rejected_as_duplicate(
    workspace: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root, db = workspace
    monkeypatch.chdir(root)
    if not list(root.glob(".flowspec/runs/*/chargeback-resolution/response")):
        # run on its own: pay the claim first
        assert _run(EXAMPLE_844, db) == 0
        capsys.readouterr()

    assert _run(EXAMPLE_844, db) == 0
    out = capsys.readouterr().out

    decisions = _decisions(out)
    assert sorted(decisions) == [1, 2, 3, 4]
    for line, (decision, codes) in decisions.items():
        assert decision == "Rejected", f"line {line}: {decision}"
        assert {"11", "28"} & set(codes.split(",")), f"line {line}: codes {codes}"

    shown = _show(_run_id(out), db, capsys)
    assert shown["phase"] == "Succeeded"
    assert shown["steps"]["duplicate-check"]["outputs"]["is_duplicate"] is True
    assert compliance.main(["verify", "--db", db]) == 0


def test_truncated_claim_is_routed_to_review(
    workspace: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A claim cut in half fails extraction and goes to a person, with the trail still written.

    The claim was not decided, so the run must not look as if it had been (issue 13): Argo's
    DAG phase is decided by its leaf tasks, and manual-review, the leaf that handles every
    check's failure, queues the claim and then fails, so the workflow fails (exit 1).
    """
    root, db = workspace
    monkeypatch.chdir(root)
    full = (EXAMPLE_844).read_text()
    truncated = root / "truncated_844.edi"
    truncated.write_text(full[: len(full) // 2])

    code = _run(truncated, db)
    out = capsys.readouterr().out
    shown = _show(_run_id(out), db, capsys)

    assert code == 1
    assert shown["phase"] == "Failed"
    steps = shown["steps"]
    extract = steps["extract-identifiers"]
    assert extract["phase"] == "Failed"
    assert "segment" in extract["error"] and "ends inside" in extract["error"], extract["error"]
    assert str(truncated) in extract["error"]
    review = steps["manual-review"]
    assert review["phase"] == "Failed"
    assert review["error"].startswith("not decided: the claim is queued for manual review")
    assert steps["compliance-trail"]["phase"] == "Succeeded"
    for name in ("duplicate-check", "chargeback-resolution"):
        assert steps[name]["phase"] == "Omitted", name
    assert compliance.main(["verify", "--db", db]) == 0


def test_a_cut_off_tail_of_the_trail_is_found_without_a_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run store anchors each run's head, so deleting the newest records is found by
    a plain ``verify`` (issue 10, item 8): before, it said OK unless ``--head`` was given."""
    from sqlalchemy import create_engine, delete, func, select

    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path}/state.db"
    assert _run(EXAMPLE_844, db) == 0
    assert compliance.main(["verify", "--db", db]) == 0
    engine = create_engine(db)
    with engine.begin() as conn:
        last = conn.scalar(select(func.max(compliance.AuditRecord.seq)))
        conn.execute(delete(compliance.AuditRecord).where(compliance.AuditRecord.seq > last - 3))
    engine.dispose()
    capsys.readouterr()
    assert compliance.main(["verify", "--db", db]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"BROKEN after {last - 3} good records")
    assert "anchored in the run store" in out and "records cut off or replaced" in out
