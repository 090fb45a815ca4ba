"""The offline Argo checks: they accept what Argo accepts and catch what it would reject.

Each layer is tested on real inputs: Argo's own examples must pass the strict CRD layer and
the CEL predicates (so strictness rejects nothing Argo accepts), and targeted mutations of
a compiled manifest must be caught by the layer that the API server or controller uses.
"""

from __future__ import annotations

import copy
import os
import secrets
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.compile import build, codes
from engine.compile.checks import check_compiled, check_manifest
from engine.compile.schemas import (
    CEL_RULES,
    KIND_SOURCES,
    build_bundle,
    bundle_path,
    cel_problems,
    crd_schema,
    crd_validator,
    json_schema_validator,
)
from engine.compile.versions import TARGETS, ArgoTarget

from .conftest import ARGO, REPO, argo_release_dir, compiled_from, regen, spec_from

SPEC = """
    apiVersion: flowspec/v1
    kind: Workflow
    metadata: {name: checked}
    params:
      who: {type: string, default: world}
    steps:
      - name: a
        processor: noop
        config: {outputs: {n: 1}}
        outputs: {n: integer}
      - name: b
        processor: noop
        dependencies: [a]
        env:
          N: ${{ steps.a.outputs.n }}
      - name: c
        processor: noop
        dependencies: [a]
        when: steps.a.outputs.n > 0
"""


@pytest.mark.parametrize("argo", TARGETS.values(), ids=lambda t: t.version)
def test_shipped_bundle_is_built_from_argos_own_files(argo: ArgoTarget) -> None:
    source = argo_release_dir(argo)
    fresh = build_bundle(source)
    bundle = bundle_path(argo)
    if regen():
        bundle.write_bytes(fresh)
    assert bundle.read_bytes() == fresh, (
        f"{bundle.name} is stale; rebuild it with FLOWSPEC_REGEN=1 or "
        f"python -m engine.compile.schemas {source.relative_to(REPO)} {argo.version}")


