"""Hybrid retrieval: candidates from four legs, fused scores, best sentences, duplicates.

The four legs score a passage by BM25 over its text (with the title), BM25 of its best
sentence, embedding similarity of the passage, and embedding similarity of its best
sentence. Each leg nominates its top candidates; every candidate then gets all four scores,
which are z-normalised over the candidates and summed with equal weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from qa import vectors
from qa.duplicates import collapse
from qa.fusion import fuse
from qa.store import StoredIndex

CANDIDATES = 100  # per leg; measured: deeper lists do not change the ranking (BENCHMARKS.md)


class Mode(str, Enum):
    """Which legs retrieve: both (the default), only the embeddings, or only BM25."""

    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"

    @classmethod
    def from_str(cls, name: str) -> Mode:
        try:
            return cls(name)
        except ValueError:
            valid = ", ".join(mode.value for mode in cls)
            raise ValueError(f"unknown retrieval mode {name!r}; choose one of: {valid}") from None

    @property
    def weights(self) -> tuple[float, float, float, float]:
        """Weights of (BM25 passage, BM25 sentence, dense passage, dense sentence)."""
        lexical = 1.0 if self is not Mode.DENSE else 0.0
        dense = 1.0 if self is not Mode.LEXICAL else 0.0
        return (lexical, lexical, dense, dense)


@dataclass
class Hit:
    """A ranked passage: its number, fused score, best sentence, and collapsed duplicates."""

    passage: int
    score: float
    sentence: int
    duplicates: list[int] = field(default_factory=list)


def search(
    index: StoredIndex,
    question: str,
    query: np.ndarray,
    k: int,
    mode: Mode = Mode.HYBRID,
    allowed: np.ndarray | None = None,
) -> list[Hit]:
    """The best `k` distinct passages for a question, best first.

    Args:
        index: the loaded index.
        question: the question's text (for BM25).
        query: its unit-length embedding, shape (1, dimension).
        k: how many distinct passages.
        mode: which legs take part.
        allowed: a boolean mask over passages, or None for all.
    """
    weights = mode.weights
    bm25_passages = bm25_sentences = None
    candidates: set[int] = set()
    if weights[2]:
        candidates |= _dense_candidates(index, query, allowed)
    if weights[0]:
        bm25_passages = index.lexical.scores(question)
        bm25_sentences = index.lexical_sentences.scores(question)
        candidates |= _top(bm25_passages, allowed)
        candidates |= _top(_best_per_passage(index, bm25_sentences), allowed)
    if not candidates:
        return []
    passages = np.array(sorted(candidates))
    sentences, owner = _sentences_of(index, passages)
    dense_passage = _reconstruct(index.vectors, passages) @ query[0]
    dense_sentence = _reconstruct(index.sentence_vectors, sentences) @ query[0]
    if bm25_passages is None:
        lexical_passage, lexical_sentence = np.zeros(len(passages)), np.zeros(len(sentences))
    else:
        lexical_passage, lexical_sentence = bm25_passages[passages], bm25_sentences[sentences]
    groups = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    scores = fuse(
        [
            lexical_passage,
            np.maximum.reduceat(lexical_sentence, groups),
            dense_passage,
            np.maximum.reduceat(dense_sentence, groups),
        ],
        weights,
    )
    sentence_scores = fuse([lexical_sentence, dense_sentence], (weights[1], weights[3]))
    best = [
        int(sentences[start + np.argmax(sentence_scores[start:end])])
        for start, end in zip(groups, np.r_[groups[1:], len(sentences)])
    ]
    order = np.argsort(-scores, kind="stable")
    hits = [Hit(int(passages[i]), float(scores[i]), best[i]) for i in order]
    return _collapse_duplicates(index, hits, k)


def _dense_candidates(index: StoredIndex, query: np.ndarray, allowed: np.ndarray | None) -> set:
    ids = sentence_ids = None
    if allowed is not None:
        ids = np.flatnonzero(allowed).astype(np.int64)
        sentence_ids = np.flatnonzero(allowed[index.sentences[:, 0]]).astype(np.int64)
    depth = min(CANDIDATES, index.vectors.ntotal)
    _, passages = vectors.search(index.vectors, query, depth, ids)
    depth = min(CANDIDATES, index.sentence_vectors.ntotal)
    _, sentences = vectors.search(index.sentence_vectors, query, depth, sentence_ids)
    found = set(passages[0][passages[0] >= 0].tolist())
    return found | set(index.sentences[sentences[0][sentences[0] >= 0], 0].tolist())


def _top(scores: np.ndarray, allowed: np.ndarray | None) -> set[int]:
    """The CANDIDATES best-scoring passages with a score above zero."""
    if allowed is not None:
        scores = np.where(allowed, scores, 0.0)
    depth = min(CANDIDATES, len(scores))
    top = np.argpartition(-scores, depth - 1)[:depth]
    return set(top[scores[top] > 0].tolist())


def _best_per_passage(index: StoredIndex, sentence_scores: np.ndarray) -> np.ndarray:
    return np.maximum.reduceat(sentence_scores, index.first_sentence[:-1])


def _sentences_of(index: StoredIndex, passages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sentence numbers of these passages, and for each, its passage's position."""
    starts, ends = index.first_sentence[passages], index.first_sentence[passages + 1]
    sentences = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)])
    owner = np.repeat(np.arange(len(passages)), ends - starts)
    return sentences, owner


def _reconstruct(vectors, ids: np.ndarray) -> np.ndarray:
    return vectors.reconstruct_batch(ids.astype(np.int64))


def _collapse_duplicates(index: StoredIndex, hits: list[Hit], k: int) -> list[Hit]:
    """Fold each hit that repeats a better one (same passage text or same best sentence)."""
    passage_vectors = _reconstruct(index.vectors, np.array([h.passage for h in hits]))
    sentence_vectors = _reconstruct(index.sentence_vectors, np.array([h.sentence for h in hits]))
    kept = []
    for row, repeats in collapse(passage_vectors, sentence_vectors, k):
        hits[row].duplicates.extend(hits[r].passage for r in repeats)
        kept.append(hits[row])
    return kept
