"""Artifacts as Argo's init and wait steps move them, through the S3 server on loopback."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from .artifacts import ObjectStore
from .conftest import RunWorkflow
from .manifests import sh, task, workflow


def from_task(name: str, producer: str, artifact: str, **extra: object) -> dict[str, object]:
    return {"name": name, "from": f"{{{{tasks.{producer}.outputs.artifacts.{artifact}}}}}",
            **extra}


def test_output_artifacts_are_saved_under_argos_key_layout_and_read_back_through_from(
        run_workflow: RunWorkflow, s3: ObjectStore) -> None:
    manifest = workflow(
        [task("make", "make"),
         task("use", "use", dependencies=["make"],
              artifacts=[from_task("plain", "make", "plain"), from_task("tree", "make", "tree")])],
        [sh("make", "printf 'one\\n' > plain.txt; mkdir -p dir/sub; printf a > dir/a; "
                    "printf b > dir/sub/b",
            artifacts_out=[{"name": "plain", "path": "/work/plain.txt", "archive": {"none": {}}},
                           {"name": "tree", "path": "/work/dir"}]),
         sh("use", "cat got.txt got/a got/sub/b > all", outputs=["all"],
            artifacts_in=[{"name": "plain", "path": "/work/got.txt"},
                          {"name": "tree", "path": "/work/got"}])])
    result = run_workflow(manifest)
    assert result.phase == "Succeeded", result.summary()
    make = result.node("make")
    pod = make.last.pod_name if make.last else ""
    assert make.artifacts["plain"].key == f"{result.name}/{pod}/plain.txt"
    assert make.artifacts["tree"].key == f"{result.name}/{pod}/tree.tgz"
    assert s3.get(f"{result.name}/{pod}/plain.txt") == b"one\n"
    with tarfile.open(fileobj=io.BytesIO(s3.get(f"{result.name}/{pod}/tree.tgz"))) as tar:
        assert sorted(m.name for m in tar.getmembers() if m.isfile()) == ["dir/a", "dir/sub/b"]
    assert result.node("use").outputs["all"] == "one\nab"


def test_a_missing_output_artifact_fails_the_node_unless_it_is_optional(
        run_workflow: RunWorkflow, s3: ObjectStore) -> None:
    manifest = workflow(
        [task("optional", "optional"), task("required", "required"),
         task("failed", "failed")],
        [sh("optional", "true", artifacts_out=[
            {"name": "x", "path": "/work/x", "optional": True}]),
         sh("required", "true", artifacts_out=[{"name": "x", "path": "/work/x"}]),
         sh("failed", "exit 3", artifacts_out=[{"name": "x", "path": "/work/x"}])])
    result = run_workflow(manifest)
    assert (result.node("optional").phase, result.node("optional").artifacts) == (
        "Succeeded", {})
    required = result.node("required")
    assert (required.phase, required.exit_code) == ("Error", 0)
    assert "/work/x no such file or directory" in required.message
    assert result.node("failed").phase == "Failed"  # the main container's failure comes first
    assert s3.keys() == []


def test_an_argument_artifact_that_does_not_resolve(run_workflow: RunWorkflow) -> None:
    """Optional: dropped (dag.go), and an optional input then starts without the file; a
    required input left without it is Error, and so is a required argument."""
    skipped = task("make", "make", when="{{=false}}")
    manifest = workflow(
        [skipped,
         task("optional", "use-optional", dependencies=["make"],
              artifacts=[from_task("in", "make", "out", optional=True)]),
         task("needs-it", "use", dependencies=["make"],
              artifacts=[from_task("in", "make", "out", optional=True)]),
         task("required-arg", "use-optional", dependencies=["make"],
              artifacts=[from_task("in", "make", "out")])],
        [sh("make", "echo x > out", artifacts_out=[{"name": "out", "path": "/work/out"}]),
         sh("use-optional", "test -e in || echo absent > seen", outputs=["seen"],
            artifacts_in=[{"name": "in", "path": "/work/in", "optional": True}]),
         sh("use", "cat in", artifacts_in=[{"name": "in", "path": "/work/in"}])])
    result = run_workflow(manifest)
    assert result.node("optional").outputs["seen"] == "absent"
    needs = result.node("needs-it")
    assert (needs.phase, needs.message) == ("Error", "required artifact 'in' not supplied")
    assert needs.exit_code is None  # the init step failed: main never ran
    required = result.node("required-arg")
    assert required.phase == "Error"
    assert required.message == "Unable to resolve: {{tasks.make.outputs.artifacts.out}}"


def test_global_artifacts_reach_the_exit_handler_and_the_last_writer_wins(
        run_workflow: RunWorkflow) -> None:
    def writer(name: str, text: str) -> dict[str, object]:
        return sh(name, f"echo {text} > r.txt", artifacts_out=[
            {"name": "r", "path": "/work/r.txt", "globalName": "report",
             "archive": {"none": {}}}])

    manifest = workflow(
        [task("first", "first"), task("second", "second", dependencies=["first"])],
        [writer("first", "one"), writer("second", "two"),
         sh("read", "cat report > seen", outputs=["seen"],
            artifacts_in=[{"name": "report", "path": "/work/report"}])],
        on_exit=[task("read", "read", artifacts=[
            {"name": "report", "from": "{{workflow.outputs.artifacts.report}}"}])])
    result = run_workflow(manifest)
    assert result.node("read").outputs["seen"] == "two"
    assert result.global_artifacts["report"].data == b"two\n"


def test_hard_wired_s3_keys_use_the_repositorys_bucket(run_workflow: RunWorkflow,
                                                      s3: ObjectStore) -> None:
    s3.put("inputs/claim.edi", b"ISA*00~")
    manifest = workflow(
        [task("read", "read"), task("missing", "missing"), task("maybe", "maybe")],
        [sh("read", "cat claim > got", outputs=["got"], artifacts_in=[
            {"name": "claim", "path": "/work/claim",
             "s3": {"key": "inputs/{{workflow.parameters.file}}"}}]),
         sh("missing", "true", artifacts_in=[
             {"name": "claim", "path": "/work/claim", "s3": {"key": "inputs/nope"}}]),
         sh("maybe", "test -e claim || echo none > got", outputs=["got"], artifacts_in=[
             {"name": "claim", "path": "/work/claim", "s3": {"key": "inputs/nope"},
              "optional": True}])],
        parameters={"file": "claim.edi"})
    result = run_workflow(manifest)
    assert result.node("read").outputs["got"] == "ISA*00~"
    missing = result.node("missing")
    assert missing.phase == "Error"
    assert missing.message.startswith("artifact claim failed to load: key inputs/nope")
    assert result.node("maybe").outputs["got"] == "none"


def test_http_and_raw_input_artifacts(run_workflow: RunWorkflow,
                                      http_files: tuple[str, Path]) -> None:
    url, folder = http_files
    (folder / "doc.txt").write_text("from http\n", encoding="utf-8")
    manifest = workflow(
        [task("read", "read"), task("gone", "gone")],
        [sh("read", "cat doc raw > got", outputs=["got"], artifacts_in=[
            {"name": "doc", "path": "/work/doc", "http": {"url": f"{url}/doc.txt"}},
            {"name": "raw", "path": "/work/raw", "raw": {"data": "{{workflow.parameters.p}}"}}]),
         sh("gone", "true", artifacts_in=[
             {"name": "doc", "path": "/work/doc", "http": {"url": f"{url}/gone.txt"}}])],
        parameters={"p": "raw text"})
    result = run_workflow(manifest)
    assert result.node("read").outputs["got"] == "from http\nraw text"
    assert result.node("gone").phase == "Error"
    assert "404" in result.node("gone").message
