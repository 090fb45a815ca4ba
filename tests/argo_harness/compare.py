"""A local run against a harness run of the same spec: phases, outputs, data, files.

What differs between two runs by design is normalised away first, explicitly, and nothing
else (``normalise``): the run id and workflow name, ISO 8601 moments, the X12 envelope's
date, time and control numbers (ISA09/10/13, GS04/05/06, GE02, IEA02), the folder a file was
written to (each side keeps files elsewhere: only the base name is compared) and SHA-256
digests (the compliance trail chains over the stamps above). Files are paired by base name,
else by contents (an artifact's key may name it after the output rather than the file).
``Figures`` counts what was compared, for the closing note.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.executor.result import RunResult
from engine.expr.to_argo import NULL_MARKER, argo_value_text

from .result import Node, SavedArtifact, WorkflowResult

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
#: SHA-256 digests, whole or cut to 16 (a run of hex digits with at least one letter).
_SHA = re.compile(r"\b(?=[0-9]*[a-f])(?:[0-9a-f]{64}|[0-9a-f]{16})\b")
_FOLDER = re.compile(r"(?<![\w.:/<])/(?:[\w.+@-]+/)+(?=[\w.+@-])")
#: X12 segment -> the element positions that are stamps of this run (1-based, as in X12).
_X12_STAMPS = {"ISA": (9, 10, 13), "GS": (4, 5, 6), "GE": (2,), "IEA": (2,)}


def normalise(text: str, run_ids: Iterable[str]) -> str:
    text = _FOLDER.sub("<dir>/", text)  # first: a folder may hold a run id
    for run_id in sorted({r for r in run_ids if r}, key=len, reverse=True):
        text = text.replace(run_id, "<run>")
    text = _ISO.sub("<time>", text)
    text = _SHA.sub("<sha256>", text)
    return _x12(text)


def _x12(text: str) -> str:
    """An X12 interchange with its envelope stamps put aside (delimiters read from the ISA)."""
    if not text.startswith("ISA") or len(text) < 106:
        return text
    element, segment = text[3], text[105]
    out = []
    for seg in text.split(segment):
        body = seg.lstrip("\r\n")
        parts = body.split(element)
        for index in _X12_STAMPS.get(parts[0], ()):
            if index < len(parts):
                parts[index] = "<stamp>"
        out.append(seg[:len(seg) - len(body)] + element.join(parts))
    return segment.join(out)


@dataclass
class Figures:
    """What one comparison covered."""

    steps: int = 0
    outputs: int = 0
    data: int = 0
    files: int = 0
    bytes: int = 0


@dataclass
class Comparison:
    case: str
    figures: Figures = field(default_factory=Figures)
    divergences: list[str] = field(default_factory=list)

    def differ(self, what: str) -> None:
        self.divergences.append(what)


#: Every comparison of the test session, for the figures printed at its end (conftest).
RECORDED: list[Comparison] = []


def compare(case: str, local: RunResult, argo: WorkflowResult, local_files: Mapping[str, bytes],
            argo_data: Mapping[str, Any], *, result_artifact: str | None,
            file_outputs: Mapping[str, Collection[str]] | None = None) -> Comparison:
    """Every step's phase, declared outputs and data, and every output file's bytes.

    ``argo_data``: each node's result data as the Argo run left it (see ``results_of``).
    ``file_outputs``: each step's ``file`` outputs, which are compared as files: on Argo they
    are artifacts, not parameters, and their values are paths, which differ by design.
    """
    out = Comparison(case)
    run_ids = [local.run_id, argo.name, argo.uid]
    if local.phase != argo.phase:
        out.differ(f"workflow phase: local {local.phase}, argo {argo.phase} {argo.message}")
    nodes = argo.all_nodes()
    for name, step in local.steps.items():
        node = nodes.get(name)
        out.figures.steps += 1
        if node is None:
            out.differ(f"{name}: no node on argo (local {step.phase})")
            continue
        if node.phase != step.phase:
            why = (node.stderr.strip().splitlines() or [node.message])[-1][:300]
            out.differ(f"{name}: phase local {step.phase}, argo {node.phase}: {why}")
            continue  # its outputs and data follow from its phase
        if node.children:
            continue  # a fan-out's outputs are its children's, compared one by one
        files = set((file_outputs or {}).get(name, ()))
        _outputs(out, name, {k: v for k, v in step.outputs.items() if k not in files}, node,
                 run_ids)
        _data(out, name, step.data, argo_data.get(name, {}), run_ids)
    for name in sorted(set(nodes) - set(local.steps)):
        out.differ(f"{name}: a node on argo ({nodes[name].phase}) but no step locally")
    argo_files = {name: data for node in nodes.values()
                  for name, data in files_of(node.artifacts.values(), result_artifact).items()}
    _files(out, local_files, argo_files, run_ids)
    return out


def _outputs(out: Comparison, name: str, local: Mapping[str, Any], node: Node,
             run_ids: list[str]) -> None:
    want = {k: normalise(argo_value_text(v), run_ids) for k, v in local.items() if v is not None}
    got = {k: normalise(v, run_ids) for k, v in node.outputs.items() if v != NULL_MARKER}
    out.figures.outputs += len(want)
    for key in sorted(set(want) | set(got)):
        if want.get(key) != got.get(key):
            out.differ(f"{name}: output {key}: local {want.get(key)!r}, argo {got.get(key)!r}")


def _data(out: Comparison, name: str, local: Mapping[str, Any], argo: Any,
          run_ids: list[str]) -> None:
    want = normalise(json.dumps(dict(local), sort_keys=True, default=str), run_ids)
    got = normalise(json.dumps(argo, sort_keys=True, default=str), run_ids)
    out.figures.data += 1
    if want != got:
        out.differ(f"{name}: result data differ: local {want[:160]}..., argo {got[:160]}")


def results_of(argo: WorkflowResult, result_artifact: str) -> dict[str, Any]:
    """Each node's data from its result artifact, where it saved one."""
    return {name: read_result(node.artifacts[result_artifact])
            for name, node in argo.all_nodes().items() if result_artifact in node.artifacts}


