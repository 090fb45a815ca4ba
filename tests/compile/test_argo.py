"""How each part of a spec lands in the manifest (the mapping the compiler promises)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.compile import build, codes, compile_spec
from engine.compile import contract as c
from engine.compile.argo import go_duration
from engine.diagnostics import SpecError
from engine.expr.to_argo import NULL_MARKER
from engine.loader import load_text
from engine.model import build_spec
from engine.params import ParamError

from .conftest import compiled_from, spec_from


def _templates(compiled: Any) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in compiled.manifest_spec()["templates"]}


def _tasks(compiled: Any, dag: str = "main") -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in _templates(compiled)[dag]["dag"]["tasks"]}


def _params(compiled: Any) -> dict[str, dict[str, Any]]:
    arguments = compiled.manifest_spec().get("arguments", {})
    return {p["name"]: p for p in arguments.get("parameters", [])}


def _env(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in template["container"]["env"]}


PARAMS = """
    apiVersion: flowspec/v1
    kind: Workflow
    metadata: {name: typed}
    params:
      count: {type: integer, default: 3}
      ratio: {type: number, default: 0.5}
      dry: {type: boolean, default: false}
      regions: {type: list, default: [eu, us]}
      mode: {type: string, enum: [fast, slow], default: fast}
      note: {type: string}
      level: {type: integer, enum: [1, 2]}
      document: {type: string, required: true}
    steps:
      - {name: a, processor: noop}
"""


def test_every_param_value_is_a_string_and_null_has_its_marker() -> None:
    params = _params(compiled_from(PARAMS))
    assert {name: p.get("value") for name, p in params.items()} == {
        "count": "3", "ratio": "0.5", "dry": "false", "regions": '["eu","us"]', "mode": "fast",
        "note": NULL_MARKER, "level": NULL_MARKER, "document": None,
    }
    assert params["mode"]["enum"] == ["fast", "slow"]
    assert params["level"]["enum"] == ["1", "2", NULL_MARKER]


def test_given_params_are_typed_by_the_spec_and_unknown_ones_refused() -> None:
    spec = spec_from(PARAMS)
    params = _params(build(spec, params={"count": "7", "dry": "true", "document": "x.edi"}))
    assert (params["count"]["value"], params["dry"]["value"]) == ("7", "true")
    with pytest.raises(ParamError, match="expected a whole number"):
        build(spec, params={"count": "seven"})
    with pytest.raises(ParamError, match="unknown param 'cuont'"):
        build(spec, params={"cuont": "1"})


def test_required_param_without_value_is_left_to_argo_submit_unless_required_now() -> None:
    spec = spec_from(PARAMS)
    assert "value" not in _params(build(spec))["document"]
    for kwargs in ({"require_values": True}, {"kind": "CronWorkflow"}):
        with pytest.raises(SpecError) as err:
            build(spec, **kwargs)
        assert {d.code for d in err.value.diagnostics} == {codes.PARAM_NEEDS_VALUE.id} | (
            {codes.NO_SCHEDULE.id} if kwargs.get("kind") else set())


def test_a_value_with_a_template_tag_is_refused_where_it_is_written() -> None:
    spec = spec_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: tags}
        params:
          greeting: {type: string, default: 'hi {{workflow.name}}'}
        steps:
          - {name: a, processor: noop}
    """)
    with pytest.raises(SpecError) as err:
        build(spec)
    [d] = err.value.diagnostics
    assert (d.code, d.line) == (codes.TEMPLATE_TAG_IN_VALUE.id, 5)


SECRETS = """
    apiVersion: flowspec/v1
    kind: Workflow
    metadata: {name: secrets}
    env:
      DATABASE_URL: {secret: {name: db, key: url}}
      API_KEY: {secret: {name: vendor, key: api-key}, optional: true}
    steps:
      - {name: a, processor: noop}
"""


