"""Every shipped spec, run locally and executed from its compiled manifest, does the same work.

For each case: ``flowspec run`` in-process (its own folder and SQLite store), then the spec
compiled (``engine.compile.argo.build``) and its manifest executed by the harness (pods as
real ``flowspec step`` processes, artifacts through the loopback S3 server, decisions by the
oracle). The runs must agree on every step's phase, every declared output, every step's result
data and every output file byte for byte, run-specific stamps aside (``compare.normalise``).
The figures of what was compared are printed at the end of the session.

The chargeback processors keep reference data and the claim history in a database: locally
the run's store; on Argo a SQLite file that every pod of the test reaches, handed to the
pods through the secret the manifest names for it (``store_secrets``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine.compile import build
from engine.compile import contract as c
from engine.executor.result import from_state
from engine.expr.to_argo import argo_value_text
from engine.local import run
from engine.rules.context import Context
from engine.rules.processors import step_output_types
from engine.store import open_store
from engine.store.errors import UnknownRun
from engine.validation import load_spec_file

from .artifacts import ObjectStore
from .compare import RECORDED, compare, results_of
from .conftest import RunWorkflow
from .result import WorkflowResult

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "specs" / "samples"
#: Env vars through which a pod is handed the database URL of the run's store.
STORE_ENV = ("FLOWSPEC_DB", "DATABASE_URL")
#: The output artifact holding a step's result.
RESULT_ARTIFACT = c.RESULT_ARTIFACT

@dataclass(frozen=True)
class Case:
    spec: str
    params: Mapping[str, Any] = field(default_factory=dict)
    claim: str | None = None  # a sample claim, the chargeback's ``document``
    #: how the claim's place reaches Argo: compiled in (``flowspec submit -p document=s3://``)
    #: or at submit time as a key in the repository (``argo submit -p document=KEY``)
    compiled_in: bool = False

    @property
    def id(self) -> str:
        extra = [self.claim] if self.claim else [f"{k}={v}" for k, v in self.params.items()]
        return "+".join([Path(self.spec).stem, *extra])


CASES = [
    Case("specs/examples/hello.yaml"),
    Case("specs/examples/hello.yaml", {"who": "Ada Lovelace"}),
    Case("specs/examples/conditions.yaml"),
    Case("specs/examples/conditions.yaml", {"branch": "feature-x"}),
    Case("specs/examples/fanout.yaml"),
    Case("specs/examples/fanout.yaml", {"dry_run": True}),
    # issue 11's divergence: merge computed total=0 on Argo (127 locally), publish Skipped
    Case("specs/examples/retries.yaml"),
    Case("specs/chargeback.yaml", claim="844_example.edi", compiled_in=True),
    Case("specs/chargeback.yaml", claim="cb_intake_credit_rebill.edi"),
    Case("specs/chargeback.yaml", claim="cb_intake_freetext_claim.txt"),
]


def store_secrets(manifest: Mapping[str, Any], url: str) -> dict[tuple[str, str], str]:
    """The database URL under every secret the manifest hands pods as their store."""
    found = {}
    for template in manifest["spec"]["templates"]:
        for entry in (template.get("container") or {}).get("env") or []:
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if ref is not None and entry["name"] in STORE_ENV:
                found[(ref["name"], ref["key"])] = url
    return found


def argo_results(argo: WorkflowResult, store: str | None,
                 steps: Iterable[str]) -> dict[str, Any]:
    """Each step's data on Argo: from its result artifact where a step read it, else from the
    store the pods were handed (they record their attempts there)."""
    if store is None:
        return results_of(argo, RESULT_ARTIFACT)
    opened = open_store(store)
    try:
        state = opened.load_run(argo.uid)
    except UnknownRun:
        return {}
    finally:
        opened.close()
    return {name: dict(report.data) for name, report in
            from_state(state, [s for s in steps if "(" not in s], argo.phase).steps.items()}


def files_under(folder: Path) -> dict[str, bytes]:
    """What a local run wrote in its folder (its store is kept elsewhere), by base name."""
    return {p.name: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_local_and_argo_runs_agree(case: Case, run_workflow: RunWorkflow, s3: ObjectStore,
                                   tmp_path: Path, pod_root: Path) -> None:
    spec = load_spec_file(REPO / case.spec)
    local_params = dict(case.params)
    argo_params = {k: argo_value_text(v) for k, v in case.params.items()}
    compiled_params = {}
    if case.claim is not None:
        claim = SAMPLES / case.claim
        local_params["document"] = str(claim)
        s3.put(f"claims/{claim.name}", claim.read_bytes())  # it travels as an artifact
        if case.compiled_in:
            compiled_params["document"] = f"s3://{s3.repository.bucket}/claims/{claim.name}"
        else:
            argo_params["document"] = f"claims/{claim.name}"

    work = tmp_path / "local"
    work.mkdir()
    local = run(spec, local_params, store=f"sqlite:///{tmp_path}/local-state.db", workdir=work)

    manifest = build(spec, params=compiled_params).manifest
    store = f"sqlite:///{pod_root}/argo-store.db"
    secrets = store_secrets(manifest, store)
    argo = run_workflow(manifest, secrets=secrets, params=argo_params)

    types = step_output_types(Context(spec.document, spec))
    comparison = compare(case.id, local, argo, files_under(work),
                         argo_results(argo, store if secrets else None, local.steps),
                         result_artifact=RESULT_ARTIFACT, file_outputs={
                             name: {o for o, t in outputs.items() if t == "file"}
                             for name, outputs in types.items()})
    RECORDED.append(comparison)
    report = "\n".join(comparison.divergences)
    assert not comparison.divergences, f"{case.id}: the Argo run differs:\n{report}"
