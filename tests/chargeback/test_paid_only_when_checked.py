"""Money is paid only on rule checks that ran (issue 10): a claim line is accepted or adjusted
only when every rule step ran and judged it; anything else is pended or goes to review.

Everything runs on the repository's copy of the brief's example claim, the shipped reference
data and real SQLite stores: the spec through the real executor, and the resolution step on
what the real rule processors published, with one check's result changed to the way it can go
wrong.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from engine.executor.result import RunResult
from engine.local import run
from engine.processors import StepContext, StepResult, Upstream
from engine.processors import resolve as resolve_processor
from processors.chargeback import resolution
from processors.chargeback.claim import decode_findings
from processors.chargeback.duplicates import DuplicateCheck
from processors.chargeback.eligibility import ContractEligibility
from processors.chargeback.federal import FederalDbValidation
from processors.chargeback.reference.rulestep import RuleStep
from processors.chargeback.reference.testing import context
from processors.chargeback.resolution import DEFAULT_CHECKS, SAP_CHECK, ChargebackResolution
from processors.chargeback.roster import GpoRosterValidation

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "specs" / "chargeback.yaml"
EXAMPLE = REPO / "specs" / "samples" / "844_example.edi"

#: The brief's 849 for the example (§2.5): what a run on every check decides.
ANSWERED = {1: ("accept", ()), 2: ("accept", ()), 3: ("adjust", ("06",)), 4: ("reject", ("28",))}
RULE_STEPS: dict[str, type[RuleStep]] = {
    "duplicate-check": DuplicateCheck,
    "contract-eligibility": ContractEligibility,
    "gpo-roster-validation": GpoRosterValidation,
    "federal-db-validation": FederalDbValidation,
}


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
    queued for a person with the reason, as often as it is sent, the run fails since it did
    not decide the claim (`flowspec run` exits 1), and once the claim is checked it is
    answered as the brief says, as if the oversized runs had never been."""
    for attempt in (1, 2):
        result = _run(tmp_path, max_lines=3)
        assert result.phase == "Failed", result.message
        steps = result.steps
        assert steps["duplicate-check"].phase == "Skipped"
        assert steps["chargeback-resolution"].phase == "Omitted"
        assert steps["manual-review"].phase == "Omitted"
        review = steps["unchecked-claim-review"]
        assert review.phase == "Failed"
        assert review.error is not None and review.error.startswith("not decided")
        assert "more than max_lines" in review.error
        assert "nothing is paid" in review.error
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


def _without_line(step: type[RuleStep], line: int) -> Callable[[RuleStep, StepContext], StepResult]:
    """``step``'s process, succeeding but silent about ``line``: a finding list missing a line."""

    def process(self: RuleStep, context: StepContext) -> StepResult:
        result = RuleStep.process(self, context)
        kept = [f.to_row() for f in decode_findings(result.data["findings"]) if f.line != line]
        return dataclasses.replace(result, data={**result.data, "findings": kept})

    return process


def _without_findings(self: RuleStep, context: StepContext) -> StepResult:
    """A rule step that succeeds without publishing findings at all."""
    result = RuleStep.process(self, context)
    return dataclasses.replace(
        result, data={k: v for k, v in result.data.items() if k != "findings"}
    )


