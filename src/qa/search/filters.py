"""Date and source filters as masks over passages, computed with arrays, not per-passage loops.

The per-document facts (owner of each passage, date bounds, source name) are gathered once
when an index loads; a filtered question then costs a few array operations.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from qa.dates import date_bounds, date_range
from qa.ingest.corpus import Document

_UNDATED = ("9999-99-99", "0000-00-00")  # first > last: in no range


class PassageFilter:
    """Which passages pass a date range and a set of source files.

    Args:
        documents: the index's documents.
        owners: for each passage, the number of its document.
    """

    def __init__(self, documents: Sequence[Document], owners: np.ndarray) -> None:
        self._owners = np.asarray(owners, dtype=np.int64)
        self._number = {document.source: i for i, document in enumerate(documents)}
        bounds = [_bounds_or_undated(document.date) for document in documents]
        self._first = np.array([first for first, _ in bounds], dtype="U10")
        self._last = np.array([last for _, last in bounds], dtype="U10")

    def mask(
        self,
        date_from: str | None = None,
        date_to: str | None = None,
        sources: Collection[str] | None = None,
    ) -> np.ndarray | None:
        """A boolean mask over passages, or None when nothing is filtered.

        Raises:
            ValueError: a date is not ISO (YYYY, YYYY-MM or YYYY-MM-DD, or a timestamp),
                or `date_from` is after `date_to`.
        """
        date_from, date_to = date_range(date_from, date_to)
        if date_from is None and date_to is None and sources is None:
            return None
        keep = np.ones(len(self._first), dtype=bool)
        if sources is not None:
            keep[:] = False
            keep[[self._number[s] for s in set(sources) if s in self._number]] = True
        if date_from is not None or date_to is not None:
            keep &= self._first <= self._last  # dated
        if date_from is not None:
            keep &= self._last >= date_bounds(date_from)[0]
        if date_to is not None:
            keep &= self._first <= date_bounds(date_to)[1]
        return keep[self._owners]


def in_date_range(date: str | None, date_from: str | None, date_to: str | None) -> bool:
    """Whether a (possibly partial) ISO date falls in the inclusive range.

    Partial dates are ranges themselves: "2024" is any day of 2024, so it is in a range
    that overlaps that year.
    """
    try:
        first, last = date_bounds(date or "")
    except ValueError:  # undated, or a date that is not ISO: it cannot be placed
        return False
    if date_from is not None and last < date_bounds(date_from)[0]:
        return False
    return date_to is None or first <= date_bounds(date_to)[1]


def _bounds_or_undated(date: str | None) -> tuple[str, str]:
    """A document's date bounds; an index written before dates were checked may hold a
    timestamp ("2024-11-28 10:00:00+00:00"), which stands for its day."""
    try:
        return date_bounds(date or "")
    except ValueError:
        return _UNDATED
