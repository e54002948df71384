from __future__ import annotations

import numpy as np
import pytest

from qa.search.duplicates import SAME_PASSAGE, SAME_SENTENCE, collapse


def _one_at_a_time(passages: np.ndarray, sentences: np.ndarray, k: int) -> list:
    """The rule stated plainly: walk the ranking, compare each row with every kept row."""
    kept: list[int] = []
    folded: dict[int, list[int]] = {}
    for row in range(len(passages)):
        same = [
            j
            for j in kept
            if passages[j] @ passages[row] >= SAME_PASSAGE
            or sentences[j] @ sentences[row] >= SAME_SENTENCE
        ]
        if same:
            folded[same[0]].append(row)
        elif len(kept) < k:
            kept.append(row)
            folded[row] = []
    return [(row, folded[row]) for row in kept]


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_copies_fold_into_the_better_ranked_row():
    a, b, c = np.eye(3, dtype=np.float32)
    passages = np.stack([a, b, a, c, b])  # rows 2 and 4 repeat rows 0 and 1
    sentences = np.stack([a, b, c, c, a])  # row 3's best sentence repeats row 2's, not a kept one
    assert collapse(passages, sentences, 2) == [(0, [2, 4]), (1, [])]
    assert collapse(passages, sentences, 3) == [(0, [2, 4]), (1, []), (3, [])]


@pytest.mark.parametrize("k", [1, 5, 10])
def test_the_same_as_comparing_one_row_at_a_time(k):
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((40, 16))
    picks = rng.integers(40, size=300)
    passages = _unit(centres[picks] + 0.1 * rng.standard_normal((300, 16)))
    sentences = _unit(centres[rng.integers(40, size=300)] + 0.2 * rng.standard_normal((300, 16)))
    expected = _one_at_a_time(passages, sentences, k)
    assert sum(len(rows) for _, rows in expected) >= 10  # the data does have repeats
    assert collapse(passages, sentences, k) == expected


def test_no_rows():
    empty = np.zeros((0, 4), dtype=np.float32)
    assert collapse(empty, empty, 5) == []
