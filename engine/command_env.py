"""The environment a step's command starts with: its declared env on a small, fixed base.

On Argo a step's pod holds only the env its step declares (secrets included); a local command
that inherited flowspec's whole environment would see every secret of every step, and every
credential of the user who started the run. So, locally and in a pod alike, a command gets:

- from flowspec's own environment, only ``BASE`` and the ``LC_*`` locale variables, so that
  programs are found, have a home and speak the user's language;
- the step's declared env (which overrides the base);
- the ``FLOWSPEC_*`` variables its processor sets for it (``FLOWSPEC_OUTPUT``), which override
  both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: Taken from flowspec's environment when set there (documented in docs/semantics.md).
BASE = ("PATH", "HOME", "LANG", "TZ", "TMPDIR")
BASE_PREFIX = "LC_"


def command_env(declared: Mapping[str, str], own: Mapping[str, str],
                environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The base from ``environ``, then ``declared``, then the processor's ``own`` variables."""
    env = {name: value for name, value in environ.items()
           if name in BASE or name.startswith(BASE_PREFIX)}
    env.update(declared)
    env.update(own)
    return env