def _argo_examples() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((ARGO / "examples").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind") in KIND_SOURCES:
                found.append((str(path.relative_to(ARGO / "examples")), doc))
    return found


def test_strict_crd_layer_and_cel_rules_accept_every_argo_example() -> None:
    examples = _argo_examples()
    assert len(examples) > 150
    rejected = []
    for name, doc in examples:
        kind = doc["kind"]
        errors = [e.message for e in crd_validator(kind).iter_errors(doc)]
        errors += [m for _, m in cel_problems(crd_schema(kind), doc)]
        if errors:
            rejected.append((name, errors[:2]))
    assert rejected == []


def test_json_schema_layer_rejects_only_the_integers_argo_types_as_strings() -> None:
    # SEMANTICS 1.3: schema.json types IntOrString as string, so 11 examples fail on exactly
    # that; strict unknown-field checking must add no other failure.
    other = []
    for name, doc in _argo_examples():
        for error in json_schema_validator(doc["kind"]).iter_errors(doc):
            if not (isinstance(error.instance, int) and error.validator == "type"):
                other.append((name, error.message))
    assert other == []


def test_every_cel_rule_of_the_crds_has_a_predicate() -> None:
    rules: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            rules.update(r["rule"] for r in node.get("x-kubernetes-validations", ()))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for kind in KIND_SOURCES:
        walk(crd_schema(kind))
    assert rules == set(CEL_RULES)


def _mutated(change: Any) -> tuple[Any, dict[str, Any]]:
    compiled = compiled_from(SPEC)
    manifest = copy.deepcopy(compiled.manifest)
    change(manifest)
    return compiled, manifest


def _task(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    main = next(t for t in manifest["spec"]["templates"] if t["name"] == "main")
    return next(t for t in main["dag"]["tasks"] if t["name"] == name)


def _step_template(manifest: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in manifest["spec"]["templates"] if "container" in t)


def _codes(manifest: dict[str, Any]) -> set[str]:
    return {p.code.id for p in check_manifest(manifest, "Workflow")}


def test_a_compiled_manifest_passes_every_layer() -> None:
    assert check_manifest(compiled_from(SPEC).manifest) == []


def test_unknown_field_is_rejected_by_both_schemas() -> None:
    _, manifest = _mutated(lambda m: _step_template(m).__setitem__("containr", {}))
    assert {codes.ARGO_SCHEMA.id, codes.ARGO_CRD.id} <= _codes(manifest)


def test_unquoted_parameter_value_is_rejected_by_the_crd() -> None:
    def change(m: dict[str, Any]) -> None:
        m["spec"]["arguments"]["parameters"][0]["value"] = 5

    _, manifest = _mutated(change)
    problems = check_manifest(manifest)
    assert any(p.code is codes.ARGO_CRD and p.path[-1] == "value" for p in problems)


def test_retry_limit_as_integer_passes_the_crd_but_not_schema_json() -> None:
    def change(m: dict[str, Any]) -> None:
        _step_template(m)["retryStrategy"] = {"limit": 3}

    _, manifest = _mutated(change)
    assert _codes(manifest) == {codes.ARGO_SCHEMA.id}


def test_cel_rules_depends_with_dependencies_and_continue_on() -> None:
    def change(m: dict[str, Any]) -> None:
        task = _task(m, "b")
        task["depends"] = "a"
        task["continueOn"] = {"failed": True}

    _, manifest = _mutated(change)
    messages = {p.message for p in check_manifest(manifest) if p.code is codes.ARGO_RULE}
    assert messages == {"cannot use both 'depends' and 'dependencies'",
                        "cannot use 'continueOn' when using 'depends'"}


def test_mixing_depends_and_dependencies_across_tasks_breaks_argo_validation() -> None:
    # The CEL rule is per task; Argo's validate.go rejects the mix per DAG (appendix 6).
    def change(m: dict[str, Any]) -> None:
        task = _task(m, "c")
        del task["dependencies"]
        task["depends"] = "a.Succeeded"

    _, manifest = _mutated(change)
    lint = [p for p in check_manifest(manifest) if p.code is codes.ARGO_LINT]
    assert [p.message for p in lint] == [
        "cannot use both 'depends' and 'dependencies' in the same DAG template"]
    assert lint[0].path[-2:] == ("tasks", 1)


def test_two_template_types_and_timeout_on_a_dag_break_cel_rules() -> None:
    def change(m: dict[str, Any]) -> None:
        main = m["spec"]["templates"][0]
        main["timeout"] = "1m"
        main["container"] = {"image": "x"}

    _, manifest = _mutated(change)
    messages = {p.message for p in check_manifest(manifest) if p.code is codes.ARGO_RULE}
    assert messages == {"template must have at most one template type",
                        "timeout cannot be applied to steps or dag templates"}


def test_missing_input_and_non_ancestor_output_break_argo_validation() -> None:
    def change(m: dict[str, Any]) -> None:
        _task(m, "c")["arguments"]["parameters"] = [
            {"name": "a--n", "value": "{{tasks.b.outputs.parameters.n}}"}]

    _, manifest = _mutated(change)
    messages = {p.message for p in check_manifest(manifest) if p.code is codes.ARGO_LINT}
    assert messages == {"inputs.parameters.step was not supplied",
                        "missing dependency 'b' for {{tasks.b.outputs.parameters.n}}"}


def test_bad_label_and_missing_name_break_object_rules() -> None:
    def change(m: dict[str, Any]) -> None:
        m["metadata"]["labels"]["team"] = "not a label value"
        del m["metadata"]["generateName"]

    _, manifest = _mutated(change)
    messages = {p.message for p in check_manifest(manifest) if p.code is codes.ARGO_OBJECT}
    assert messages == {
        "name or generateName is required",
        "label value 'not a label value' must be at most 63 letters, digits, '-', '_', '.'",
    }


def test_check_compiled_points_at_the_spec_line_of_the_broken_part() -> None:
    compiled = compiled_from(SPEC)
    _task(compiled.manifest, "c")["when"] = 7
    [diagnostic] = [d for d in check_compiled(compiled) if d.code == codes.ARGO_CRD.id]
    line = compiled.spec.document.source.line_text(diagnostic.line)
    assert line.strip().startswith("when: steps.a.outputs.n > 0")
    assert "spec.templates[0].dag.tasks[2].when" in diagnostic.message


def test_an_oversized_manifest_is_refused_at_the_param_that_makes_it_big() -> None:
    blob = secrets.token_hex(800_000)  # 1.6 MB of incompressible text
    spec = spec_from("""
        apiVersion: flowspec/v1
        kind: Workflow
        metadata: {name: huge}
        params:
          blob: {type: string}
        steps:
          - {name: a, processor: noop}
    """)
    diagnostics = check_compiled(build(spec, params={"blob": blob}))
    assert [d.code for d in diagnostics] == [codes.ARGO_OBJECT.id]
    assert "Kubernetes stores at most 1572864" in diagnostics[0].message


def test_cli_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli.main import main

    good = tmp_path / "good.yaml"
    good.write_text(textwrap.dedent(SPEC).lstrip(), encoding="utf-8")
    assert main(["compile", str(good), "--check"]) == 0
    out, err = capsys.readouterr()
    assert yaml.safe_load(out)["kind"] == "Workflow"
    assert "passes Argo 4.1's JSON Schema, CRD and CEL rules (v4.1.2;" in err

    big = tmp_path / "big.yaml"
    big.write_text(f"""apiVersion: flowspec/v1
kind: Workflow
metadata: {{name: huge}}
params:
  blob: {{type: string, default: '{secrets.token_hex(800_000)}'}}
steps:
  - {{name: a, processor: noop}}
""", encoding="utf-8")
    assert main(["compile", str(big), "--check"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{big}:1:1: error: the spec is " in err and "[FS817]" in err


@pytest.mark.skipif(os.name != "posix", reason="file permissions")
def test_cli_output_file_and_unwritable_path(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli.main import main

    spec = REPO / "specs" / "examples" / "hello.yaml"
    target = tmp_path / "out.yaml"
    assert main(["compile", str(spec), "-o", str(target), "--kind", "WorkflowTemplate"]) == 0
    assert yaml.safe_load(target.read_text())["kind"] == "WorkflowTemplate"
    assert main(["compile", str(spec), "-o", str(tmp_path / "no" / "such" / "dir.yaml")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_a_schedule_or_zone_argos_controller_refuses_is_placed_on_its_spec_line() -> None:
    """``99 99 * * *`` has a cron schedule's shape, which is all the schemas see."""
    compiled = compiled_from(textwrap.dedent(SPEC).replace("steps:", "argo:\n  schedules: ['0 2 * * *']\n"
                                          "  timezone: Europe/Berlin\nsteps:", 1),
                             kind="CronWorkflow")
    assert check_compiled(compiled) == []
    compiled.manifest["spec"].update(schedules=["0 2 * * *", "99 99 * * *"], timezone="Mars/Base")
    found = {d.message.split(":")[0]: d for d in check_compiled(compiled)}
    assert set(found) == {"spec.schedules[1]", "spec.timezone"}
    assert all(d.code == codes.ARGO_LINT.id for d in found.values())
    assert "minute '99'" in found["spec.schedules[1]"].message
    source = compiled.spec.document.source
    assert source.line_text(found["spec.schedules[1]"].line).strip().startswith("schedules:")
    assert source.line_text(found["spec.timezone"].line).strip().startswith("timezone:")
