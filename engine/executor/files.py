"""Files a step writes: where an attempt puts them and how they become its ``file`` outputs.

A step that declares ``outputs: {report: file}`` writes the file ``report`` into its output
folder, ``$FLOWSPEC_OUTPUT_DIR`` (``context.output_dir``). Locally that folder is the step's
own under the run's folder (``.flowspec/runs/RUN_ID/STEP``, a for_each instance under
``STEP/INDEX``), so a second run never overwrites the first's files; in an Argo pod it is a
folder Argo saves as output artifacts. Each attempt starts with an empty folder: a file left by
a failed attempt is never taken for the next one's. The output's value is the file's path.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from engine.values import TYPES

FILE = TYPES[-1]

#: Where a run keeps its files unless told otherwise, under its working folder: beside the
#: default store, ``.flowspec/state.db``.
DEFAULT_FOLDER = Path(".flowspec") / "runs"

#: The variable a command reads to find its output folder (the shell processor sets it).
ENV_OUTPUT_DIR = "FLOWSPEC_OUTPUT_DIR"


class MissingFile(Exception):
    """A succeeded attempt did not write a file it declares; the attempt fails."""


def file_outputs(declared: Mapping[str, str]) -> list[str]:
    """The names of the declared outputs that are files."""
    return [name for name, type_name in declared.items() if type_name == FILE]


def node_folder(run_folder: Path, step: str, index: int | None) -> Path:
    """A node's output folder: the step's, or its instance's under it."""
    folder = run_folder / step
    return folder if index is None else folder / str(index)


def fresh(folder: Path) -> Path:
    """The folder, empty: what an earlier attempt left is removed."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def collect(folder: Path | None, declared: Mapping[str, str],
            returned: Mapping[str, object]) -> dict[str, str]:
    """``{name: path}`` of every declared file output, or MissingFile naming the first one
    the attempt did not write (a processor may return the path itself, never another)."""
    found: dict[str, str] = {}
    for name in file_outputs(declared):
        path = folder / name if folder is not None else None
        if path is None or not path.is_file():
            raise MissingFile(
                f"file output '{name}' was not written: write it to "
                f"${ENV_OUTPUT_DIR}/{name}" + (f" ({path})" if path is not None else ""))
        value = returned.get(name)
        if value is not None and Path(str(value)).resolve() != path.resolve():
            raise MissingFile(f"file output '{name}' is the file ${ENV_OUTPUT_DIR}/{name}; "
                              f"the processor returned {value!r} instead")
        found[name] = str(path)
    return found


def run_files(files_dir: str | None) -> list[tuple[Path, int]]:
    """The files a run's steps wrote, under its folder, with their sizes."""
    if not files_dir or not Path(files_dir).is_dir():
        return []
    return [(path, path.stat().st_size) for path in sorted(Path(files_dir).rglob("*"))
            if path.is_file()]
