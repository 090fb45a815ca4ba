"""The Argo Workflows lines flowspec compiles for, and what each one can express.

``flowspec compile --argo-version`` (and ``submit``) names a line; the compiler and ``--check``
ask its ``ArgoTarget`` what to emit instead of comparing version numbers. A line means every
patch release of it, so a feature counts only when all of them have it, and ``--check`` uses
the schema and CRDs of the line's newest release that the repository carries.

What differs between the lines, read in Argo's source at each release tag:

- ``backoff.cap`` exists from v3.7.0. Without it the compiler leaves the cap out where it
  never binds (no wait reaches it within the retry limit) and refuses it otherwise (FS820).
- A Skipped or Omitted producer's outputs are nil in expressions from v3.7.16 and v4.0.7
  (``addSkippedNodeOutputsToScope``), as the compiled conditions expect. Before, they were
  ``''`` (v3.7.13-v3.7.15, v4.0.4-v4.0.6) or left out of the task's scope altogether, so
  that ``tasks['x'].outputs`` itself is nil (v3.6, v3.7.0-v3.7.12, v4.0.0-v4.0.3). On such a
  line the compiled null test of an output also holds for those two, which makes an empty
  string output read as null: a condition whose answer then changes is refused (FS821).
  A step's env that reads such an output gets ``''`` or an unresolved reference there
  instead of null, so on those lines it is refused wherever the producer may be skipped or
  omitted while the reader still runs (FS822).
- CronWorkflow ``schedules`` (a list) exists in every line here (v3.6 added it and
  deprecated ``schedule``, v4.0 removed ``schedule``), so it is always what is emitted.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from engine.diagnostics import code
from engine.expr import ast
from engine.expr import types as t
from engine.loader import Path
from engine.model import Retry, Step

BACKOFF_CAP_UNSUPPORTED = code("FS820", "backoff cap the target Argo version lacks", """
`retry.backoff.cap` needs Argo v3.7 or later: v3.6's retryStrategy has no `cap`. Where no
wait within the retry limit reaches the cap (delay * factor^(limit-1) <= cap), the compiler
leaves it out and the waits are the same; here a wait would exceed it. Lower the limit, the
factor or the delay so that the waits stay under the cap, or compile for a newer Argo with
`--argo-version`.
""")
EMPTY_STRING_IS_NULL = code("FS821", "condition tells an empty output from null", """
Before Argo v3.7.16 and v4.0.7, a skipped or omitted step's outputs read as `''` (or not at
all) instead of null, so on the 3.6, 3.7 and 4.0 lines a compiled condition treats an empty
string output as null. A condition that compares a string output with `''` or with `null`
would then decide differently on Argo than locally when the step outputs an empty string.
Compare with a non-empty value, test the step's status (`steps.NAME.status`), or compile for
Argo 4.1 with `--argo-version 4.1`.
""")
SKIPPED_INPUT = code("FS822", "env reads an output of a step that may not run", """
Before Argo v3.7.16 and v4.0.7, a step that was skipped (its `when` was false) or omitted
(its `depends` was not met) passes its outputs on as `''` or as an unresolved
`{{tasks...}}` reference instead of leaving them absent, so a step whose env reads such an
output (`${{ steps.NAME.outputs.OUT }}`) would get that text where flowspec gives null, or
fail. On the 3.6, 3.7 and 4.0 lines the compiler therefore refuses an env reference to an
output of a step with a `when`, or one that reaches the reader through a `depends` (the
ways a step can end skipped or omitted while a later step still runs). Read the output in
a `when` instead, make the producer run unconditionally, or compile for Argo 4.1 with
`--argo-version 4.1`.
""")


@dataclass(frozen=True)
class ArgoTarget:
    """One Argo Workflows line (``3.7``) and what every patch release of it can express."""

    version: str
    #: The release whose schema.json and CRDs ``--check`` validates against.
    schema_release: str
    #: ``retryStrategy.backoff.cap`` exists.
    backoff_cap: bool
    #: A Skipped/Omitted producer's outputs are nil in expressions; otherwise they may be
    #: ``''`` or missing, and the compiled null test covers both.
    nil_skipped_outputs: bool

    @property
    def bundle_name(self) -> str:
        """The file of ``engine/compile/data`` holding this line's schemas for ``--check``."""
        return f"argo-schemas-{self.schema_release}.json.gz"


TARGETS: Mapping[str, ArgoTarget] = {target.version: target for target in (
    ArgoTarget("3.6", "v3.6.19", backoff_cap=False, nil_skipped_outputs=False),
    ArgoTarget("3.7", "v3.7.18", backoff_cap=True, nil_skipped_outputs=False),
    ArgoTarget("4.0", "v4.0.10", backoff_cap=True, nil_skipped_outputs=False),
    ArgoTarget("4.1", "v4.1.2", backoff_cap=True, nil_skipped_outputs=True),
)}
LATEST = TARGETS["4.1"]