@pytest.mark.parametrize("step", list(RULE_STEPS))
def test_a_line_a_rule_step_gave_no_verdict_on_is_not_paid(
    step: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule step that succeeded but said nothing about line 1 did not check it: line 1 is
    pended with that step named; the lines every step judged are answered as usual."""
    monkeypatch.setattr(RULE_STEPS[step], "process", _without_line(RULE_STEPS[step], 1))
    result = _run(tmp_path)
    assert result.phase == "Succeeded", result.message
    resolved = result.steps["chargeback-resolution"]
    assert _decisions(resolved.data) == {**ANSWERED, 1: ("pend", ("25",))}
    assert resolved.outputs["total_paid"] == "472.00"
    (line1,) = [d for d in resolved.data["decisions"] if d["line"] == 1]
    assert line1["accepted_amount"] == "0.00"
    summary = Path(resolved.data["summary"]["summary_path"]).read_text("utf-8")
    assert f"missing: {step} (no verdict on this line) |" in summary
    assert resolved.data["summary"]["lines_without_verdict"] == {step: [1]}
    assert _ledger(tmp_path / "state.db")["1"] == "PENDING"


@pytest.mark.parametrize("step", list(RULE_STEPS))
def test_a_rule_step_that_published_no_findings_pays_nothing(
    step: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Succeeded without findings is a check not made: no line is accepted or adjusted."""
    monkeypatch.setattr(RULE_STEPS[step], "process", _without_findings)
    result = _run(tmp_path)
    resolved = result.steps["chargeback-resolution"]
    decisions = _decisions(resolved.data)
    assert {status for status, _ in decisions.values()} <= {"pend", "reject"}
    assert resolved.outputs["total_paid"] == "0.00"
    assert resolved.data["summary"]["checks_skipped"] == {
        step: "Succeeded without publishing findings"
    }
    assert "PAID" not in _ledger(tmp_path / "state.db").values()


def test_a_resolution_that_fails_before_answering_records_no_payment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger says PAID only once the 849 is written: a resolution step that fails goes to
    review, the run fails, and the claim is not recorded as received, so sending it again is
    answered as the brief says, not rejected as a duplicate debit memo (issue 13)."""

    def no_answer(*args: Any, **kwargs: Any) -> None:
        raise ValueError("the 849 cannot be written")

    with monkeypatch.context() as patched:
        patched.setattr(resolution, "write_849_to", no_answer)
        result = _run(tmp_path)
    assert result.phase == "Failed"
    assert result.steps["chargeback-resolution"].phase == "Failed"
    assert result.steps["manual-review"].phase == "Failed"
    assert _ledger(tmp_path / "state.db") == {}

    again = _run(tmp_path)
    assert again.phase == "Succeeded", again.message
    assert _decisions(again.steps["chargeback-resolution"].data) == ANSWERED


# --------------------------------------------------------------------------- the step itself


@dataclasses.dataclass(frozen=True)
class Checked:
    """The example claim after every real step up to SAP ran on one store."""

    db: Path
    upstream: dict[str, Upstream]


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    """Each step's processor is named after it (``chargeback.<step>``), as in the spec."""
    workdir = tmp_path_factory.mktemp("checked")
    url = f"sqlite:///{workdir}/state.db"
    upstream: dict[str, Upstream] = {}
    for name in ("extract-identifiers", *DEFAULT_CHECKS, SAP_CHECK):
        ctx = dataclasses.replace(
            context(workdir, dict(upstream), url, step=name),
            params={"document": str(EXAMPLE)},
        )
        result = resolve_processor(f"chargeback.{name}")({}).process(ctx)
        assert isinstance(result, StepResult)
        upstream[name] = Upstream("Succeeded", result.outputs, result.data)
    return Checked(workdir / "state.db", upstream)


#: Each rule step and SAP in each way it can fail to have run; a workflow without SAP at all
#: is not missing it (the four rule steps decide), so SAP is never "absent" here.
NOT_RUN = [
    (step, phase)
    for step in (*DEFAULT_CHECKS, SAP_CHECK)
    for phase in ("Failed", "Error", "Skipped", "Omitted", "absent")
    if (step, phase) != (SAP_CHECK, "absent")
]


@pytest.mark.parametrize(("step", "phase"), NOT_RUN)
def test_the_resolution_step_pays_nothing_when_a_check_did_not_run(
    step: str, phase: str, checked: Checked, tmp_path: Path
) -> None:
    """Defence in depth behind the spec: run anyway, with one rule step (or SAP) not
    Succeeded, the resolution step accepts and adjusts nothing and records nothing PAID.
    A rejection by a check that ran still stands; the rest is pended naming the check."""
    db = tmp_path / "state.db"
    with closing(sqlite3.connect(checked.db)) as source, closing(sqlite3.connect(db)) as copy:
        source.backup(copy)  # committed pages, wherever the journal mode keeps them
    upstream = dict(checked.upstream)
    if phase == "absent":
        del upstream[step]
    else:
        upstream[step] = Upstream(phase, {}, {})
    ctx = context(tmp_path, upstream, f"sqlite:///{db}", step="chargeback-resolution")
    result = ChargebackResolution({"output_dir": "out"}).process(ctx)

    decisions = _decisions(result.data)
    line4 = ("reject", ("28",)) if step != "duplicate-check" else ("pend", ("25",))
    assert decisions == {1: ("pend", ("25",)), 2: ("pend", ("25",)), 3: ("pend", ("25",)), 4: line4}
    assert result.outputs["total_paid"] == "0.00"
    why = phase if phase != "absent" else "not in this workflow"
    assert f"{step} ({why})" in result.data["report"]
    ledger = _ledger(db)
    assert "PAID" not in ledger.values()
    assert ledger["1"] == "PENDING"
