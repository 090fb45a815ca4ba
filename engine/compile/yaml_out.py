"""A stable, fast YAML writer for manifests, isolated from Hera's global PyYAML changes.

Importing hera registers its own ``str`` representer on PyYAML's SafeRepresenter, for every
dumper in the process. This dumper keeps private representer and resolver tables, so its
output does not depend on whether (or when) hera was imported.

It is libyaml's CSafeDumper with the Python half made lean for the only data a manifest
holds (dicts, lists, str, int, float, bool): type dispatch without PyYAML's alias
bookkeeping (a manifest shares no objects), and implicit-tag resolution memoised per dump
(the same keys and values recur thousands of times). The emitted text is exactly what
CSafeDumper writes for the same dict.

Keys keep the order the manifest was built in (Hera's model order, alphabetical like
``kubectl get -o yaml``). Strings are plain unless a YAML reader would take them for
something else; besides PyYAML's rules that includes the single-letter YAML 1.1 booleans
(``y``, ``n``...) that kubectl and Argo read as booleans but PyYAML leaves bare.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_Base: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_STR, _INT, _BOOL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool"
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


class _Dumper(_Base):  # type: ignore[misc]
    """CSafeDumper with its own tables and a lean representer (see the module docstring)."""

    yaml_representers: ClassVar[dict[Any, Any]] = {
        **yaml.SafeDumper.yaml_representers,
        str: yaml.representer.SafeRepresenter.represent_str,
    }
    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        k: list(v) for k, v in yaml.SafeDumper.yaml_implicit_resolvers.items()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resolved: dict[tuple[str, tuple[bool, bool]], str] = {}

    def represent_data(self, data: Any) -> Node:
        kind = type(data)
        if kind is str:
            return ScalarNode(_STR, data)
        if kind is dict:
            rep = self.represent_data
            return MappingNode(_MAP, [(rep(k), rep(v)) for k, v in data.items()],
                               flow_style=False)
        if kind is list:
            rep = self.represent_data
            return SequenceNode(_SEQ, [rep(v) for v in data], flow_style=False)
        if kind is bool:
            return ScalarNode(_BOOL, "true" if data else "false")
        if kind is int:
            return ScalarNode(_INT, str(data))
        return super().represent_data(data)  # type: ignore[no-any-return]

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]
        key = (value, implicit)
        tag = self._resolved.get(key)
        if tag is None:
            tag = self._resolved[key] = super().resolve(kind, value, implicit)
        return tag


_Dumper.add_implicit_resolver(_BOOL, re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))


def dump(data: Any) -> str:
    """YAML text of plain data (dicts, lists, str, int, float, bool, None), keys unsorted."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1_000_000)
