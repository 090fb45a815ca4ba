"""Retries, continueOn, the exit handler and the workflow's phase, as Argo's controller has them."""

from __future__ import annotations

import json

from .conftest import RunWorkflow
from .manifests import sh, task, workflow

#: Fails with exit 75 ("try again") until its third attempt, then succeeds.
FLAKY = 'test "$TRY" -ge 2 || exit 75; echo "$TRY" > try'


def test_retries_follow_the_expression_and_record_the_backoff(
        run_workflow: RunWorkflow) -> None:
    flaky_env = [{"name": "TRY", "value": "{{retries}}"}]
    strategy = {"limit": "4", "expression": "lastRetry.exitCode == '75'",
                "backoff": {"duration": "1s", "factor": "2", "cap": "3s"}}
    manifest = workflow(
        [task("flaky", "flaky"), task("fatal", "fatal"), task("capped", "capped")],
        [sh("flaky", FLAKY, outputs=["try"], env=flaky_env, retryStrategy=strategy),
         sh("fatal", "exit 1", retryStrategy=strategy),
         sh("capped", FLAKY, env=flaky_env, retryStrategy={"limit": "1"})])
    result = run_workflow(manifest)
    flaky = result.node("flaky")
    assert flaky.phase == "Succeeded"
    assert [a.exit_code for a in flaky.attempts] == [75, 75, 0]
    assert [a.backoff_seconds for a in flaky.attempts] == [1.0, 2.0, None]
    assert flaky.outputs["try"] == "2"
    assert len({a.pod_name for a in flaky.attempts}) == 3  # a pod per attempt node
    fatal = result.node("fatal")
    assert (fatal.phase, len(fatal.attempts)) == ("Failed", 1)
    assert fatal.message == "retryStrategy.expression evaluated to false"
    assert fatal.attempts[0].message == "Error (exit code 1)"  # the pod keeps its own
    capped = result.node("capped")  # limit 1: two attempts, OnFailure retries exit 75
    assert (capped.phase, len(capped.attempts), capped.message) == (
        "Failed", 2, "No more retries left")


def test_the_retry_policy_decides_which_phases_are_retried(run_workflow: RunWorkflow) -> None:
    manifest = workflow(
        [task("on-error", "fails"), task("always", "fails-always")],
        [sh("fails", "exit 3", retryStrategy={"limit": "2", "retryPolicy": "OnError"}),
         sh("fails-always", "exit 3", retryStrategy={"limit": "2", "retryPolicy": "Always"})])
    result = run_workflow(manifest)
    assert len(result.node("on-error").attempts) == 1  # Failed is not an error
    assert len(result.node("always").attempts) == 3


def test_continue_on_lets_dependants_run_and_the_workflow_succeed(
        run_workflow: RunWorkflow) -> None:
    manifest = workflow(
        [task("a", "fail", continueOn={"failed": True}), task("b", "ok", dependencies=["a"])],
        [sh("fail", "exit 1"), sh("ok", "true")])
    result = run_workflow(manifest)
    assert (result.node("a").phase, result.node("b").phase) == ("Failed", "Succeeded")
    assert result.phase == "Succeeded"

    without = workflow([task("a", "fail"), task("b", "ok", dependencies=["a"])],
                       [sh("fail", "exit 1"), sh("ok", "true")])
    result = run_workflow(without)
    assert (result.node("b").phase, result.phase) == ("Omitted", "Failed")


def test_a_skipped_leaf_below_a_continued_failure_fails_the_workflow(
        run_workflow: RunWorkflow) -> None:
    """SEMANTICS appendix 1: Skipped passes on the branch phase it received."""
    manifest = workflow(
        [task("a", "fail", continueOn={"failed": True}),
         task("b", "ok", dependencies=["a"], when="{{=false}}")],
        [sh("fail", "exit 1"), sh("ok", "true")])
    result = run_workflow(manifest)
    assert result.node("b").phase == "Skipped"
    assert result.phase == "Failed"


def test_the_exit_handler_sees_the_workflow_status_and_its_failures(
        run_workflow: RunWorkflow) -> None:
    manifest = workflow(
        [task("boom", "fail")],
        [sh("fail", "echo broken >&2; exit 4"),
         sh("report", 'printf "%s" "$STATUS" > status; printf "%s" "$FAILURES" > failures',
            outputs=["status", "failures"],
            env=[{"name": "STATUS", "value": "{{workflow.status}}"},
                 {"name": "FAILURES", "value": "{{workflow.failures}}"}])],
        on_exit=[task("report", "report")])
    result = run_workflow(manifest)
    assert result.phase == "Failed"
    report = result.node("report")
    assert report.outputs["status"] == "Failed"
    [failure] = json.loads(report.outputs["failures"])
    assert (failure["displayName"], failure["phase"]) == ("boom", "Failed")
    assert result.node("boom").stderr == "broken\n"


def test_a_failing_exit_handler_fails_a_succeeded_workflow(run_workflow: RunWorkflow) -> None:
    manifest = workflow([task("fine", "ok")], [sh("ok", "true"), sh("fail", "exit 1")],
                        on_exit=[task("cleanup", "fail", when="'{{workflow.status}}' == "
                                                               "'Succeeded'")])
    result = run_workflow(manifest)
    assert (result.main_phase, result.node("cleanup").phase) == ("Succeeded", "Failed")
    assert result.phase == "Failed"


def test_a_task_waiting_for_ever_leaves_the_workflow_running(
        run_workflow: RunWorkflow) -> None:
    """A Failed producer wrote no output: Argo requeues the consumer's argument for ever."""
    manifest = workflow(
        [task("a", "fail", continueOn={"failed": True}),
         task("b", "show", dependencies=["a"], params={"x": "{{tasks.a.outputs.parameters.out}}"})],
        [sh("fail", "exit 1", outputs=[{"name": "out", "valueFrom": {"path": "/work/none"}}]),
         sh("show", "true", inputs=["x"])])
    result = run_workflow(manifest)
    assert result.phase == "Running"
    assert "tasks.a.outputs.parameters.out" in result.message
