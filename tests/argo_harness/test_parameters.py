"""Parameters as Argo passes them: arguments, inputs, absent outputs, fan-out aggregates."""

from __future__ import annotations

import json

from .conftest import RunWorkflow
from .manifests import sh, task, workflow


def test_an_output_parameter_reaches_the_next_task_with_one_newline_trimmed(
        run_workflow: RunWorkflow) -> None:
    manifest = workflow(
        [task("a", "make", params={"word": "{{workflow.parameters.word}}"}),
         task("b", "show", dependencies=["a"],
              params={"text": "{{tasks.a.outputs.parameters.out}}|{{workflow.name}}"})],
        [sh("make", 'printf "%s\\n\\n" "$WORD" > out', inputs=["word"], outputs=["out"],
            env=[{"name": "WORD", "value": "{{inputs.parameters.word}}"}]),
         sh("show", 'printf "%s" "$TEXT" > out', inputs=["text"], outputs=["out"],
            env=[{"name": "TEXT", "value": "{{inputs.parameters.text}}"}])],
        parameters={"word": "hello"})
    result = run_workflow(manifest, params={"word": "bonjour"})
    assert result.phase == "Succeeded", result.summary()
    assert result.node("a").outputs["out"] == "bonjour\n"  # "bonjour\n\n" less one newline
    assert result.node("b").outputs["out"] == f"bonjour\n|{result.name}"


def test_a_skipped_producers_output_is_absent_and_its_pure_reference_dropped(
        run_workflow: RunWorkflow) -> None:
    """The consumer's input default applies; with no default the consumer is Error; a
    producer's own ``valueFrom.default`` is what its dependants see instead."""
    manifest = workflow(
        [task("a", "make", when="{{=false}}"),
         task("with-default", "show", dependencies=["a"],
              params={"text": "{{tasks.a.outputs.parameters.out}}"}),
         task("no-default", "show-required", dependencies=["a"],
              params={"text": "{{tasks.a.outputs.parameters.out}}"}),
         task("in-a-string", "show", dependencies=["a"],
              params={"text": "x{{tasks.a.outputs.parameters.out}}"}),
         task("producer-default", "show", dependencies=["a"],
              params={"text": "{{tasks.a.outputs.parameters.fallback}}"})],
        [sh("make", "echo made > out", outputs=[
            "out", {"name": "fallback", "valueFrom": {"path": "/work/f", "default": "dflt"}}]),
         sh("show", 'printf "%s" "$TEXT" > out', outputs=["out"],
            inputs=[{"name": "text", "default": "the input default"}],
            env=[{"name": "TEXT", "value": "{{inputs.parameters.text}}"}]),
         sh("show-required", 'printf "%s" "$TEXT" > out', outputs=["out"], inputs=["text"],
            env=[{"name": "TEXT", "value": "{{inputs.parameters.text}}"}])])
    result = run_workflow(manifest)
    assert result.node("a").phase == "Skipped"
    assert result.node("with-default").outputs["out"] == "the input default"
    assert result.node("no-default").phase == "Error"
    assert "inputs.parameters.text was not supplied" in result.node("no-default").message
    assert result.node("in-a-string").phase == "Error"
    assert result.node("producer-default").outputs["out"] == "dflt"
    assert result.phase == "Error"  # the first failed leaf in name order decides


def test_an_omitted_task_omits_its_bare_dependants(run_workflow: RunWorkflow) -> None:
    manifest = workflow(
        [task("a", "ok"), task("b", "ok", depends="a.Failed"), task("c", "ok", depends="b"),
         task("d", "ok", depends="b.Omitted")],
        [sh("ok", "true")])
    result = run_workflow(manifest)
    assert [result.node(n).phase for n in "abcd"] == [
        "Succeeded", "Omitted", "Omitted", "Succeeded"]
    assert result.node("c").last is None  # no pod ever ran
    assert result.phase == "Succeeded"


def test_a_fan_out_aggregates_its_succeeded_childrens_outputs(
        run_workflow: RunWorkflow) -> None:
    manifest = workflow(
        [task("list", "make-list"),
         task("fan", "double", dependencies=["list"],
              withParam="{{tasks.list.outputs.parameters.items}}", params={"n": "{{item}}"}),
         task("sum", "show", dependencies=["fan"],
              params={"text": "{{tasks.fan.outputs.parameters.v}}"}),
         task("empty", "double", withParam="[]", params={"n": "{{item}}"}),
         task("maps", "show", withItems=[{"k": "x(1)"}, {"k": "y"}],
              params={"text": "{{item.k}}"})],
        [sh("make-list", "echo '[1, 2, 5]' > items", outputs=["items"]),
         sh("double", 'test "$N" != 5 && echo $((N * 2)) > v', inputs=["n"], outputs=["v"],
            env=[{"name": "N", "value": "{{inputs.parameters.n}}"}]),
         sh("show", 'printf "%s" "$TEXT" > out', inputs=["text"], outputs=["out"],
            env=[{"name": "TEXT", "value": "{{inputs.parameters.text}}"}])],
        )
    result = run_workflow(manifest)
    fan = result.node("fan")
    assert [c.name for c in fan.children] == ["fan(0:1)", "fan(1:2)", "fan(2:5)"]
    assert [c.phase for c in fan.children] == ["Succeeded", "Succeeded", "Failed"]
    assert fan.phase == "Failed"
    # a bare dependency on a failed group omits its dependant
    assert result.node("sum").phase == "Omitted"
    assert result.node("empty").phase == "Skipped"
    assert [c.outputs["out"] for c in result.node("maps").children] == ["x(1)", "y"]
    assert result.node("maps(0:{\"k\":\"x1\"})").phase == "Succeeded"


def test_a_fan_outs_aggregate_is_a_json_list_of_texts(run_workflow: RunWorkflow) -> None:
    manifest = workflow(
        [task("fan", "double", withItems=[1, 2, 3], params={"n": "{{item}}"}),
         task("sum", "show", dependencies=["fan"],
              params={"text": "{{tasks.fan.outputs.parameters.v}}"})],
        [sh("double", "echo $((N * 2)) > v", inputs=["n"], outputs=["v"],
            env=[{"name": "N", "value": "{{inputs.parameters.n}}"}]),
         sh("show", 'printf "%s" "$TEXT" > out', inputs=["text"], outputs=["out"],
            env=[{"name": "TEXT", "value": "{{inputs.parameters.text}}"}])])
    result = run_workflow(manifest)
    assert result.phase == "Succeeded", result.summary()
    assert json.loads(result.node("sum").outputs["out"]) == ["2", "4", "6"]


def test_when_is_decided_by_argos_libraries_with_the_ancestors_outputs(
        run_workflow: RunWorkflow) -> None:
    manifest = workflow(
        [task("a", "count"),
         task("big", "ok", dependencies=["a"],
              when="{{=asInt(tasks.a.outputs.parameters.n) > 3}}"),
         task("small", "ok", dependencies=["a"], when="{{tasks.a.outputs.parameters.n}} < 3"),
         task("broken", "ok", dependencies=["a"], when="{{tasks.a.outputs.parameters.n}}")],
        [sh("count", "echo 7 > n", outputs=["n"]), sh("ok", "true")])
    result = run_workflow(manifest)
    assert result.node("big").phase == "Succeeded"
    assert result.node("small").phase == "Skipped"
    assert result.node("small").message == "when '7 < 3' evaluated false"
    assert result.node("broken").phase == "Error"  # a when that is not a boolean
