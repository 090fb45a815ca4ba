"""What the report's tests share: the specs they run, how they call flowspec, the runs made."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ("hello", "conditions", "fanout", "retries")
#: what a step may print or output; the page must show it as text and never run it
HOSTILE = '</script><script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
HOSTILE_SPEC = f"""\
apiVersion: flowspec/v1
kind: Workflow
metadata: {{name: hostile}}
steps:
  - name: say
    processor: shell
    config:
      command: ['sh', '-c', 'printf "%s\\n" "$NOTE" >&2; printf "note=%s\\n" "$NOTE" >> "$FLOWSPEC_OUTPUT"']
    env:
      NOTE: '{HOSTILE.replace("'", "''")}'
    outputs: {{note: string}}
  - name: refuse
    processor: shell
    dependencies: [say]
    config: {{command: 'echo "<b>no</b>" >&2; exit 3'}}
"""
WIDE = 60
WIDE_SPEC = "apiVersion: flowspec/v1\nkind: Workflow\nmetadata: {name: wide}\nsteps:\n" + \
    "  - {name: root, processor: noop}\n" + "".join(
        f"  - {{name: w{i}, processor: noop, dependencies: [root]}}\n" for i in range(WIDE))
#: one step over 10,000 items (the way a valid spec reaches 10,000 nodes: a DAG holds 200 steps)
FANOUT_SPEC = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: big}
params:
  items: {type: list, default: []}
steps:
  - {name: root, processor: noop}
  - {name: each, processor: noop, for_each: params.items, dependencies: [root]}
  - {name: join, processor: noop, dependencies: [each]}
"""
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--no-first-run", "--disable-sync", "--disable-component-update"]


@dataclass(frozen=True)
class Runs:
    """The session's runs: name -> run id, their ``show --format json`` documents, the store."""

    db: str
    folder: Path
    ids: dict[str, str]
    shown: dict[str, dict[str, Any]]

    def flowspec(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return flowspec(self.folder, *args, "--db", self.db, check=check)


def flowspec(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "engine.cli.main", *args], check=False, cwd=folder,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    if check:
        assert done.returncode in (0, 1), done.stderr
    return done