def read_result(saved: SavedArtifact) -> Any:
    """A step's result artifact: JSON, possibly gzipped, possibly in a tgz; ``data`` of it."""
    files = files_of([saved], None)
    raw = next(iter(files.values()), b"")
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    document = json.loads(raw or b"{}")
    return document.get("data", document) if isinstance(document, dict) else document


def files_of(artifacts: Iterable[SavedArtifact], skip: str | None) -> dict[str, bytes]:
    """The files output artifacts hold, by base name (a tgz is opened)."""
    found: dict[str, bytes] = {}
    for artifact in artifacts:
        if artifact.name == skip:
            continue
        if artifact.archive == "none":
            found[Path(artifact.key).name] = artifact.data
            continue
        with tarfile.open(fileobj=io.BytesIO(artifact.data), mode="r:gz") as tar:
            for member in tar.getmembers():
                handle = tar.extractfile(member) if member.isfile() else None
                if handle is not None:
                    found[Path(member.name).name] = handle.read()
    return found


def _files(out: Comparison, local: Mapping[str, bytes], argo: Mapping[str, bytes],
           run_ids: list[str]) -> None:
    """Files are paired by base name, then (a file output's key names it after the output,
    not after the file) by contents; what stays unpaired on either side is a divergence."""
    want = {normalise(k, run_ids): v for k, v in local.items()}
    got = {normalise(k, run_ids): v for k, v in argo.items()}
    for name in sorted(set(want) & set(got)):
        _file(out, name, want.pop(name), got.pop(name), run_ids)
    for name, data in sorted(want.items()):
        twin = next((k for k, v in sorted(got.items())
                     if _comparable(v, run_ids) == _comparable(data, run_ids)), None)
        if twin is None:
            out.differ(f"file {name}: written locally ({len(data)} bytes), no such file on argo")
            continue
        _file(out, f"{name} (argo: {twin})", data, got.pop(twin), run_ids)
    for name, data in sorted(got.items()):
        out.differ(f"file {name}: written on argo ({len(data)} bytes), not locally")


def _comparable(data: bytes, run_ids: list[str]) -> bytes:
    """Text with its stamps put aside; anything else as it is, to match byte for byte."""
    try:
        return normalise(data.decode("utf-8"), run_ids).encode("utf-8")
    except UnicodeDecodeError:
        return data


def _file(out: Comparison, name: str, local: bytes, argo: bytes, run_ids: list[str]) -> None:
    out.figures.files += 1
    out.figures.bytes += len(local)
    a, b = _comparable(local, run_ids), _comparable(argo, run_ids)
    if a != b:
        line = next((i for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(),
                                                      strict=False), 1) if x != y), 0)
        out.differ(f"file {name}: contents differ (first at line {line})")
