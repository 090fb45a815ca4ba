"""The normaliser puts aside exactly the stamps of a run, and nothing a step decided."""

from __future__ import annotations

from engine.executor.result import RunResult, StepReport

from .compare import compare, normalise
from .result import Attempt, Node, SavedArtifact, WorkflowResult

ISA = ("ISA*00*          *00*          *ZZ*NORTHWINDPH    *ZZ*ACMEDRUG012    *261206*2154*U*"
       "00401*539346197*0*T*>~\n")
INTERCHANGE = (ISA + "GS*CF*NORTHWINDPH*ACMEDRUG012*20261206*2154*539346197*X*004010~\n"
               "ST*849*0001~\nAMT*S*425.00~\nSE*3*0001~\nGE*1*539346197~\nIEA*1*539346197~\n")


def test_x12_envelope_stamps_are_put_aside_and_the_rest_kept_byte_for_byte() -> None:
    other = (INTERCHANGE.replace("261206*2154", "261207*0001")
             .replace("20261206*2154", "20261207*0001").replace("539346197", "123456789"))
    assert normalise(INTERCHANGE, []) == normalise(other, [])
    assert "\nAMT*S*425.00~\n" in normalise(INTERCHANGE, [])
    assert normalise(INTERCHANGE, []) != normalise(INTERCHANGE.replace("425.00", "425.01"), [])


def test_run_ids_moments_folders_and_digests() -> None:
    text = ("run chargeback-01abc at 2026-12-06T21:54:36.706821Z wrote "
            "/tmp/x/y/849-DM1.edi, head acf61a42b61770f5; see https://app.example.com/a")
    assert normalise(text, ["chargeback-01abc"]) == (
        "run <run> at <time> wrote <dir>/849-DM1.edi, head <sha256>; "
        "see https://app.example.com/a")
    # numbers that merely look like hex digits are data: an NDC, an amount
    assert normalise("NDC 12345678901234 paid 897.00", []) == "NDC 12345678901234 paid 897.00"



def _argo_with_file(data: bytes) -> WorkflowResult:
    saved = SavedArtifact("response", "wf-abcde/wf-abcde-run-1-1/response", data, "none")
    node = Node("resolve", "Succeeded", attempts=[
        Attempt("wf-abcde-run-1-1", "Succeeded", 0, artifacts={"response": saved})])
    return WorkflowResult("wf-abcde", "uid", "Succeeded", "Succeeded",
                          nodes={"resolve": node})


def test_files_pair_by_name_then_by_contents() -> None:
    local = RunResult("run-1", "wf", "Succeeded", {"resolve": StepReport("resolve", "Succeeded")})
    restamped = INTERCHANGE.replace("539346197", "123456789").encode()
    same = compare("c", local, _argo_with_file(restamped),
                   {"849-DM1.edi": INTERCHANGE.encode()}, {}, result_artifact=None)
    assert (same.divergences, same.figures.files) == ([], 1)
    changed = compare("c", local, _argo_with_file(restamped.replace(b"425.00", b"425.01")),
                      {"849-DM1.edi": INTERCHANGE.encode()}, {}, result_artifact=None)
    assert changed.divergences == [
        f"file 849-DM1.edi: written locally ({len(INTERCHANGE)} bytes), no such file on argo",
        f"file response: written on argo ({len(INTERCHANGE)} bytes), not locally"]
