"""The seed's in-process face runs the real processors on the one executor."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.diagnostics import SpecError
from processors.chargeback import ChargebackWorkflowOrchestrator
from processors.chargeback.extract import ExtractIdentifiers

SAMPLE = Path(__file__).resolve().parents[2] / "specs" / "samples" / "844_example.edi"


def _orchestrator(tmp_path: Path) -> ChargebackWorkflowOrchestrator:
    orch = ChargebackWorkflowOrchestrator(
        {"db": f"sqlite:///{tmp_path / 'state.db'}", "workdir": str(tmp_path)})
    orch.add_step("extract-identifiers", ExtractIdentifiers)  # a class works as well as a name
    orch.add_step("duplicate-check", "chargeback.duplicate-check")
    orch.add_step("contract-eligibility", "chargeback.contract-eligibility")
    orch.add_step("gpo-roster-validation", "chargeback.gpo-roster-validation",
                  dependencies=["duplicate-check"])
    orch.add_step("federal-db-validation", "chargeback.federal-db-validation",
                  dependencies=["duplicate-check"])
    orch.add_step("chargeback-resolution", "chargeback.chargeback-resolution",
                  dependencies=["contract-eligibility", "gpo-roster-validation",
                                "federal-db-validation"])
    orch.add_step("compliance-trail", "chargeback.compliance-trail", final=True)
    return orch


def test_execute_runs_every_step_and_propagates_metadata(tmp_path: Path) -> None:
    result = asyncio.run(_orchestrator(tmp_path).execute(SAMPLE))
    assert result["phase"] == "Succeeded"
    assert {s["phase"] for s in result["steps"].values()} == {"Succeeded"}
    resolution = result["steps"]["chargeback-resolution"]["outputs"]
    assert (resolution["accepted"], resolution["adjusted"], resolution["rejected"]) == (2, 1, 1)
    assert resolution["total_paid"] == "897.00"
    assert Path(resolution["response_path"]).read_text().startswith("ISA*")
    assert result["metadata"]["extract-identifiers"]["claim_ref"]["debit_memo"] == "DM0315240012"
    assert "findings" in result["metadata"]["duplicate-check"]


def test_the_same_claim_again_is_a_duplicate(tmp_path: Path) -> None:
    asyncio.run(_orchestrator(tmp_path).execute(SAMPLE))
    again = asyncio.run(_orchestrator(tmp_path).execute(SAMPLE))
    assert again["steps"]["duplicate-check"]["outputs"]["is_duplicate"] is True
    assert again["steps"]["chargeback-resolution"]["outputs"]["rejected"] == 4


def test_bad_steps_get_the_validators_diagnostics(tmp_path: Path) -> None:
    orch = ChargebackWorkflowOrchestrator({"db": f"sqlite:///{tmp_path / 's.db'}"})
    orch.add_step("extract", "chargeback.extract-identifierz")
    with pytest.raises(SpecError) as caught:
        asyncio.run(orch.execute(SAMPLE))
    assert caught.value.diagnostics[0].code == "FS401"
    assert "chargeback.extract-identifiers" in (caught.value.diagnostics[0].hint or "")


def test_maintenance_commands_share_one_entry_point(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from processors.chargeback.cli import main

    assert main(["generate-reference", str(tmp_path / "ref"), "--seed", "3"]) == 0
    db = f"sqlite:///{tmp_path / 'ref.db'}"
    assert main(["load-reference", str(tmp_path / "ref"), "--db", db]) == 0
    assert main(["verify-trail", "--db", db]) != 0  # nothing has run: no trail to verify
    assert "no audit trail" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2
    assert "load-reference" in capsys.readouterr().err


def test_a_processor_instance_runs_from_its_class_and_config(tmp_path: Path) -> None:
    """The seed added processor instances (issue 13, item 8): each attempt gets a fresh one,
    built from the instance's class and the config it holds."""
    from processors.chargeback.review import RouteToReview

    orch = ChargebackWorkflowOrchestrator(
        {"db": f"sqlite:///{tmp_path / 'state.db'}", "workdir": str(tmp_path)})
    orch.add_step("extract-identifiers", ExtractIdentifiers({"mode": "offline"}))
    orch.add_step("review", RouteToReview({"reason": "seed review"}))
    assert "config:\n    reason: seed review" in orch.spec_text()
    assert "mode: offline" in orch.spec_text()
    with pytest.raises(TypeError, match="registered name, a processor class or an instance"):
        orch.add_step("bad", 42)

    class Opaque:
        def process(self, context: object) -> dict[str, object]:
            return {}

    with pytest.raises(TypeError, match=r"keeps no config mapping .* add_step\(name, Opaque"):
        orch.add_step("opaque", Opaque())
