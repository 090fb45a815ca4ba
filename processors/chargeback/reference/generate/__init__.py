"""A deterministic, fictitious but realistic reference set for offline chargeback runs, one
module per dataset (``base`` says what the set always contains, and why).

``generate`` writes the whole set; ``World`` builds it; the check-digit helpers make valid
identifiers for tests.
"""

from pathlib import Path

from processors.chargeback.reference.generate.base import (
    PLANTED,
    dea_with_check,
    gln_with_check,
    npi_with_check,
)
from processors.chargeback.reference.generate.world import World

__all__ = ["PLANTED", "World", "dea_with_check", "generate", "gln_with_check", "npi_with_check"]


def generate(
    out_dir: Path, seed: int = 844, customers: int = 400, roster_only: int = 1700
) -> list[Path]:
    """Write the whole reference set plus ``manifest.csv`` into ``out_dir``."""
    return World(seed, customers, roster_only).write(out_dir)
