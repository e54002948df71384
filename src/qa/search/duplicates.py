"""Duplicate collapse: a ranked passage that repeats a better one is folded into it.

Two passages say the same thing when their texts embed alike (cosine >= `SAME_PASSAGE`) or
their best sentences do (cosine >= `SAME_SENTENCE`). The first k distinct passages are
found in rank order, comparing a block of passages at a time in one product; every later
passage is then checked against those k at once, so the vector work is a few products,
not one per candidate.
"""

from __future__ import annotations

import numpy as np

SAME_SENTENCE = 0.9  # cosine above which two best sentences say the same thing
SAME_PASSAGE = 0.95  # cosine above which two passages are the same text


def collapse(
    passage_vectors: np.ndarray, sentence_vectors: np.ndarray, k: int
) -> list[tuple[int, list[int]]]:
    """The first `k` distinct rows, each with the later rows that repeat it.

    Args:
        passage_vectors: the ranked passages' unit vectors, best first, shape (n, d).
        sentence_vectors: their best sentences' unit vectors, in the same order.
        k: how many distinct rows to keep.

    Returns:
        (kept row, [rows folded into it, in rank order]) for each kept row, best first. A
        row that repeats several kept rows is folded into the best of them; a row past the
        k-th kept one that repeats none is dropped.
    """
    kept: list[int] = []
    folded: dict[int, list[int]] = {}
    row = 0
    while row < len(passage_vectors) and len(kept) < k:
        # A block of rows against every row up to its end, in one product; then the walk
        # reads which kept rows each repeats (a duplicate-heavy ranking walks far).
        end = min(len(passage_vectors), row + _BLOCK)
        same = _same(passage_vectors, sentence_vectors, np.arange(row, end), np.arange(end))
        for repeats in same:
            first = np.flatnonzero(repeats[kept]) if kept else ()
            if len(first):
                folded[kept[first[0]]].append(row)
            else:
                kept.append(row)
                folded[row] = []
            row += 1
            if len(kept) == k:
                break
    rest = np.arange(row, len(passage_vectors))
    if kept and len(rest):
        same = _same(passage_vectors, sentence_vectors, rest, np.array(kept))
        repeating = same.any(axis=1)
        for later, first in zip(rest[repeating].tolist(), same[repeating].argmax(axis=1).tolist()):
            folded[kept[first]].append(later)
    return [(row, folded[row]) for row in kept]


_BLOCK = 16  # rows compared at once while walking to the k-th distinct one


def _same(
    passage_vectors: np.ndarray, sentence_vectors: np.ndarray, rows: np.ndarray, others: np.ndarray
) -> np.ndarray:
    """Whether each of `rows` says the same as each of `others`, shape (rows, others)."""
    return (passage_vectors[rows] @ passage_vectors[others].T >= SAME_PASSAGE) | (
        sentence_vectors[rows] @ sentence_vectors[others].T >= SAME_SENTENCE
    )
