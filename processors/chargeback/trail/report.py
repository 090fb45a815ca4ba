"""The compliance trail's report: Markdown an auditor can read without the database, built from
the stored records (what was hashed)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from engine.processors import StepContext
from engine.secrets import Redactor
from processors.chargeback.trail.store import GENESIS_HASH, Decoded, Stored, canonical_json
from processors.chargeback.trail.verify import Verification

# --------------------------------------------------------------------------- the report


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value.replace("|", "\\|").replace("\n", " ")
    return canonical_json(value).replace("|", "\\|")  # JSON text holds no line break


def render_report(
    context: StepContext,
    rows: Sequence[Stored],
    appended: int,
    verification: Verification,
    redact: Redactor,
    decoded: Decoded | None = None,
) -> str:
    """A Markdown report an auditor can read without the database; built from the stored
    records (what was hashed), not from the context, so it shows exactly what the trail holds.

    A record the verification already decoded from the same payload (``decoded``) is not
    decoded again: a claim's run has a record per line.
    """
    known = decoded or {}
    records = [
        found[1] if (found := known.get(row.seq)) and found[0] == row else json.loads(row.payload)
        for row in rows
    ]
    head = rows[-1].record_hash if rows else GENESIS_HASH
    state = "intact" if verification.ok else f"BROKEN: {verification.broken}"
    trusted, total = verification.trusted, verification.records
    if verification.ok and trusted:
        now = f"; {trusted + 1}-{total} now" if total > trusted else ""
        state += f" (records 1-{trusted} as an earlier run verified them{now})"
    out = [
        f"# Compliance report: run `{_cell(context.run_id)}`",
        "",
        f"- Workflow: `{_cell(context.workflow)}`, status **{context.workflow_status or 'unknown'}**",
        f"- Records for this run: {len(rows)} ({appended} appended by this step)",
        f"- Head hash of this run: `{head}`",
        f"- Chain verification from the first record: {state}",
        "",
        (
            "Keep the head hash outside this database; `python -m processors.chargeback.compliance"
            f" verify --db URL --run {_cell(context.run_id)} --head {head}` proves that the trail"
            " is unchanged."
        ),
        "",
    ]
    # one pass over the records: a claim's run has one per line
    workflow: dict[str, Any] | None = None
    steps: list[str] = []
    lines: list[str] = []
    cited: dict[str, str] = {}
    for r in records:
        kind = r.get("kind")
        if kind == "line":
            lines.append(f"| {r['seq']} | {_cell(r.get('subject'))} | {_cell(r.get('decision'))} |")
        elif kind == "step":
            steps.append(
                f"| {r['seq']} | {_cell(r['step'])} | {r.get('phase')} | {_cell(r.get('step_version') or '')} "
                f"| {_cell(r.get('outputs', {}))} | `{str(r.get('output_sha256'))[:16]}…` |"
            )
        elif kind == "workflow":
            workflow = r
        if snapshots := r.get("reference_snapshots"):
            cited.update(snapshots)
    if workflow is not None:
        out += [
            f"- Actor: `{_cell(workflow.get('actor'))}`; recorded at {workflow.get('ts_utc')}",
            f"- Document sha256: `{workflow.get('document_sha256') or 'not a readable file'}`",
            f"- Environment variables present (names only): {', '.join(workflow.get('env_names', [])) or 'none'}",
            "",
        ]
    out += [
        "## Steps",
        "",
        "| seq | step | phase | version | outputs | output sha256 |",
        "|---|---|---|---|---|---|",
        *steps,
    ]
    if lines:
        out += ["", "## Claim line decisions", "", "| seq | subject | decision |", "|---|---|---|"]
        out += lines
    out += ["", "## Reference data snapshots", ""]
    if cited:
        out += ["| source | snapshot |", "|---|---|"]
        out += [f"| {_cell(k)} | `{_cell(v)}` |" for k, v in sorted(cited.items())]
    else:
        out.append(
            "No reference snapshot was recorded (no snapshots table and no step reported one)."
        )
    out.append("")
    return redact.scrub("\n".join(out))
