"""Where the chargeback steps write the files they answer with (the 849, its summary, the
compliance report).

Each is a ``file`` output of its step: the engine hands the step an output folder
(``context.output_dir``, ``$FLOWSPEC_OUTPUT_DIR``), keeps the files per run locally and saves
them as artifacts on Argo, and the file's name is the output's. Called outside the engine
(a test, a script building a context by hand) there is no such folder: the file goes to the
``output_dir`` the config names, else the working folder, under a descriptive name.
"""

from __future__ import annotations

from pathlib import Path

from engine.processors import StepContext


def output_file(context: StepContext, output: str, config_dir: str | None,
                fallback_name: str) -> Path:
    """The path to write the ``file`` output ``output`` to (its folder exists)."""
    if context.output_dir is not None:
        return context.output_dir / output
    folder = Path(config_dir) if config_dir else context.workdir
    if not folder.is_absolute():
        folder = context.workdir / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder / fallback_name
