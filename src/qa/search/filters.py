"""Date and source filters as masks over passages, computed with arrays, not per-passage loops.

The per-document facts (owner of each passage, date bounds, source name) are gathered once
when an index loads; a filtered question then costs a few array operations.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from qa.dates import date_bounds, date_range, spoken_dates
from qa.index.generation import StoredIndex
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


class SpokenDates:
    """The sentences that name a date relative to their article's date ("next year" in an
    article dated 2024-11-28 names 2025: `qa.dates.spoken_dates`).

    Args:
        named: (sentence number, date) for each such date a sentence names.
    """

    def __init__(self, named: Sequence[tuple[int, str]] = ()) -> None:
        self._sentences = np.array([sentence for sentence, _ in named], dtype=np.int64)
        bounds = [date_bounds(date) for _, date in named]
        self._first = np.array([first for first, _ in bounds], dtype="U10")
        self._last = np.array([last for _, last in bounds], dtype="U10")

    @classmethod
    def of(cls, index: StoredIndex) -> SpokenDates:
        """Those of `index`, read from the sentences of its dated articles that name any."""
        speaking = [
            number
            for number, document in enumerate(index.documents)
            if document.date and spoken_dates(document.text, document.date)
        ]  # most articles name no such time: their sentences are not read
        named = []
        for passage in np.flatnonzero(np.isin(index.passage_owners, speaking)).tolist():
            document = index.documents[index.passages[passage].doc]
            for row in range(index.first_sentence[passage], index.first_sentence[passage + 1]):
                _, start, end = index.sentences[row].tolist()
                text = document.text[start:end]
                named += [(row, date) for date in spoken_dates(text, document.date)]
        return cls(named)

    def naming(self, dates: Sequence[str]) -> np.ndarray:
        """The numbers of the sentences that name any of `dates` (ISO, partial or whole; a
        question's "2024-13" names no date and no sentence)."""
        naming = np.zeros(len(self._sentences), dtype=bool)
        for date in dates:
            try:
                first, last = date_bounds(date)
            except ValueError:
                continue
            naming |= (self._first <= last) & (self._last >= first)
        return np.unique(self._sentences[naming])


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
