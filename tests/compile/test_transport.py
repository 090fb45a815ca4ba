"""What travels between pods in a compiled manifest: results, phases, files, the store."""

from __future__ import annotations

from typing import Any

import pytest

from engine.compile import build
from engine.compile import contract as c
from engine.compile.checks import check_compiled
from engine.diagnostics import SpecError

from .conftest import REPO, compiled_from, spec_from


def _tasks(compiled: Any) -> dict[str, dict[str, Any]]:
    spec = compiled.manifest_spec()
    return {t["name"]: t for tpl in spec["templates"] if "dag" in tpl
            for t in tpl["dag"]["tasks"]}


def _templates(compiled: Any) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in compiled.manifest_spec()["templates"]}


def _codes(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        build(spec_from(text))
    return [d.code for d in caught.value.diagnostics]


def test_a_step_that_reads_results_gets_each_ancestors_result_and_phase() -> None:
    compiled = build(spec_from((REPO / "specs/examples/retries.yaml").read_text()))
    tasks = _tasks(compiled)
    merge = tasks["merge"]["arguments"]
    assert merge["artifacts"] == [
        {"name": f"result--{name}", "optional": True,
         "from": f"{{{{tasks.{name}.outputs.artifacts.flowspec-result}}}}"}
        for name in ("fetch-orders", "fetch-refunds", "fetch-partner-feed")]
    phases = {p["name"]: p["value"] for p in merge["parameters"]}[c.PHASES_INPUT]
    assert phases == ("fetch-orders={{tasks.fetch-orders.status}},"
                      "fetch-refunds={{tasks.fetch-refunds.status}},"
                      "fetch-partner-feed={{tasks.fetch-partner-feed.status}}")
    # noop and shell steps see only their env: nothing is handed to them
    assert "artifacts" not in tasks["publish"]["arguments"]
    assert "artifacts" not in tasks["fetch-orders"]["arguments"]
    producer = _templates(compiled)[tasks["fetch-orders"]["template"]]
    assert producer["outputs"]["artifacts"] == [
        {"name": c.RESULT_ARTIFACT, "path": c.result_path(c.ROOT), "optional": True,
         "archive": {"none": {}}}]
    consumer = _templates(compiled)[tasks["merge"]["template"]]
    assert {a["name"]: a["path"] for a in consumer["inputs"]["artifacts"]} == {
        f"result--{n}": c.result_input_path(c.ROOT, n)
        for n in ("fetch-orders", "fetch-refunds", "fetch-partner-feed")}
    assert check_compiled(compiled) == []


FINALLY = """
    apiVersion: flowspec/v1
    kind: Workflow
    metadata: {name: audit}
    steps:
      - {name: a, processor: shell, config: {command: 'true'}}
    finally:
      - name: audit
        processor: python
        config: {function: 'processors.examples:merge_counts', args: {sources: [a]}}
"""


def test_a_finally_step_reads_the_main_steps_results_through_global_artifacts() -> None:
    compiled = compiled_from(FINALLY)
    audit = _tasks(compiled)["audit"]["arguments"]
    assert audit["artifacts"] == [{"name": "result--a", "optional": True,
                                   "from": "{{workflow.outputs.artifacts.flowspec-result--a}}"}]
    assert c.PHASES_INPUT not in {p["name"] for p in audit["parameters"]}
    producer = _templates(compiled)[_tasks(compiled)["a"]["template"]]
    [result] = producer["outputs"]["artifacts"]
    assert result["globalName"] == "flowspec-result--{{inputs.parameters.step}}"
    assert check_compiled(compiled) == []


def test_a_finally_step_cannot_read_a_fan_out_steps_results_without_a_store() -> None:
    fanned = FINALLY.replace("    steps:\n", "    params: {xs: {type: list, default: [1]}}\n"
                             "    steps:\n").replace(
        "config: {command: 'true'}}", "config: {command: 'true'}, for_each: params.xs}", 1)
    assert _codes(fanned) == ["FS816"]
    stored = fanned + "    argo: {store: {secret: {name: db, key: url}}}\n"
    compiled = compiled_from(stored)
    assert "artifacts" not in _tasks(compiled)["audit"]["arguments"]
    env = {e["name"]: e for e in _templates(compiled)["run-2"]["container"]["env"]}
    assert env[c.ENV_RESULTS_FROM]["value"] == "store"
    assert env[c.ENV_STORE]["valueFrom"] == {"secretKeyRef": {"name": "db", "key": "url"}}


def test_without_a_repository_results_need_a_store_and_files_cannot_travel() -> None:
    none = FINALLY + "    argo: {artifact_repository: none}\n"
    assert _codes(none) == ["FS815"]
    compiled_from(none.replace("{artifact_repository: none}",
                               "{artifact_repository: none, store: {secret: {name: db, key: u}}}"))
    files = """
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: files}
        params:
          document: {type: file, required: true}
        steps:
          - name: a
            processor: shell
            config: {command: 'cat "$DOC"'}
            env: {DOC: '${{ params.document }}'}
        argo: {artifact_repository: none, store: {secret: {name: db, key: url}}}
    """
    assert _codes(files) == ["FS815"]


def test_a_named_repository_is_referenced() -> None:
    compiled = compiled_from(FINALLY + "    argo: {artifact_repository: {configmap: repos, "
                                       "key: minio}}\n")
    assert compiled.manifest_spec()["artifactRepositoryRef"] == {"configMap": "repos",
                                                                "key": "minio"}


FILES = """
    apiVersion: flowspec/v1
    kind: Workflow
    metadata: {name: files}
    params:
      document: {type: file, required: true}
    steps:
      - name: count
        processor: shell
        config: {command: 'wc -l < "$DOC" > "$FLOWSPEC_OUTPUT_DIR/lines"'}
        env: {DOC: '${{ params.document }}'}
        outputs: {lines: file}
      - name: show
        processor: shell
        dependencies: [count]
        config: {command: 'cat "$LINES"'}
        env: {LINES: '${{ steps.count.outputs.lines }}'}
      - {name: other, processor: noop, dependencies: [count]}
"""


@pytest.mark.parametrize(("value", "location"), [
    ("s3://claims/2026/844.edi", {"s3": {"bucket": "claims", "key": "2026/844.edi"}}),
    ("https://files.example/844.edi", {"http": {"url": "https://files.example/844.edi"}}),
    ("claims/844.edi", {"s3": {"key": "claims/844.edi"}}),
    (None, {"s3": {"key": "{{workflow.parameters.document}}"}}),
])
def test_a_file_param_is_an_input_artifact_of_the_steps_that_read_it(
        value: str | None, location: dict[str, Any]) -> None:
    spec = spec_from(FILES)
    compiled = build(spec, params={"document": value} if value else None)
    tasks = _tasks(compiled)
    assert tasks["count"]["arguments"]["artifacts"] == [{"name": "param--document", **location}]
    assert tasks["show"]["arguments"]["artifacts"] == [
        {"name": "file--count--lines", "optional": True,
         "from": "{{tasks.count.outputs.artifacts.lines}}"}]
    assert "artifacts" not in tasks["other"]["arguments"]
    template = _templates(compiled)[tasks["count"]["template"]]
    assert {"name": "lines", "path": f"{c.files_dir(c.ROOT)}/lines", "optional": True,
            "archive": {"none": {}}} in template["outputs"]["artifacts"]
    assert check_compiled(compiled) == []


@pytest.mark.parametrize("value", ["./844.edi", "/data/844.edi", "ftp://host/844.edi"])
def test_a_local_path_is_no_file_param_value_for_argo(value: str) -> None:
    with pytest.raises(SpecError) as caught:
        build(spec_from(FILES), params={"document": value})
    [problem] = caught.value.diagnostics
    assert problem.code == "FS819" and "upload it" in (problem.hint or "")


def test_check_refuses_a_workflow_whose_status_would_pass_the_object_limit() -> None:
    steps = "\n".join(
        f"      - {{name: s{i}, processor: shell, config: {{command: 'true'}}, "
        f"outputs: {{a: string, b: string}}{f', dependencies: [s{i - 1}]' if i else ''}}}"
        for i in range(200))
    text = f"""
    apiVersion: flowspec/v1
    kind: Workflow
    metadata: {{name: chain}}
    defaults:
      retry: {{limit: 5, on: failure}}
    steps:
{steps}
"""
    [problem] = check_compiled(compiled_from(text))
    assert problem.code == "FS818"
    assert "1,401 nodes" in problem.message
    assert check_compiled(compiled_from(text.replace("limit: 5", "limit: 1"))) == []


def test_a_fan_out_steps_files_cannot_be_handed_on() -> None:
    text = """
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: regions}
        params:
          regions: {type: list, default: [eu, us]}
        steps:
          - name: report
            processor: shell
            for_each: params.regions
            config: {command: 'echo "$R" > "$FLOWSPEC_OUTPUT_DIR/page"'}
            env: {R: '${{ item }}'}
            outputs: {page: file}
          - name: publish
            processor: shell
            dependencies: [report]
            config: {command: 'cat $PAGES'}
            env: {PAGES: '${{ steps.report.outputs.page }}'}
    """
    assert _codes(text) == ["FS824"]
    reader = text.replace("""            processor: shell
            dependencies: [report]
            config: {command: 'cat $PAGES'}
            env: {PAGES: '${{ steps.report.outputs.page }}'}""", """            processor: python
            dependencies: [report]
            config: {function: 'processors.examples:merge_counts', args: {sources: [report]}}""")
    assert _codes(reader) == ["FS824"]
    alone = text.split("          - name: publish")[0]
    compiled_from(alone)  # the instances' files are kept as artifacts; nobody reads them
