"""Duplicate collapse: a ranked passage that repeats a better one is folded into it.

Two passages say the same thing when their texts embed alike (cosine >= `SAME_PASSAGE`) or
their best sentences do (cosine >= `SAME_SENTENCE`). The first k distinct passages are
found in rank order; every later passage is then checked against those k at once, so the
work in Python is about k steps, not one per candidate.
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
        first = _first_same(passage_vectors, sentence_vectors, [row], kept)[0]
        if first < 0:
            kept.append(row)
            folded[row] = []
        else:
            folded[kept[first]].append(row)
        row += 1
    rest = np.arange(row, len(passage_vectors))
    for later, first in zip(
        rest.tolist(), _first_same(passage_vectors, sentence_vectors, rest, kept)
    ):
        if first >= 0:
            folded[kept[first]].append(later)
    return [(row, folded[row]) for row in kept]


def _first_same(
    passage_vectors: np.ndarray, sentence_vectors: np.ndarray, rows, kept: list[int]
) -> np.ndarray:
    """For each of `rows`, the position in `kept` of the first row it repeats, or -1."""
    if not kept or not len(rows):
        return np.full(len(rows), -1)
    same = (passage_vectors[rows] @ passage_vectors[kept].T >= SAME_PASSAGE) | (
        sentence_vectors[rows] @ sentence_vectors[kept].T >= SAME_SENTENCE
    )
    return np.where(same.any(axis=1), same.argmax(axis=1), -1)
