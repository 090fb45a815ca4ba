"""The trail's stored text and report are what the trail has always written.

Trails written by earlier versions must still verify and a resumed run must recognise the
records it wrote (their ``entry_key``), so the records' text cannot drift: a change that only
means to make the step faster must leave every byte where it was. The step runs three times
(a run, a second run, the first resumed with a changed result: its report then needs records
from before the second run's checkpoint), and what it stored and reported is compared with
``tests/fixtures/chargeback/compliance_trail.json``, written by the trail before it was made
faster (see the fixtures README). Only the time of each append differs between two runs: it is
written there as ``{TS1}``, ``{TS2}``, ...; hashes, which follow from it, are named by position.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from engine.processors import StepContext, Upstream
from processors.chargeback.claim import Claim, ClaimLine
from processors.chargeback.compliance import ComplianceTrail
from processors.chargeback.reference.testing import intake
from processors.chargeback.trail.store import GENESIS_HASH, sha256_text

FIXTURE = Path(__file__).parents[1] / "fixtures" / "chargeback" / "compliance_trail.json"
SECRET = "sk-test-0123456789abcdef"
#: by run: the digest the engine took of the intake step's stored result when the fixture was written
INTAKE_DIGESTS = {
    "run-1": "51f52774516df0eb910ae8aeff6315cbe829ee5e625ad27375515e151ec4334d",
    "run-2": "e64b039cdb75376226aab9b6c5f84918c1d10325722d8a7183fd0f769f42ae03",
}
CLAIM = Claim(
    "x12-844",
    "x12-844",
    "0" * 64,
    "DM0315240012",
    None,
    tuple(
        ClaimLine(line=n, line_id=str(n), invoice_number=f"INV{n}", claimed_amount=Decimal(a))
        for n, a in ((1, "425.00"), (4, "271.25"))
    ),
)


def _context(tmp_path: Path, run_id: str, paid: str) -> StepContext:
    """A run with a secret in its env and in a step's outputs, a URL with a password, a
    skipped step, reference snapshots, a stored claim and line decisions (one about no line of
    it): what each record kind holds."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    decisions = [
        {"line": 1, "status": "accept", "accepted_amount": "425.00", "reason_codes": []},
        {"line": 4, "status": "reject", "accepted_amount": "0.00", "reason_codes": ["28"]},
        {"line": 5, "status": "review", "note": f"token {SECRET}", "amount": 1e-07},
    ]
    return StepContext(
        run_id=run_id,
        workflow="chargeback",
        step="compliance-trail",
        attempt=1,
        params={"document": "claim.edi", "max_lines": 3},
        env={"OPENAI_API_KEY": SECRET, "LOG_LEVEL": "info"},
        upstream={
            "extract-identifiers": Upstream(
                "Succeeded",
                {"line_count": 3, "source": "postgresql://cb:hunter22pw@db/cb"},
                {
                    **intake(CLAIM, url, run_id).data,
                    "reference_snapshots": {"roster": "2024-03-05#r"},
                },
                # the digest the engine took of the stored result (it hands it to the trail), as
                # when the fixture was written: the stored claim's own digest, which the result
                # holds, follows the claim store's format, which is not the trail's to keep
                known_digest=INTAKE_DIGESTS[run_id],
            ),
            "gpo-roster-validation": Upstream("Skipped", {}, {}),
            "chargeback-resolution": Upstream(
                "Succeeded",
                {"accepted": 1, "total_paid": paid, "note": f"key {SECRET}"},
                {
                    "subject": {"wholesaler": "RA7301194", "dm_no": "DM|0315"},
                    "decisions": decisions,
                },
            ),
        },
        workdir=tmp_path,
        database_url=url,
        workflow_status="Succeeded",
    )


def observe(tmp_path: Path) -> dict[str, Any]:
    """The trail's rows and the three reports, with times and hashes named as the module
    docstring says."""
    (tmp_path / "claim.edi").write_text("ISA*00*...~", "utf-8")
    trail = ComplianceTrail({"actor": "svc-chargeback"})
    reports = []
    for run_id, paid in (("run-1", "425.00"), ("run-2", "425.00"), ("run-1", "0.00")):
        outputs = trail.process(_context(tmp_path, run_id, paid)).outputs
        reports.append(Path(str(outputs["report_path"])).read_text("utf-8"))
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.connect() as conn:
        rows = [
            dict(row._mapping)
            for row in conn.execute(
                text(
                    "SELECT seq, run_id, step, entry_key, payload, prev_hash, record_hash "
                    "FROM cb_audit ORDER BY seq"
                )
            )
        ]
    engine.dispose()
    times: list[str] = []
    names: dict[str, str] = {}
    for row in rows:
        ts = json.loads(row["payload"])["ts_utc"]
        if ts not in times:
            times.append(ts)
            names[ts] = f"{{TS{len(times)}}}"
        names[row["record_hash"]] = f"{{HASH{row['seq']}}}"

    def named(found: str) -> str:
        for value, name in names.items():
            found = found.replace(value, name)
        return found

    return {
        "rows": [
            {
                **row,
                "payload": named(row["payload"]),
                "prev_hash": named(row["prev_hash"]),
                "record_hash": named(row["record_hash"]),
            }
            for row in rows
        ],
        "reports": [named(report) for report in reports],
        "times": times,
        "hashes": [row["record_hash"] for row in rows],
    }


def test_stored_text_hashes_and_reports_are_as_the_trail_always_wrote_them(
    tmp_path: Path,
) -> None:
    found = observe(tmp_path)
    expected = json.loads(FIXTURE.read_text("utf-8"))
    assert found["rows"] == expected["rows"]
    assert found["reports"] == expected["reports"]
    # the stored hashes are the chain of the expected text, with this run's times in it
    values = {f"{{TS{n}}}": ts for n, ts in enumerate(found["times"], 1)}
    prev = GENESIS_HASH
    for row in expected["rows"]:
        payload = re.sub(r"\{(?:TS|HASH)\d+\}", lambda m: values[m.group(0)], row["payload"])
        prev = sha256_text(prev + payload)
        values[f"{{HASH{row['seq']}}}"] = prev
    assert [values[f"{{HASH{row['seq']}}}"] for row in expected["rows"]] == found["hashes"]
