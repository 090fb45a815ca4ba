"""A stable, fast YAML writer for manifests, isolated from Hera's global PyYAML changes.

Importing hera registers its own ``str`` representer on PyYAML's SafeRepresenter, for every
dumper in the process. This dumper keeps a private representer table, so its output does not
depend on whether (or when) hera was imported. It is libyaml's CSafeDumper on a plain dict:
the cheapest way to write the manifest with PyYAML at all.

Strings are plain unless PyYAML must quote them, plus the single-letter YAML 1.1 booleans
(``y``, ``n``...) that kubectl and Argo would read as booleans but PyYAML leaves bare.
"""

from __future__ import annotations

from typing import Any, ClassVar

import yaml

_Base: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_YAML11_LETTERS = frozenset({"y", "Y", "n", "N"})
_FIRST = ("apiVersion", "kind", "metadata", "name")


class _Dumper(_Base):  # type: ignore[misc]
    """CSafeDumper with its own representer table (see the module docstring)."""

    yaml_representers: ClassVar[dict[Any, Any]] = dict(yaml.SafeDumper.yaml_representers)


def _represent_str(dumper: Any, data: str) -> Any:
    if data in _YAML11_LETTERS:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="'")
    return yaml.representer.SafeRepresenter.represent_str(dumper, data)


_Dumper.yaml_representers[str] = _represent_str


def ordered(value: Any) -> Any:
    """The same data with ``apiVersion``, ``kind``, ``metadata`` and ``name`` first in every
    mapping, the rest in the order it was built: Argo's usual reading order, and stable."""
    if isinstance(value, dict):
        head = {k: ordered(value[k]) for k in _FIRST if k in value}
        head.update((k, ordered(v)) for k, v in value.items() if k not in head)
        return head
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def dump(data: Any) -> str:
    """YAML text of plain data (dicts, lists, str, int, float, bool, None), keys unsorted."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1_000_000)
