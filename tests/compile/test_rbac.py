"""``flowspec compile --rbac``: the objects a namespace needs, in Kubernetes' shapes, granting
what Argo documents for its executor, to the account the compiled workflow names."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from engine.cli.main import main
from engine.compile.rbac import rbac_objects
from engine.validation import load_spec_file

from .conftest import ARGO, HERE, compiled_from, shipped_specs

SCHEMA = json.loads((HERE / "k8s_rbac.schema.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", shipped_specs(), ids=lambda p: p.name)
def test_rbac_objects_fit_kubernetes_and_bind_the_compiled_account(path: Path) -> None:
    spec = load_spec_file(str(path))
    account, role, binding = rbac_objects(spec)
    for obj in (account, role, binding):
        jsonschema.Draft202012Validator(SCHEMA).validate(obj)
    [argo_role] = yaml.safe_load_all((ARGO / "rbac" / "executor-role.yaml").read_text())
    assert role["rules"] == argo_role["rules"]
    workflow = compiled_from(path.read_text(encoding="utf-8")).manifest
    assert account["metadata"]["name"] == workflow["spec"]["serviceAccountName"]
    assert binding["subjects"][0]["name"] == account["metadata"]["name"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    namespaces = {o["metadata"].get("namespace") for o in (account, role, binding)}
    assert namespaces == {workflow["metadata"].get("namespace")}


def test_cli_prints_the_three_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("apiVersion: flowspec/v1\nkind: Workflow\nmetadata: {name: s}\n"
                    "argo: {service_account: etl, namespace: jobs}\n"
                    "steps: [{name: a, processor: noop}]\n")
    assert main(["compile", "--rbac", str(spec)]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [(d["kind"], d["metadata"]["name"], d["metadata"]["namespace"]) for d in docs] == [
        ("ServiceAccount", "etl", "jobs"), ("Role", "etl-executor", "jobs"),
        ("RoleBinding", "etl-executor", "jobs")]


def test_the_schema_refuses_what_the_api_server_refuses() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    _, role, binding = rbac_objects(load_spec_file(str(shipped_specs()[0])))
    assert not validator.is_valid({**role, "rules": [{"resources": ["pods"]}]})  # no verbs
    assert not validator.is_valid({**binding, "roleRef": {"kind": "Role", "name": "x"}})
    assert not validator.is_valid({**role, "metadata": {"name": "Bad_Name"}})
