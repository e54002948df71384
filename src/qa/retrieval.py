"""Hybrid retrieval: candidates from five legs, fused scores, a rerank, best sentences.

The five legs score a passage by BM25 over its text with the title, BM25 of its best
sentence (with the title), embedding similarity of the passage (with the title), and
embedding similarity of its best sentence, alone and with the title. Each leg nominates its
top candidates; every candidate then gets all five scores, which are z-normalised over the
candidates and summed with equal weights. The best RERANK of those are then reranked by
adding MaxSim (see `maxsim`) of the passage and of its best sentence, again z-normalised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qa import vectors
from qa.duplicates import collapse
from qa.fusion import fuse, zscore
from qa.maxsim import maxsim
from qa.settings import Choice
from qa.store import StoredIndex

CANDIDATES = 50  # per leg; measured: deeper lists do not change the ranking (BENCHMARKS.md)
RERANK = 20  # passages reranked with MaxSim; measured in BENCHMARKS.md


class Mode(Choice):
    """Which legs retrieve: both (the default), only the embeddings, or only BM25."""

    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"

    @classmethod
    def label(cls) -> str:
        return "retrieval mode"

    @property
    def lexical(self) -> bool:
        return self is not Mode.DENSE

    @property
    def dense(self) -> bool:
        """The embedding legs, and the MaxSim rerank, which uses the same model."""
        return self is not Mode.LEXICAL


@dataclass
class Hit:
    """A ranked passage: its number, fused score, best sentence, and collapsed duplicates."""

    passage: int
    score: float
    sentence: int
    duplicates: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Match:
    """How closely a passage and its best sentence match the question, on absolute scales.

    Unlike the fused `Hit.score`, which ranks the candidates of one question against each
    other, these mean the same for every question: cosines of the question's embedding with
    the passage's (read with its title) and the sentence's, and the MaxSim (see `maxsim`) of
    the question's word pieces in each.
    """

    passage_cosine: float
    sentence_cosine: float
    passage_maxsim: float
    sentence_maxsim: float


@dataclass
class _Candidates:
    """The candidate passages, their sentences, and every leg's score for both."""

    passages: np.ndarray
    sentences: np.ndarray  # sentence numbers, grouped by passage
    owner: np.ndarray  # for each of `sentences`, its passage's position in `passages`
    groups: np.ndarray  # where each passage's sentences begin in `sentences`
    passage_legs: list[np.ndarray]
    sentence_legs: list[np.ndarray]
    # The candidates' passage and sentence vectors, when the dense legs fetched them.
    passage_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None

    def best_per_passage(self, scores: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(scores, self.groups)


def search(
    index: StoredIndex,
    question: str,
    query: np.ndarray | None,
    pieces: np.ndarray | None,
    k: int,
    mode: Mode = Mode.HYBRID,
    allowed: np.ndarray | None = None,
) -> list[Hit]:
    """The best `k` distinct passages for a question, best first.

    Args:
        index: the loaded index.
        question: the question's text (for BM25).
        query: its unit-length embedding, shape (1, dimension); None in lexical mode.
        pieces: its content word pieces' unit vectors (for MaxSim), shape (m, dimension);
            None in lexical mode.
        k: how many distinct passages.
        mode: which legs take part.
        allowed: a boolean mask over passages, or None for all.
    """
    found = _score_candidates(index, question, query, mode, allowed)
    if found is None:
        return []
    # The five legs: BM25 and dense of the passage, then the best sentence's by each
    # sentence leg. Legs that are off are all zeros, and z-score to zeros.
    passage_legs = found.passage_legs + [found.best_per_passage(s) for s in found.sentence_legs]
    scores = fuse(passage_legs, [1.0] * 5)
    sentence_scores = fuse(found.sentence_legs, [1.0] * 3)
    order = np.argsort(-scores, kind="stable")
    if mode.dense and len(pieces) and RERANK:
        order, scores, sentence_scores = _rerank(
            index, found, pieces, order, scores, sentence_scores
        )
    # Each passage's best sentence: within its run of sentences, the highest score (the
    # first of equals), found by one sort on (passage, -score).
    best = np.lexsort((-sentence_scores, found.owner))[found.groups]  # rows of found.sentences
    sentences = found.sentences[best].tolist()
    hits = [Hit(int(found.passages[i]), float(scores[i]), sentences[i]) for i in order]
    if found.passage_vectors is None:
        passage_vectors = _reconstruct(index.vectors, found.passages[order])
        sentence_vectors = _reconstruct(index.sentence_vectors, found.sentences[best[order]])
    else:
        passage_vectors = found.passage_vectors[order]
        sentence_vectors = found.sentence_vectors[best[order]]
    return _collapse_duplicates(hits, k, passage_vectors, sentence_vectors)


def match(index: StoredIndex, hit: Hit, query: np.ndarray, pieces: np.ndarray) -> Match:
    """The raw similarities of `hit`'s passage and best sentence with the question.

    Args:
        index: the loaded index.
        hit: a hit that `search` returned.
        query: the question's unit-length embedding, shape (1, dimension).
        pieces: its content word pieces' unit vectors, shape (m, dimension).
    """
    passage = np.array([hit.passage], dtype=np.int64)
    sentence = index.sentences[[hit.sentence]]
    passage_maxsim, sentence_maxsim = maxsim(pieces, index.tokens, passage, sentence)
    return Match(
        passage_cosine=float(_reconstruct(index.vectors, passage)[0] @ query[0]),
        sentence_cosine=float(
            _reconstruct(index.sentence_vectors, np.array([hit.sentence]))[0] @ query[0]
        ),
        passage_maxsim=float(passage_maxsim[0]),
        sentence_maxsim=float(sentence_maxsim[0]),
    )


def _score_candidates(
    index: StoredIndex,
    question: str,
    query: np.ndarray | None,
    mode: Mode,
    allowed: np.ndarray | None,
) -> _Candidates | None:
    """Gather each leg's top candidates and score all of them on every leg that is on.

    Passage legs: BM25, dense. Sentence legs: BM25 (titled), dense, dense titled. A leg
    that is off scores zero everywhere, which `fuse` ignores.
    """
    bm25_passages = bm25_sentences = None
    candidates: set[int] = set()
    if mode.dense:
        candidates |= _dense_candidates(index, query, allowed)
    if mode.lexical:
        bm25_passages = index.lexical.scores(question)
        bm25_sentences = index.lexical_sentences.scores(question)
        candidates |= _top(bm25_passages, allowed)
        candidates |= _top(_best_per_passage(index, bm25_sentences), allowed)
    if not candidates:
        return None
    passages = np.array(sorted(candidates))
    sentences, owner = _sentences_of(index, passages)
    passage_vectors = sentence_vectors = None
    if mode.dense:
        passage_vectors = _reconstruct(index.vectors, passages)
        sentence_vectors = _reconstruct(index.sentence_vectors, sentences)
        dense_passage = passage_vectors @ query[0]
        dense_sentence = sentence_vectors @ query[0]
        titled_sentence = _reconstruct(index.titled_sentence_vectors, sentences) @ query[0]
    else:
        dense_passage = np.zeros(len(passages))
        dense_sentence = titled_sentence = np.zeros(len(sentences))
    if mode.lexical:
        lexical_passage, lexical_sentence = bm25_passages[passages], bm25_sentences[sentences]
    else:
        lexical_passage, lexical_sentence = np.zeros(len(passages)), np.zeros(len(sentences))
    return _Candidates(
        passages=passages,
        sentences=sentences,
        owner=owner,
        groups=np.r_[0, np.flatnonzero(np.diff(owner)) + 1],
        passage_legs=[lexical_passage, dense_passage],
        sentence_legs=[lexical_sentence, dense_sentence, titled_sentence],
        passage_vectors=passage_vectors,
        sentence_vectors=sentence_vectors,
    )


def _rerank(
    index: StoredIndex,
    found: _Candidates,
    pieces: np.ndarray,
    order: np.ndarray,
    scores: np.ndarray,
    sentence_scores: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rerank the best RERANK candidates by z(fused) + z(MaxSim) + z(best sentence MaxSim).

    Their sentences are chosen anew by the sentence legs plus sentence MaxSim. The rest keep
    their order below the reranked ones.

    Returns:
        The new order, the passage scores and the sentence scores.
    """
    top = np.sort(order[:RERANK])  # the reranked candidates, in candidate order
    rows = np.flatnonzero(np.isin(found.owner, top))  # their sentences, grouped likewise
    passage_maxsim, sentence_maxsim = maxsim(
        pieces, index.tokens, found.passages[top], index.sentences[found.sentences[rows]]
    )
    starts = np.r_[0, np.flatnonzero(np.diff(found.owner[rows])) + 1]
    reranked = (
        zscore(scores[top])
        + zscore(passage_maxsim)
        + zscore(np.maximum.reduceat(sentence_maxsim, starts))
    )
    scores = scores.copy()
    # Below every reranked passage, the rest keep the fused order.
    rest = order[RERANK:]
    scores[rest] = reranked.min() - 1.0 - (scores[top].min() - scores[rest])
    scores[top] = reranked
    sentence_scores = sentence_scores.copy()
    sentence_scores[rows] = fuse(
        [leg[rows] for leg in found.sentence_legs] + [sentence_maxsim], [1.0] * 4
    )
    return np.argsort(-scores, kind="stable"), scores, sentence_scores


def _dense_candidates(index: StoredIndex, query: np.ndarray, allowed: np.ndarray | None) -> set:
    ids = sentence_ids = None
    if allowed is not None:
        ids = np.flatnonzero(allowed).astype(np.int64)
        sentence_ids = np.flatnonzero(allowed[index.sentences[:, 0]]).astype(np.int64)
    depth = min(CANDIDATES, index.vectors.ntotal)
    _, passages = vectors.search(index.vectors, query, depth, ids)
    found = set(passages[0][passages[0] >= 0].tolist())
    depth = min(CANDIDATES, index.sentence_vectors.ntotal)
    for sentence_vectors in (index.sentence_vectors, index.titled_sentence_vectors):
        _, sentences = vectors.search(sentence_vectors, query, depth, sentence_ids)
        found |= set(index.sentences[sentences[0][sentences[0] >= 0], 0].tolist())
    return found


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
    counts = ends - starts
    owner = np.repeat(np.arange(len(passages)), counts)
    # Within each passage's run, count up from its first sentence.
    runs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts[owner] + runs, owner


def _reconstruct(stored, ids: np.ndarray) -> np.ndarray:
    return stored.reconstruct_batch(ids.astype(np.int64))


def _collapse_duplicates(
    hits: list[Hit], k: int, passage_vectors: np.ndarray, sentence_vectors: np.ndarray
) -> list[Hit]:
    """Fold each hit that repeats a better one (same passage text or same best sentence);
    the vectors are the hits' passages' and best sentences', in the hits' order."""
    kept = []
    for row, repeats in collapse(passage_vectors, sentence_vectors, k):
        hits[row].duplicates.extend(hits[r].passage for r in repeats)
        kept.append(hits[row])
    return kept
