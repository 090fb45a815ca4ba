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
    text = value if isinstance(value, str) else canonical_json(value)
    return text.replace("|", "\\|").replace("\n", " ")


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
    workflow = [r for r in records if r.get("kind") == "workflow"]
    if workflow:
        last = workflow[-1]
        out += [
            f"- Actor: `{_cell(last.get('actor'))}`; recorded at {last.get('ts_utc')}",
            f"- Document sha256: `{last.get('document_sha256') or 'not a readable file'}`",
            f"- Environment variables present (names only): {', '.join(last.get('env_names', [])) or 'none'}",
            "",
        ]
    out += [
        "## Steps",
        "",
        "| seq | step | phase | version | outputs | output sha256 |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        if r.get("kind") == "step":
            out.append(
                f"| {r['seq']} | {_cell(r['step'])} | {r.get('phase')} | {_cell(r.get('step_version') or '')} "
                f"| {_cell(r.get('outputs', {}))} | `{str(r.get('output_sha256'))[:16]}…` |"
            )
    lines = [r for r in records if r.get("kind") == "line"]
    if lines:
        out += ["", "## Claim line decisions", "", "| seq | subject | decision |", "|---|---|---|"]
        for r in lines:
            out.append(f"| {r['seq']} | {_cell(r.get('subject'))} | {_cell(r.get('decision'))} |")
    cited: dict[str, str] = {}
    for r in records:
        cited.update(r.get("reference_snapshots") or {})
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