def test_secrets_become_secret_key_refs_and_no_value_reaches_the_manifest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_URL", "postgresql://admin:hunter2@db/prod")
    monkeypatch.setenv("VENDOR_API_KEY", "sk-live-0123456789")
    compiled = compiled_from(SECRETS)
    env = _env(_templates(compiled)["run-1"])
    assert env["DATABASE_URL"] == {"name": "DATABASE_URL",
                                   "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}
    assert env["API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "vendor", "key": "api-key", "optional": True}
    text = compiled.to_yaml()
    assert "hunter2" not in text and "sk-live" not in text


def test_steps_of_one_shape_share_a_template_and_differ_by_arguments() -> None:
    steps = "\n".join(
        f"      - {{name: s{i}, processor: noop, config: {{outputs: {{n: {i}}}}}, "
        f"outputs: {{n{i % 3}: integer}}}}" for i in range(30))
    compiled = compiled_from(f"""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {{name: many}}
        steps:
{steps}
          - name: other
            processor: noop
            argo: {{image: ghcr.io/acme/other:1}}
    """.replace("\n      - ", "\n          - "))
    templates = _templates(compiled)
    assert sorted(templates) == ["main", "run-1", "run-2"]
    assert [p["name"] for p in templates["run-1"]["outputs"]["parameters"]] == ["n0", "n1", "n2"]
    assert _env(templates["run-1"])[c.ENV_OUTPUTS]["value"] == "n0,n1,n2"
    assert templates["run-2"]["container"]["image"] == "ghcr.io/acme/other:1"
    assert {t["arguments"]["parameters"][0]["value"] for t in _tasks(compiled).values()} == \
        {f"s{i}" for i in range(30)} | {"other"}


def test_outputs_have_no_default_and_upstream_inputs_default_to_null() -> None:
    compiled = compiled_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: outputs}
        steps:
          - {name: a, processor: noop, config: {outputs: {n: 1}}, outputs: {n: integer}}
          - name: b
            processor: noop
            dependencies: [a]
            env: {N: '${{ steps.a.outputs.n }} items'}
    """)
    template = _templates(compiled)["run-1"]
    assert template["outputs"]["parameters"] == [
        {"name": "n", "valueFrom": {"path": c.output_path("n")}}]
    inputs = {p["name"]: p for p in template["inputs"]["parameters"]}
    assert inputs["a--n"] == {"name": "a--n", "default": NULL_MARKER}
    assert _env(template)[c.upstream_env("a--n")]["value"] == "{{inputs.parameters.a--n}}"
    assert c.upstream_env("a--n") == "FLOWSPEC_UPSTREAM_1_a_n"
    assert _tasks(compiled)["b"]["arguments"]["parameters"][1] == {
        "name": "a--n", "value": "{{tasks.a.outputs.parameters.n}}"}
    assert "N" not in _env(template)  # literal env is rendered by the runner from the spec


@pytest.mark.parametrize(("retry", "expected"), [
    ("{limit: 2, on: failure}", {"limit": "2", "retryPolicy": "OnFailure"}),
    ("{limit: 1, on: error}", {"limit": "1", "retryPolicy": "OnError"}),
    ("{limit: 4, on: always, backoff: {delay: 500ms}}",
     {"limit": "4", "retryPolicy": "Always", "backoff": {"duration": "500ms", "factor": "1"}}),
    ("{limit: 3, on: transient, backoff: {delay: 2s, factor: 2, cap: 1m}, max_duration: 1h}",
     {"limit": "3", "retryPolicy": "Always", "expression": "lastRetry.status == 'Error' || lastRetry.exitCode == '75'",
      "backoff": {"duration": "2s", "factor": "2", "cap": "1m", "maxDuration": "1h"}}),
    ("{limit: 0}", None),
])
def test_retry_maps_to_retry_strategy_with_strings(retry: str, expected: Any) -> None:
    compiled = compiled_from(f"""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {{name: retry}}
        steps:
          - {{name: a, processor: noop, retry: {retry}, timeout: 90s}}
    """)
    template = _templates(compiled)["run-1"]
    assert template.get("retryStrategy") == expected
    assert template["timeout"] == "2m"  # the step's 90s plus the runner's grace


def test_go_durations_are_never_bare_numbers() -> None:
    assert [go_duration(s) for s in (0, 0.25, 1.5, 30, 60, 90, 3600, 604800)] == [
        "0s", "250ms", "1500ms", "30s", "1m", "90s", "1h", "168h"]


DEPENDS = """
    apiVersion: flowspec/v1
    kind: Workflow
    metadata: {name: deps}
    steps:
      - {name: a, processor: noop}
      - {name: b, processor: noop, dependencies: [a]}
      - {name: c, processor: noop, depends: 'a.Failed || b'}
"""


def test_dependencies_become_depends_when_any_step_uses_depends() -> None:
    tasks = _tasks(compiled_from(DEPENDS))
    assert tasks["b"]["depends"] == "a" and "dependencies" not in tasks["b"]
    assert tasks["c"]["depends"] == "a.Failed || b"


def test_without_depends_dependencies_and_continue_on_pass_through() -> None:
    tasks = _tasks(compiled_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: plain}
        steps:
          - {name: a, processor: noop, continue_on: {error: true}}
          - {name: b, processor: noop, dependencies: [a]}
    """))
    assert tasks["a"]["continueOn"] == {"error": True}
    assert tasks["b"]["dependencies"] == ["a"] and "depends" not in tasks["b"]


