"""A pod's process: its env, secrets, downwardAPI files, volumes and timeout."""

from __future__ import annotations

import uuid
from pathlib import Path

from .conftest import RunWorkflow
from .controller import pod_name
from .manifests import sh, task, workflow


def test_the_process_sees_only_the_declared_env_path_and_home(
        run_workflow: RunWorkflow) -> None:
    manifest = workflow(
        [task("env", "env", params={"who": "Ada"})],
        [sh("env", "env | cut -d= -f1 | sort | tr '\\n' ' ' > names; printf %s \"$WHO\" > who",
            inputs=["who"], outputs=["names", "who"],
            env=[{"name": "WHO", "value": "{{inputs.parameters.who}}"}])])
    result = run_workflow(manifest)
    names = set(result.node("env").outputs["names"].split())
    assert names - {"PWD", "SHLVL", "_"} == {"HOME", "PATH", "WHO"}  # sh adds the first three
    assert result.node("env").outputs["who"] == "Ada"


def test_secret_key_refs_come_from_the_secret_map(run_workflow: RunWorkflow) -> None:
    def uses(name: str, secret: str, optional: bool) -> dict[str, object]:
        return sh(name, 'printf "%s" "${TOKEN-unset}" > token', outputs=["token"],
                  env=[{"name": "TOKEN", "valueFrom": {"secretKeyRef": {
                      "name": secret, "key": "token", "optional": optional}}}])

    manifest = workflow(
        [task("given", "given"), task("optional", "optional"), task("missing", "missing")],
        [uses("given", "deploy", False), uses("optional", "absent", True),
         uses("missing", "absent", False)])
    result = run_workflow(manifest, secrets={("deploy", "token"): "s3cr3t"})
    assert result.node("given").outputs["token"] == "s3cr3t"
    assert result.node("optional").outputs["token"] == "unset"
    missing = result.node("missing")
    assert (missing.phase, missing.exit_code, missing.stdout) == ("Error", None, "")
    assert 'secret "absent" key "token" not found' in missing.message
    assert result.phase == "Error"


def test_a_downward_api_volume_holds_the_pod_annotation(run_workflow: RunWorkflow) -> None:
    manifest = workflow(
        [task("read", "read")],
        [sh("read", "cat /meta/blob > got", outputs=["got"],
            mounts=[{"name": "meta", "mountPath": "/meta", "readOnly": True}])],
        podMetadata={"annotations": {"example.dev/blob": "H4sI payload"}},
        volumes=[{"name": "meta", "downwardAPI": {"items": [{"path": "blob", "fieldRef": {
            "fieldPath": "metadata.annotations['example.dev/blob']"}}]}}])
    # the script's own path is not mapped: read it through an argument, as a program would
    manifest["spec"]["templates"][1]["container"]["command"] = [
        "sh", "-c", 'cat "$1" > got', "sh", "/meta/blob"]
    result = run_workflow(manifest)
    assert result.node("read").outputs["got"] == "H4sI payload"


def test_a_volume_over_a_host_folder_keeps_the_pods_writes_in_the_pod(
        run_workflow: RunWorkflow) -> None:
    """A program writing to a path it was not handed (``/tmp/...``) writes into its volume."""
    probe = f"/tmp/argo-harness-probe-{uuid.uuid4().hex}"
    manifest = workflow(
        [task("write", "write")],
        [sh("write", f"echo inside > {probe}",
            outputs=[{"name": "seen", "valueFrom": {"path": probe}}],
            mounts=[{"name": "scratch", "mountPath": "/tmp"}])],
        volumes=[{"name": "scratch", "emptyDir": {}}])
    result = run_workflow(manifest)
    assert result.node("write").outputs["seen"] == "inside"
    assert not Path(probe).exists()


def test_the_template_timeout_stops_the_process(run_workflow: RunWorkflow) -> None:
    manifest = workflow([task("slow", "slow")], [sh("slow", "sleep 30", timeout="1s")])
    result = run_workflow(manifest)
    assert result.node("slow").phase == "Failed"
    assert "longer than the timeout 1s" in result.node("slow").message


def test_pod_names_are_argos_v2_names() -> None:
    # FNV-1a 32 of "a" is 0xe40c292c (the published test vector)
    assert pod_name("wf", "a", "tpl") == f"wf-tpl-{0xE40C292C}"
    assert pod_name("wf", "wf", "tpl") == "wf"
    assert pod_name("wf", "a", "") == f"wf-{0xE40C292C}"
    assert len(pod_name("w" * 300, "a", "t")) == 242 + 1 + len(str(0xE40C292C))