def target(version: str) -> ArgoTarget:
    """The line ``version`` names (``4.0``, ``v4.0`` or a release of it such as ``4.0.7``)."""
    parts = version.strip().removeprefix("v").split(".")
    found = TARGETS.get(".".join(parts[:2]))
    if found is None:
        raise ValueError(f"Argo version {version!r} is not supported; one of "
                         f"{', '.join(TARGETS)}")
    return found


def cap_binds(retry: Retry) -> bool:
    """Whether some wait within the retry limit would exceed the backoff cap."""
    backoff = retry.backoff
    if backoff is None or backoff.cap is None or backoff.delay <= 0 or retry.limit <= 0:
        return False
    if backoff.delay > backoff.cap:
        return True
    if backoff.factor <= 1:
        return False
    # delay * factor^(limit-1) > cap, in logarithms: a long limit must not overflow a float
    return (retry.limit - 1) * math.log(backoff.factor) > math.log(backoff.cap / backoff.delay)


def condition_problems(condition: ast.Expr, output_types: Mapping[str, Mapping[str, str]],
                       argo: ArgoTarget) -> list[tuple[str, str]]:
    """(message, hint) for each comparison of a ``when`` that ``argo`` cannot decide as the
    local evaluator does (FS821)."""
    if argo.nil_skipped_outputs:
        return []
    hint = ("compare with a non-empty value or the step's status, or compile with "
            f"--argo-version {LATEST.version}")
    problem = (f"on Argo {argo.version} an empty string output reads as null, so this "
               "comparison would not decide as it does locally")
    return [(f"'{compare}': {problem}", hint)
            for compare in empty_string_comparisons(condition, output_types)]


def empty_string_comparisons(condition: ast.Expr,
                             output_types: Mapping[str, Mapping[str, str]]) -> Iterator[str]:
    """The comparisons in ``condition`` whose answer differs when a string output is ``''``
    and the compiled condition reads it as null (a line without ``nil_skipped_outputs``)."""
    if isinstance(condition, (ast.Logical, ast.Compare)):
        yield from empty_string_comparisons(condition.left, output_types)
        yield from empty_string_comparisons(condition.right, output_types)
        if isinstance(condition, ast.Compare) and _tells_empty_from_null(condition, output_types):
            yield ast.to_text(condition)
    elif isinstance(condition, ast.Not):
        yield from empty_string_comparisons(condition.operand, output_types)


def _tells_empty_from_null(compare: ast.Compare,
                           output_types: Mapping[str, Mapping[str, str]]) -> bool:
    sides = (compare.left, compare.right)
    if not any(isinstance(side, ast.StepOutputRef)
               and output_types.get(side.step, {}).get(side.output) == t.STRING
               for side in sides):
        return False
    literals = [side for side in sides if isinstance(side, ast.Literal)]
    if isinstance(compare.right, ast.ListLiteral):
        literals.extend(compare.right.items)
    return any(literal.value in ("", None) for literal in literals)


def skipped_input_problems(steps: Sequence[Step], argo: ArgoTarget
                           ) -> list[tuple[Path, str, str]]:
    """(spec path, message, hint) for each env reference of one DAG's ``steps`` to an output
    of a step that may end Skipped or Omitted while the reader runs (FS822), on a line
    without ``nil_skipped_outputs``.

    A step is Skipped only by its own ``when``; an Omitted one omits every step that waits
    for it through ``dependencies`` (and the ``depends`` they compile to), so its outputs can
    reach a running step only through a ``depends`` the user wrote on the way from it.
    """
    if argo.nil_skipped_outputs:
        return []
    from engine.compile.templates import upstream_refs
    from engine.graph import is_ancestor, known_parents

    parents = known_parents(steps)
    by_name = {step.name: step for step in steps}
    found = []
    for reader in steps:
        for producer, output in upstream_refs(reader):
            source = by_name.get(producer)
            if source is None:
                continue
            between = [s for s in steps if s is reader or (
                is_ancestor(parents, producer, s.name) and is_ancestor(parents, s.name,
                                                                        reader.name))]
            if source.when is None and all(s.depends is None for s in between):
                continue
            why = "has a when" if source.when is not None else "may be omitted"
            message = (f"'${{{{ steps.{producer}.outputs.{output} }}}}': step '{producer}' "
                       f"{why}, and on Argo {argo.version} a skipped or omitted step's outputs "
                       "reach another step as '' or an unresolved reference, not as null")
            hint = f"read it in a when, or compile with --argo-version {LATEST.version}"
            found.append(((*reader.path, "env"), message, hint))
    return found
