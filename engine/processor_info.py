"""What validation knows of a processor, found without running code a spec names.

``flowspec validate`` runs in CI on untrusted pull requests, so a spec must not be able to run
code by naming it: importing ``venv.__main__:X`` builds a virtualenv, ``this:X`` prints. So:

- a registered name is looked up in the installed distributions' metadata (the
  ``flowspec.processors`` entry points); its class is loaded, as pytest loads its plugins,
  because it is code the environment installed, and a spec can only choose among those;
- a ``package.module:Class`` path is found by the import system's finders (``sys.meta_path``:
  the path finder, editable installs' finders; they read folders, never module code) and
  read as source: the class must be defined
  there, and its ``config_schema``, ``outputs`` and ``open_outputs`` are taken when they are
  literals. What a literal does not say is reported as not checked, never guessed;
- ``import_code=True`` (``flowspec validate --import-processors``) imports the path instead,
  for configuration checks that need the class itself.

Running a step imports its processor (``engine.processors.resolve``): only runs execute code.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

from engine.processors import (
    ProcessorNotFound,
    config_schema,
    declared_outputs,
    open_ended_outputs,
    registered,
    resolve,
)

#: Source files larger than this are not parsed: a processor module is code a person wrote.
MAX_SOURCE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class ProcessorInfo:
    """A processor's interface as far as it is known; ``None`` means not known statically.

    Compared by identity: ``describe`` caches one per reference, and validators cache on it."""

    ref: str
    config_schema: Mapping[str, Any] | None
    outputs: Mapping[str, str] | None
    open_outputs: bool
    #: why some of the interface is unknown (the fix is ``--import-processors``)
    unknown_because: str | None = None
    #: the class's docstring, which an editor shows when the processor is hovered
    doc: str | None = None
    #: it keeps state in the run's database (``context.database_url``): on Argo every pod
    #: must reach the same one, ``argo.store``
    uses_database: bool = False


def _from_class(ref: str, cls: type) -> ProcessorInfo:
    return ProcessorInfo(ref, config_schema(cls), declared_outputs(cls), open_ended_outputs(cls),
                         doc=inspect.getdoc(cls),
                         uses_database=bool(getattr(cls, "uses_database", False)))


@cache
def describe(ref: str, *, import_code: bool = False) -> ProcessorInfo:
    """The processor ``ref`` names; ProcessorNotFound when there is none."""
    if ":" not in ref:
        return _from_class(ref, resolve(ref))  # an entry point: installed code, see above
    if import_code:
        return _from_class(ref, resolve(ref))
    return _read_statically(ref)


def _known() -> tuple[str, ...]:
    return tuple(sorted(registered()))


#: how a module written next to a spec becomes one flowspec finds
IMPORT_HINT = "install its package (pip install -e .) or add its folder to PYTHONPATH"


def find_module_source(module: str) -> Path | None:
    """The ``.py`` file ``import module`` would execute, found without executing anything.

    ``importlib.util.find_spec`` would import the parent packages. The top-level name goes to
    the import system's finders (an editable install maps it to its folder); below it, a
    package's folders are searched the way the path finder does, without the parent package
    in ``sys.modules`` that its namespace-package support would need.
    """
    parts = module.split(".")
    if not all(part.isidentifier() for part in parts):
        return None
    spec = _find_spec(parts[0])
    if spec is None:
        return None
    origin = spec.origin if spec.origin and spec.origin.endswith(".py") else None
    folders = list(spec.submodule_search_locations or ())
    for part in parts[1:]:
        if not folders:
            return None  # a module has no submodules
        found = _in_folders(part, folders)
        if found is None:
            return None
        origin, folders = found
    return Path(origin) if origin else None


def _find_spec(name: str) -> ModuleSpec | None:
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        spec: ModuleSpec | None = find_spec(name, None)
        if spec is not None:
            return spec
    return None


def _in_folders(name: str, folders: list[str]) -> tuple[str | None, list[str]] | None:
    """(source file, package folders) of ``name`` in a package's folders: a regular package,
    a module, or the portions of a namespace package (which has no source of its own)."""
    portions = []
    for folder in folders:
        package = Path(folder, name)
        if (package / "__init__.py").is_file():
            return str(package / "__init__.py"), [str(package)]
        if Path(folder, f"{name}.py").is_file():
            return str(Path(folder, f"{name}.py")), []
        if package.is_dir():
            portions.append(str(package))
    return (None, portions) if portions else None


def _read_statically(ref: str) -> ProcessorInfo:
    module, _, attr = ref.partition(":")
    source = find_module_source(module)
    if source is None:
        raise ProcessorNotFound(ref, f"cannot find module '{module}' as Python source on the "
                                     f"import path; {IMPORT_HINT}", _known())
    try:
        if source.stat().st_size > MAX_SOURCE_BYTES:
            raise ProcessorNotFound(ref, f"module '{module}' ({source}) is too large to read",
                                    _known())
        tree = ast.parse(source.read_bytes(), filename=str(source))
    except (OSError, SyntaxError, ValueError) as exc:
        raise ProcessorNotFound(ref, f"cannot read module '{module}' ({source}): {exc}",
                                _known()) from None
    node: ast.Module | ast.ClassDef = tree
    for name in attr.split("."):
        found = next((n for n in node.body if isinstance(n, ast.ClassDef) and n.name == name),
                     None)
        if found is None:
            raise ProcessorNotFound(ref, f"module '{module}' ({source}) defines no class "
                                         f"'{attr}'", _known())
        node = found
    assert isinstance(node, ast.ClassDef)
    return _class_info(ref, node, _assignments(tree.body))


def processors_in_source(source: Path, module: str) -> list[ProcessorInfo]:
    """The processor classes a Python file defines at its top level, read and never imported,
    named ``module:Class``; none when the file cannot be read or parsed.

    A class counts when its own body has a ``process`` method and an ``outputs``
    attribute: what the language server can offer from a workspace's source without guessing
    at what a base class it does not read supplies.
    """
    try:
        if source.stat().st_size > MAX_SOURCE_BYTES:
            return []
        tree = ast.parse(source.read_bytes(), filename=str(source))
    except (OSError, SyntaxError, ValueError):
        return []
    constants = _assignments(tree.body)
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or "outputs" not in _assignments(node.body):
            continue
        if any(isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == "process"
               for stmt in node.body):
            found.append(_class_info(f"{module}:{node.name}", node, constants))
    return found


def _assignments(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """``NAME = <expr>`` and ``NAME: T = <expr>`` of one block (a module's, a class's): the
    module's, so ``config_schema = SCHEMA`` reads too; the class's, its attributes."""
    found: dict[str, ast.expr] = {}
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
            found[stmt.target.id] = stmt.value
    return found


_UNSET = object()


def _literal(value: ast.expr, constants: Mapping[str, ast.expr]) -> Any:
    if isinstance(value, ast.Name) and value.id in constants:
        value = constants[value.id]
    try:
        return ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNSET


def _class_info(ref: str, cls: ast.ClassDef, constants: Mapping[str, ast.expr]) -> ProcessorInfo:
    attrs = _assignments(cls.body)
    methods = {stmt.name for stmt in cls.body
               if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)}
    if "process" not in methods and not cls.bases:
        raise ProcessorNotFound(ref, f"'{ref}' is not a processor class (no process method)",
                                _known())
    unknown: list[str] = []

    def read(name: str, default: Any, check: Any) -> Any:
        if name not in attrs:
            if cls.bases:  # it may inherit the attribute from a class we do not read
                unknown.append(name)
                return None
            return default
        value = _literal(attrs[name], constants)
        if value is _UNSET or not check(value):
            unknown.append(name)
            return None
        return value

    schema = read("config_schema", {"type": "object"}, lambda v: isinstance(v, dict))
    outputs = read("outputs", {}, lambda v: isinstance(v, dict) and all(
        isinstance(k, str) and isinstance(t, str) for k, t in v.items()))
    open_outputs = read("open_outputs", False, lambda v: isinstance(v, bool))
    uses_database = read("uses_database", False, lambda v: isinstance(v, bool))
    because = (f"{', '.join(unknown)} of '{ref}' cannot be read without importing it"
               if unknown else None)
    return ProcessorInfo(ref, schema, outputs, bool(open_outputs), because,
                         doc=ast.get_docstring(cls), uses_database=bool(uses_database))
