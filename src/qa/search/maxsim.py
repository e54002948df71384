"""Late interaction: scoring a passage by how well its word pieces match the question's.

MaxSim (Khattab and Zaharia, "ColBERT: Efficient and effective passage search via
contextualized late interaction over BERT", SIGIR 2020): each content word piece of the
question takes its highest cosine with any word piece of the passage, and the passage scores
the mean of those maxima. The word pieces are the embedding model's own contextual token
vectors, kept from the pass that embeds each passage, so no second model is needed.
"""

from __future__ import annotations

import numpy as np

from qa.index.wordpieces import WordPieces


def maxsim(
    question: np.ndarray,
    store: WordPieces,
    passages: np.ndarray,
    sentences: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """MaxSim of each passage, and of each of their sentences, with the question's pieces.

    Args:
        question: unit vectors of the question's content word pieces, shape (m, dimension).
        store: the passages' word pieces.
        passages: passage numbers to score.
        sentences: rows (passage, start, end) of the sentences to score; each belongs to one
            of `passages`, and its pieces are those whose offset lies in [start, end).

    Returns:
        One score per passage and one per sentence, in the order given; zeros when the
        question has no content pieces.
    """
    passage_scores = np.zeros(len(passages))
    sentence_scores = np.zeros(len(sentences))
    if len(question) == 0 or len(passages) == 0:
        return passage_scores, sentence_scores
    pieces, offsets, counts = store.gather(passages)
    if counts.sum() == 0:
        return passage_scores, sentence_scores
    # One product for all pieces of all passages: (question pieces) x (passage pieces),
    # computed as its transpose, which BLAS runs about twice as fast for a few question rows.
    similarity = (pieces @ question.T).T
    starts = np.cumsum(counts) - counts  # where each passage's pieces begin
    has = counts > 0
    passage_scores[has] = np.maximum.reduceat(similarity, starts[has], axis=1).mean(axis=0)
    # Each piece's sentence: order pieces and sentences by (passage position, offset).
    owner = np.repeat(np.arange(len(passages)), counts)
    span = int(max(offsets.max(), sentences[:, 2].max() if len(sentences) else 0)) + 1
    piece_keys = owner * span + offsets
    by_number = np.argsort(passages, kind="stable")  # each sentence's passage's position
    sentence_owner = by_number[np.searchsorted(passages, sentences[:, 0], sorter=by_number)]
    sentence_starts = sentence_owner * span + sentences[:, 1]
    sentence_ends = sentence_owner * span + sentences[:, 2]
    order = np.argsort(sentence_starts, kind="stable")
    found = np.searchsorted(sentence_starts[order], piece_keys, side="right") - 1
    inside = (found >= 0) & (offsets >= 0)
    inside[inside] &= piece_keys[inside] < sentence_ends[order][found[inside]]
    if inside.any():
        which = order[found[inside]]  # non-decreasing within the run of pieces inside
        breaks = run_starts(which)
        maxima = np.maximum.reduceat(similarity[:, inside], breaks, axis=1).mean(axis=0)
        sentence_scores[which[breaks]] = maxima
    return passage_scores, sentence_scores


def run_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values begins in `values` (0 first, when there are any)."""
    return np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
