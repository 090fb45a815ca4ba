"""X12 004010 chargebacks (brief §2): the 844 claim read, the 849 answer written.

One module per idea: ``tokens`` (delimiters from the ISA, segments), ``reader`` (the 844:
envelope, structure and business content, R01) and ``writer`` (the 849, and the 844 for
samples and tests). What the rest of the package uses is importable from here.
"""

from processors.chargeback.edi.reader import parse_844, parse_844_interchange
from processors.chargeback.edi.tokens import ClaimFormatError, Delimiters, Segment, tokenize
from processors.chargeback.edi.writer import (
    FOLLOW_UP_BY_REASON,
    write_844,
    write_849,
    write_849_to,
)

__all__ = [
    "FOLLOW_UP_BY_REASON",
    "ClaimFormatError",
    "Delimiters",
    "Segment",
    "parse_844",
    "parse_844_interchange",
    "tokenize",
    "write_844",
    "write_849",
    "write_849_to",
]
