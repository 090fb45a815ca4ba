"""Helpers the executor tests import (conftest modules clash by name across test folders)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

from engine.model import ContinueOn, Retry, Spec, Step

HERE = Path(__file__).parent
if str(HERE) not in sys.path:  # executor_procs must import the same way in child processes
    sys.path.insert(0, str(HERE))


def make_step(name: str, deps: list[str] | None = None, *, depends: str | None = None,
              when: str | None = None, failed: bool = False, error: bool = False,
              retry: Retry | None = None, index: int = 0, **kw: Any) -> Step:
    return Step(name=name, processor="noop", index=index, path=("steps", index),
                dependencies=tuple(deps) if deps is not None else None, depends=depends,
                when=when, continue_on=ContinueOn(failed, error), retry=retry or Retry(), **kw)


def spec_from(text: str) -> Spec:
    from engine.validation import load_spec_text

    return load_spec_text(textwrap.dedent(text).lstrip())
