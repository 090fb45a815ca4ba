"""The seed's adapter: same validator, same compiler, and no literal secret gets through."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from engine.compile import build
from engine.compile.checks import check_manifest
from engine.diagnostics import SpecError
from engine.validation import load_spec_file
from processors.chargeback.adapter import (
    DEFAULT_SPEC,
    ChargebackWorkflowOrchestrationAdapter,
    LiteralSecretError,
)

REPO = Path(__file__).resolve().parents[2]


def _params(workflow: object) -> dict[str, str]:
    manifest = workflow.to_dict()  # type: ignore[attr-defined]
    return {p["name"]: p.get("value") for p in manifest["spec"]["arguments"]["parameters"]}


def test_chargeback_workflow_is_the_compiled_shipped_spec_with_the_claim() -> None:
    adapter = ChargebackWorkflowOrchestrationAdapter({"namespace": "claims"})
    workflow = adapter.create_chargeback_workflow(
        "s3://claims/844-0001.edi", "basket-7",
        {"LOG_LEVEL": "debug", "SAP_PASSWORD": {"secret": {"name": "sap", "key": "password"}}})
    assert workflow.namespace == "claims"
    params = _params(workflow)
    assert (params["document"], params["basket_id"]) == ("s3://claims/844-0001.edi", "basket-7")
    manifest = workflow.to_dict()
    assert check_manifest(manifest) == []
    reference = build(load_spec_file(DEFAULT_SPEC),
                      params={"document": "s3://claims/844-0001.edi"}).manifest
    tasks = manifest["spec"]["templates"][0]["dag"]["tasks"]
    assert tasks == reference["spec"]["templates"][0]["dag"]["tasks"]
    env = {e["name"]: e for t in manifest["spec"]["templates"] if "container" in t
           for e in t["container"]["env"]}
    assert env["SAP_PASSWORD"]["valueFrom"] == {
        "secretKeyRef": {"name": "sap", "key": "password"}}


@pytest.mark.parametrize("env_vars", [
    {"SAP_PASSWORD": "hunter2-literal"},
    {"LOG_LEVEL": "info", "OPENAI_API_KEY": "sk-live-literal"},
    {"DATABASE_URL": "postgresql://app:hunter2-literal@db/claims"},
])
def test_literal_secrets_are_refused_with_how_to_reference_a_secret(
        env_vars: dict[str, str]) -> None:
    adapter = ChargebackWorkflowOrchestrationAdapter()
    with pytest.raises(LiteralSecretError) as err:
        adapter.create_chargeback_workflow("claim.edi", None, env_vars)
    message = str(err.value)
    secret_name = next(n for n in env_vars if n != "LOG_LEVEL")
    assert f"env var(s) {secret_name} hold a secret as a literal value" in message
    assert "kubectl create secret generic" in message and "'secret': {'name'" in message
    assert all(v not in message for v in env_vars.values())


def test_workflow_from_seed_steps() -> None:
    adapter = ChargebackWorkflowOrchestrationAdapter({"name": "seed-flow", "image": "acme/x:1"})
    workflow = adapter.create_workflow_from_steps([
        {"name": "extract", "processor": "noop", "args": {"outputs": {"n": 1}}},
        {"name": "check", "processor": "shell", "dependencies": ["extract"],
         "env": {"MODE": "strict"}, "args": {"command": "true"}},
    ])
    manifest = workflow.to_dict()
    assert manifest["metadata"]["generateName"] == "seed-flow-"
    tasks = manifest["spec"]["templates"][0]["dag"]["tasks"]
    assert [(t["name"], t.get("dependencies")) for t in tasks] == [
        ("extract", None), ("check", ["extract"])]
    assert {t["container"]["image"] for t in manifest["spec"]["templates"]
            if "container" in t} == {"acme/x:1"}
    assert check_manifest(manifest) == []


def test_seed_steps_get_the_validators_diagnostics() -> None:
    adapter = ChargebackWorkflowOrchestrationAdapter()
    with pytest.raises(SpecError) as err:
        adapter.create_workflow_from_steps([
            {"name": "a", "processor": "nope"},
            {"name": "b", "processor": "noop", "dependencies": ["c"]}])
    assert {d.code for d in err.value.diagnostics} >= {"FS401", "FS203"}
    with pytest.raises(LiteralSecretError, match="API_TOKEN"):
        adapter.create_workflow_from_steps(
            [{"name": "a", "processor": "noop", "env": {"API_TOKEN": "abc123456"}}])
    with pytest.raises(ValueError, match="unknown key"):
        adapter.create_workflow_from_steps([{"name": "a", "processor": "noop", "retry": 3}])
    with pytest.raises(ValueError, match="unknown config key"):
        ChargebackWorkflowOrchestrationAdapter({"namspace": "x"})


def test_the_shipped_spec_is_the_repositorys_byte_for_byte() -> None:
    """A non-editable install has only the package's copy of specs/chargeback.yaml.
    After editing the spec: cp specs/chargeback.yaml processors/chargeback/"""
    assert DEFAULT_SPEC.read_bytes() == (REPO / "specs" / "chargeback.yaml").read_bytes()


def test_the_shipped_spec_is_package_data() -> None:
    """setuptools ships a package's non-Python files only when a package-data glob,
    relative to the package's folder, names them."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["processors"]
    shipped = {path for pattern in globs for path in (REPO / "processors").glob(pattern)}
    assert Path(str(DEFAULT_SPEC)) in shipped


