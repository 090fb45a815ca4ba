"""Money is paid only on rule checks that ran (issue 10): a claim line is accepted or adjusted
only when every rule step ran and judged it; anything else is pended or goes to review.

Everything runs on the repository's copy of the brief's example claim, the shipped reference
data and real SQLite stores: the spec through the real executor, and the resolution step on
what the real rule processors published, with one check's result changed to the way it can go
wrong.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from engine.executor.result import RunResult
from engine.local import run

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "specs" / "chargeback.yaml"
EXAMPLE = REPO / "specs" / "samples" / "844_example.edi"

#: The brief's 849 for the example (§2.5): what a run on every check decides.
ANSWERED = {1: ("accept", ()), 2: ("accept", ()), 3: ("adjust", ("06",)), 4: ("reject", ("28",))}


def _run(workdir: Path, **params: Any) -> RunResult:
    return run(
        SPEC,
        {"document": str(EXAMPLE), **params},
        store=f"sqlite:///{workdir}/state.db",
        workdir=workdir,
    )


def _decisions(data: Any) -> dict[int, tuple[str, tuple[str, ...]]]:
    return {d["line"]: (d["status"], tuple(d["reason_codes"])) for d in data["decisions"]}


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def _ledger(db: Path) -> dict[str, str]:
    """The example's line -> its status in the claim-line ledger (PAID is what the next claim
    of the same sale is checked against); the shipped history's own lines left out."""
    sql = "SELECT line_no, status FROM cb_claim_line_history WHERE dm_no = 'DM0315240012'"
    return dict(_query(db, sql))


# --------------------------------------------------------------------------- the spec


def test_claim_over_max_lines_pays_nothing_and_goes_to_review_every_time(
    tmp_path: Path,
) -> None:
    """No rule step runs on a claim over the limit, so nothing may be paid on it: the claim is
    queued for a person with the reason, as often as it is sent, and once it is checked it is
    answered as the brief says, as if the oversized runs had never been."""
    for attempt in (1, 2):
        result = _run(tmp_path, max_lines=3)
        assert result.phase == "Succeeded", result.message  # handled: `flowspec run` exits 0
        steps = result.steps
        assert steps["duplicate-check"].phase == "Skipped"
        assert steps["chargeback-resolution"].phase == "Omitted"
        assert steps["manual-review"].phase == "Omitted"
        review = steps["unchecked-claim-review"]
        assert review.phase == "Succeeded"
        assert "more than max_lines" in review.outputs["reason"]
        assert "nothing is paid" in review.outputs["reason"]
        assert not list(tmp_path.glob("849-*"))
        queued = _query(tmp_path / "state.db", "SELECT step, debit_memo FROM cb_review_queue")
        assert queued == [("unchecked-claim-review", "DM0315240012")] * attempt

    checked = _run(tmp_path)
    assert checked.phase == "Succeeded", checked.message
    resolved = checked.steps["chargeback-resolution"]
    assert _decisions(resolved.data) == ANSWERED
    assert resolved.outputs["total_paid"] == "897.00"
    assert sorted(_ledger(tmp_path / "state.db").items()) == [
        ("1", "PAID"),
        ("2", "PAID"),
        ("3", "PAID"),
        ("4", "REJECTED"),
    ]
