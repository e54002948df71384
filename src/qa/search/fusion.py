"""Score fusion: putting the scores of several retrievers on one scale."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def zscore(scores: np.ndarray) -> np.ndarray:
    """Standardise scores to mean 0 and standard deviation 1 (all zeros if they are flat).

    Z-score fusion (Kuzi, Shtok and Kurland, "Query expansion using word embeddings", CIKM
    2016; compared with other normalisations by Lee, "Analyses of multiple evidence
    combination", SIGIR 1997) makes cosine similarities and BM25 scores comparable per query.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores
    return _standardised(scores[None])[0]


def fuse(legs: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted sum of the z-scored legs; every leg scores the same candidates.

    All legs are standardised at once, row by row of one array: the same values as
    `zscore` of each, without a round of numpy calls per leg.
    """
    used = [(scores, weight) for scores, weight in zip(legs, weights) if weight]
    if not used:
        return np.zeros(len(legs[0]) if legs else 0)
    standard = _standardised(np.array([scores for scores, _ in used], dtype=np.float64))
    weighted = np.array([weight for _, weight in used])[:, None] * standard
    return weighted.sum(axis=0)


def _standardised(rows: np.ndarray) -> np.ndarray:
    """Each row of `rows` (float64, not empty) to mean 0 and standard deviation 1; a flat
    row to zeros."""
    mean = rows.mean(axis=1, keepdims=True)
    spread = rows.std(axis=1, keepdims=True)
    flat = spread <= 1e-12
    standard = (rows - mean) / np.where(flat, 1.0, spread)
    standard[flat[:, 0]] = 0.0
    return standard


def rerank(
    scores: np.ndarray,
    top: np.ndarray,
    legs: Sequence[np.ndarray],
    weights: Sequence[float] | None = None,
) -> np.ndarray:
    """Scores after reranking the candidates `top` by more evidence.

    Each of them scores z(its score among `top`) plus z(its score on each leg) times the
    leg's weight (1 when no weights are given), the legs scoring `top` in its order. Every
    other candidate keeps its gaps to the lowest of `top` and is moved below the lowest
    reranked one, so it keeps its place after them.
    """
    # Every row standardised at once, as `fuse` does; summed in the same order as one by one.
    standard = _standardised(np.array([scores[top], *legs], dtype=np.float64))
    reranked = standard[0]
    for row, weight in zip(standard[1:], weights or [1.0] * len(legs)):
        reranked = reranked + weight * row
    outside = np.ones(len(scores), dtype=bool)
    outside[top] = False
    rest = np.flatnonzero(outside)
    moved = np.asarray(scores, dtype=np.float64).copy()
    moved[rest] = reranked.min() - 1.0 - (scores[top].min() - scores[rest])
    moved[top] = reranked
    return moved


def reciprocal_rank(rankings: Sequence[Sequence[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the lists an item is in.

    Cormack, Clarke and Buettcher, "Reciprocal rank fusion outperforms Condorcet and
    individual rank learning methods", SIGIR 2009; ranks start at 1.
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused
