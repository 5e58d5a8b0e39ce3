"""Pure screening engine: list parsers, name normalisation, matching, deltas.

Nothing here imports Odoo: the model layer reads what it needs in bulk, calls these
functions and writes the results in bulk. Tested directly and benchmarked
(``scripts/bench_screening.py``).
"""
from .records import Entry, ListParseError

__all__ = ["Entry", "ListParseError"]
