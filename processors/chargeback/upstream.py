"""Finding the claim the intake step published, for every step after it.

The spec may call the intake step anything, so the claim is found (the first ancestor whose
data holds ``claim``), not named; and it is decoded once per published object
(``shared_claim``) however many steps read it.
"""

from __future__ import annotations

from engine.processors import StepContext, StepFailed
from processors.chargeback.claim import Claim, shared_claim


def claim_from_upstream(context: StepContext, step: str | None = None) -> tuple[str, Claim]:
    """The claim extract-identifiers published (``data["claim"]``), and the step that did.

    Without ``step``, the first ancestor carrying a claim: the spec may name the intake step
    anything.
    """
    names = [step] if step else list(context.upstream)
    for name in names:
        up = context.upstream.get(name)
        if up is not None and "claim" in up.data:
            try:
                return name, shared_claim(up.data["claim"])
            except ValueError as exc:
                raise StepFailed(
                    f"the claim published by step '{name}' is malformed: {exc}"
                ) from None
    where = f"step '{step}'" if step else "any upstream step"
    raise StepFailed(
        f"no claim found in {where}; the intake step (chargeback.extract-identifiers) must be an "
        "ancestor of this step (add it to its dependencies)"
    )