def test_a_spec_path_replaces_the_shipped_spec(tmp_path: Path) -> None:
    text = (REPO / "specs" / "chargeback.yaml").read_text(encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text(text.replace("name: chargeback\n", "name: my-chargeback\n", 1),
                    encoding="utf-8")
    workflow = ChargebackWorkflowOrchestrationAdapter(
        {"spec_path": str(mine)}).create_chargeback_workflow("claim.edi")
    assert workflow.to_dict()["metadata"]["generateName"] == "my-chargeback-"
    with pytest.raises(SpecError, match="cannot read the file"):
        ChargebackWorkflowOrchestrationAdapter(
            {"spec_path": str(tmp_path / "none.yaml")}).create_chargeback_workflow("claim.edi")


def test_the_seeds_own_calls_are_understood() -> None:
    """The seed's config keys, list args and a plain KEY env (issue 13, item 8)."""
    service = object()
    adapter = ChargebackWorkflowOrchestrationAdapter({
        "workflow_name": "seed-flow", "processor_image": "acme/runner:2",
        "processor_command": ["python", "-m", "engine.cli.main", "step"],
        "service_client": service})
    workflow = adapter.create_workflow_from_steps([
        {"name": "extract", "processor": "noop", "env": {"KEY": "value", "SORT_KEY": "date"}}])
    assert workflow.workflows_service is service
    manifest = workflow.to_dict()
    assert manifest["metadata"]["generateName"] == "seed-flow-"
    (container,) = [t["container"] for t in manifest["spec"]["templates"] if "container" in t]
    assert container["image"] == "acme/runner:2"
    assert container["command"] == ["python", "-m", "engine.cli.main", "step"]
    assert check_manifest(manifest) == []
    chargeback = adapter.create_chargeback_workflow("claim.edi").to_dict()
    assert {tuple(t["container"]["command"]) for t in chargeback["spec"]["templates"]
            if "container" in t} == {("python", "-m", "engine.cli.main", "step")}
    with pytest.raises(ValueError, match="args is a list; a processor takes its config as a "
                                         "mapping"):
        adapter.create_workflow_from_steps(
            [{"name": "a", "processor": "shell", "args": ["make", "build"]}])
    with pytest.raises(ValueError, match="workflow_name and name, which are the same"):
        ChargebackWorkflowOrchestrationAdapter({"workflow_name": "a", "name": "b"})


def test_the_adapter_submits_and_watches_by_the_name_the_server_gave(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """generateName: the name is the server's, and watching by it follows that workflow."""
    from .argo_server import FakeArgo, argo_server

    monkeypatch.setenv("ARGO_TOKEN", "adapter-token")
    with argo_server(FakeArgo(token="adapter-token")) as fake:
        adapter = ChargebackWorkflowOrchestrationAdapter({"namespace": "claims",
                                                          "server": fake.url})
        workflow = adapter.create_chargeback_workflow("s3://claims/844-0001.edi")
        name = adapter.submit(workflow)
        seen: list[str] = []
        final = adapter.watch(name, poll=0.01, on_update=lambda view: seen.append(view.phase))
    assert fake.violations == []
    create = fake.requests[0]
    assert (create["method"], create["path"]) == ("POST", "/api/v1/workflows/claims")
    assert create["body"]["workflow"]["metadata"]["generateName"] == "chargeback-"
    assert name.startswith("chargeback-") and name != "chargeback-"
    assert {r["path"] for r in fake.requests[1:]} == {f"/api/v1/workflows/claims/{name}"}
    assert final.name == name and final.phase == "Succeeded" and seen[-1] == "Succeeded"
    assert {r["authorization"] for r in fake.requests} == {"Bearer adapter-token"}