def test_continue_on_in_a_finally_dag_that_uses_depends_is_refused() -> None:
    spec = spec_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: fin}
        steps:
          - {name: a, processor: noop}
        finally:
          - {name: first, processor: noop, continue_on: {failed: true}}
          - {name: second, processor: noop, depends: first.Failed}
    """)
    with pytest.raises(SpecError) as err:
        build(spec)
    assert [(d.code, d.line) for d in err.value.diagnostics] == [
        (codes.CONTINUE_ON_IN_DEPENDS_DAG.id, 7)]


def test_finally_is_an_exit_handler_dag_that_receives_the_workflow_status() -> None:
    compiled = compiled_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: fin}
        steps:
          - {name: a, processor: noop}
        finally:
          - {name: report, processor: noop, when: "workflow.status == 'Failed'"}
    """)
    spec = compiled.manifest_spec()
    assert spec["onExit"] == "finally"
    task = _tasks(compiled, "finally")["report"]
    assert {"name": c.WORKFLOW_STATUS_INPUT, "value": "{{workflow.status}}"} in \
        task["arguments"]["parameters"]
    assert task["when"] == "{{=(workflow.status == 'Failed')}}"
    template = _templates(compiled)[task["template"]]
    assert _env(template)[c.ENV_WORKFLOW_STATUS]["value"] == \
        "{{inputs.parameters.workflow-status}}"


def test_more_than_200_steps_are_refused_by_the_compiler_too() -> None:
    steps = "".join(f"  - {{name: s{i}, processor: noop}}\n" for i in range(201))
    doc, problems = load_text("apiVersion: flowspec/v1\nkind: Workflow\n"
                              f"metadata: {{name: big}}\nsteps:\n{steps}", "big.yaml")
    assert doc is not None and not problems
    with pytest.raises(SpecError) as err:
        build(build_spec(doc))  # the validator refuses it first (FS602); the compiler also does
    assert [(d.code, d.line) for d in err.value.diagnostics] == [(codes.TOO_MANY_TASKS.id, 5)]


