"""The workspace's own processor classes, for ``processor:`` completion as ``module:Class``.

A spec in a repository usually names processors that the repository itself defines, often
before they are installed anywhere. Their Python files are read as source
(``engine.processor_info.processors_in_source``) and never imported: opening a folder in an
editor must not run its code. A file is read again only when its size or modification time
changes, so completing a processor costs a walk over the folder's names.

Module names are the file's path from the workspace folder, or from its ``src/`` folder (the
two usual layouts): ``mypkg/steps.py`` defines ``mypkg.steps:Class``. Folders that hold other
people's code or build output (virtual environments, ``node_modules``, hidden folders, caches)
are not searched, and the walk stops at ``MAX_FILES`` Python files.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.processor_info import ProcessorInfo, processors_in_source

MAX_FILES = 5_000
_SKIPPED = frozenset({"node_modules", "__pycache__", "site-packages", "build", "dist", "venv",
                      "env"})

#: (size, modification time) of a file when it was read
_Stamp = tuple[int, int]


class WorkspaceProcessors:
    """The processor classes under one folder, kept per file between scans."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)
        self._files: dict[Path, tuple[_Stamp, list[ProcessorInfo]]] = {}

    def scan(self) -> list[ProcessorInfo]:
        """Every processor class found, sorted by name; files changed since the last scan are
        read again, removed ones forgotten."""
        seen: dict[Path, tuple[_Stamp, list[ProcessorInfo]]] = {}
        for path in self._python_files():
            try:
                stat = path.stat()
            except OSError:
                continue
            stamp = (stat.st_size, stat.st_mtime_ns)
            known = self._files.get(path)
            if known is not None and known[0] == stamp:
                seen[path] = known
                continue
            module = module_name(self.root, path)
            seen[path] = (stamp, processors_in_source(path, module) if module else [])
        self._files = seen
        return sorted((info for _, infos in seen.values() for info in infos),
                      key=lambda info: info.ref)

    def _python_files(self) -> list[Path]:
        found: list[Path] = []
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED)
            for name in sorted(files):
                if name.endswith(".py"):
                    found.append(Path(folder, name))
                    if len(found) >= MAX_FILES:
                        return found
        return found


def module_name(root: Path, path: Path) -> str | None:
    """The dotted module a file under ``root`` is imported as; None when a part of its path
    is not a Python name (a script folder such as ``my-tools``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if len(parts) > 1 and parts[0] == "src":
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)