def test_argo_section_secure_defaults_and_overrides() -> None:
    compiled = compiled_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: secure, description: What it does, labels: {team: a}}
        timeout: 90m
        parallelism: 3
        steps:
          - name: a
            processor: noop
            resources: {cpu: 2, memory: 1Gi}
            argo: {security_context: {readOnlyRootFilesystem: false}, pod_spec_patch: '{}'}
        argo:
          namespace: jobs
          service_account: runner
          pod_gc: OnWorkflowSuccess
          ttl_after_finished: 7d
          image_pull_policy: IfNotPresent
          security_context: {runAsUser: 1000}
          annotations: {owner: me}
    """)
    manifest, spec = compiled.manifest, compiled.manifest_spec()
    assert manifest["metadata"]["namespace"] == "jobs"
    assert manifest["metadata"]["generateName"] == "secure-"
    assert manifest["metadata"]["annotations"] == {
        "owner": "me", "flowspec.dev/source-sha256": compiled.spec.source_hash,
        "workflows.argoproj.io/description": "What it does"}
    assert manifest["metadata"]["labels"] == {"team": "a", "flowspec.dev/workflow": "secure"}
    assert (spec["serviceAccountName"], spec["podGC"], spec["ttlStrategy"],
            spec["activeDeadlineSeconds"], spec["parallelism"]) == (
        "runner", {"strategy": "OnWorkflowSuccess"}, {"secondsAfterCompletion": 604800},
        5400, 3)
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": 1000,
                                       "seccompProfile": {"type": "RuntimeDefault"}}
    template = _templates(compiled)["run-1"]
    container = template["container"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": False, "runAsNonRoot": True}
    assert container["resources"] == {"limits": {"memory": "1Gi"},
                                      "requests": {"cpu": "2", "memory": "1Gi"}}
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert template["podSpecPatch"] == "{}"


@pytest.mark.parametrize("kind", ["Workflow", "WorkflowTemplate", "CronWorkflow"])
def test_operator_defaults_without_argo_settings(kind: str) -> None:
    """What a namespace with quotas needs, and what every spawned workflow keeps."""
    compiled = compiled_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: plain, labels: {team: a}}
        steps:
          - {name: a, processor: noop}
          - {name: b, processor: noop, resources: {cpu: 2}}
        argo: {schedules: ['@daily']}
    """, kind=kind)
    spec = compiled.manifest_spec()
    assert (spec["serviceAccountName"], spec["podGC"], spec["ttlStrategy"],
            spec["activeDeadlineSeconds"]) == (
        "flowspec", {"strategy": "OnPodSuccess"}, {"secondsAfterCompletion": 7 * 86400}, 86400)
    assert spec["workflowMetadata"] == {
        "labels": compiled.manifest["metadata"]["labels"],
        "annotations": {"flowspec.dev/source-sha256": compiled.spec.source_hash}}
    assert spec["workflowMetadata"]["labels"] == {"team": "a", "flowspec.dev/workflow": "plain"}
    resources = [t["container"]["resources"] for t in spec["templates"] if "container" in t]
    assert resources == [{"requests": {"cpu": "100m", "memory": "256Mi"}},
                         {"requests": {"cpu": "2", "memory": "256Mi"}}]


def test_the_spec_travels_once_encoded_and_pinned_by_its_hash() -> None:
    """Once: a pod annotation every pod shows as a file, never a copy in each node's inputs
    (a node's inputs are kept in the workflow's status)."""
    compiled = compiled_from(SECRETS)
    spec = compiled.manifest_spec()
    blob = spec["podMetadata"]["annotations"][c.SPEC_ANNOTATION]
    assert "{{" not in blob
    assert c.decode_spec(blob) == compiled.spec.document.source.text
    assert compiled.to_yaml().count(blob) == 1
    volume = next(v for v in spec["volumes"] if v["name"] == c.SPEC_VOLUME)
    assert volume["downwardAPI"]["items"] == [{
        "path": "spec",
        "fieldRef": {"fieldPath": f"metadata.annotations['{c.SPEC_ANNOTATION}']"}}]
    template = _templates(compiled)["run-1"]
    assert _env(template)[c.ENV_SPEC_SHA256]["value"] == compiled.spec.source_hash == \
        c.spec_sha256(c.decode_spec(blob))
    assert "artifacts" not in template["inputs"]
    assert {"name": c.SPEC_VOLUME, "mountPath": c.SPEC_MOUNT, "readOnly": True} in \
        template["container"]["volumeMounts"]
    assert template["container"]["args"][:2] == ["--spec", c.SPEC_PATH]


def test_kinds_and_the_hera_object() -> None:
    spec = spec_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: a-very-long-workflow-name-that-fills-up-all-sixty-three-chars-x}
        steps:
          - {name: a, processor: noop}
    """)
    import engine

    workflow = engine.compile(spec)  # the public API: a Hera workflow
    assert type(workflow).__name__ == "Workflow"
    assert compile_spec(spec, kind="WorkflowTemplate").name == spec.name
    assert workflow.generate_name == spec.name[:57] + "-"
    assert "kind: Workflow" in workflow.to_yaml()  # Hera's own writer works on it too
    template = build(spec, kind="WorkflowTemplate").manifest
    assert (template["kind"], template["metadata"]["name"]) == ("WorkflowTemplate", spec.name)
    with pytest.raises(ValueError, match="unknown kind"):
        build(spec, kind="Job")


def test_cron_workflow_takes_its_schedule_from_the_argo_section() -> None:
    text = """
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: cron}
        steps:
          - {name: a, processor: noop}
    """
    with pytest.raises(SpecError) as err:
        build(spec_from(text), kind="CronWorkflow")
    assert [d.code for d in err.value.diagnostics] == [codes.NO_SCHEDULE.id]
    scheduled = text.rstrip() + "\n        argo: {schedules: ['@daily', '0 2 * * 1'], timezone: UTC}\n"
    manifest = build(spec_from(scheduled), kind="CronWorkflow").manifest
    assert (manifest["metadata"]["name"], manifest["spec"]["schedules"],
            manifest["spec"]["timezone"], manifest["spec"]["workflowSpec"]["entrypoint"]) == (
        "cron", ["@daily", "0 2 * * 1"], "UTC", "main")


def test_a_kubernetes_override_of_the_wrong_type_is_a_positioned_problem() -> None:
    spec = spec_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: bad}
        steps:
          - {name: a, processor: noop, argo: {security_context: {runAsUser: many}}}
    """)
    with pytest.raises(SpecError) as err:
        build(spec)
    [d] = err.value.diagnostics
    assert (d.code, d.line, d.message.split(":")[0]) == (codes.BAD_OVERRIDE.id, 5, "runAsUser")


def test_image_flag_replaces_argo_image_but_not_a_steps_own() -> None:
    text = """
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: images}
        argo: {image: ghcr.io/acme/old:1}
        steps:
          - {name: a, processor: noop}
          - {name: b, processor: noop, argo: {image: ghcr.io/acme/ocr:2}}
    """
    def images(compiled: Any) -> list[str]:
        return [t["container"]["image"] for t in _templates(compiled).values() if "container" in t]

    assert images(compiled_from(text)) == ["ghcr.io/acme/old:1", "ghcr.io/acme/ocr:2"]
    assert images(compiled_from(text, image="registry.local/flowspec:abc")) == [
        "registry.local/flowspec:abc", "ghcr.io/acme/ocr:2"]


def test_cli_image_flag(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli.main import main

    spec = tmp_path / "s.yaml"
    spec.write_text("apiVersion: flowspec/v1\nkind: Workflow\nmetadata: {name: s}\n"
                    "steps: [{name: a, processor: noop}]\n")
    assert main(["compile", str(spec), "--image", "registry.local/flowspec:abc", "--check"]) == 0
    assert "image: registry.local/flowspec:abc" in capsys.readouterr().out


def test_upstream_env_names_are_shell_names_and_never_shared() -> None:
    """A shell entry point drops env names holding '-'; two inputs must never share one."""
    import re
    from itertools import product

    steps = ["a", "a-b", "a--b", "ab", "a-b-c", "b"]
    outputs = ["c", "b_c", "c_", "x1"]
    names = {c.upstream_env(c.upstream_input(s, o)) for s, o in product(steps, outputs)}
    assert len(names) == len(steps) * len(outputs)
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in names)
