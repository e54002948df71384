"""Late interaction: scoring a passage by how well its word pieces match the question's.

MaxSim (Khattab and Zaharia, "ColBERT: Efficient and effective passage search via
contextualized late interaction over BERT", SIGIR 2020): each content word piece of the
question takes its highest cosine with any word piece of the passage, and the passage scores
the mean of those maxima. The word pieces are the embedding model's own contextual token
vectors, kept from the pass that embeds each passage, so no second model is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

_FILES = ("tokens.npy", "tokens-first.npy", "tokens-offsets.npy")


@dataclass
class TokenStore:
    """The word-piece vectors of every passage.

    Passage `p`'s pieces are rows `first[p]` to `first[p + 1]` of `vectors` (float16, unit
    length); `offsets` gives each piece's character offset in its document, or -1 for a
    piece of the title that was read with the passage.
    """

    vectors: np.ndarray
    first: np.ndarray
    offsets: np.ndarray

    @classmethod
    def from_pieces(
        cls, pieces: list[np.ndarray], offsets: list[np.ndarray], dimension: int
    ) -> TokenStore:
        counts = np.array([len(p) for p in pieces], dtype=np.int64)
        return cls(
            vectors=np.concatenate(pieces).astype(np.float16)
            if pieces
            else np.zeros((0, dimension), dtype=np.float16),
            first=np.r_[0, np.cumsum(counts)].astype(np.int64),
            offsets=np.concatenate(offsets).astype(np.int32)
            if offsets
            else np.zeros(0, dtype=np.int32),
        )

    @classmethod
    def load(cls, path: Path) -> TokenStore:
        """Read the store, memory-mapping the vectors (they are only read a few rows at a time)."""
        vectors, first, offsets = (path / name for name in _FILES)
        return cls(np.load(vectors, mmap_mode="r"), np.load(first), np.load(offsets))

    def save(self, path: Path) -> None:
        for name, array in zip(_FILES, (self.vectors, self.first, self.offsets)):
            np.save(path / name, array)

    @classmethod
    def join(cls, stores: list[TokenStore], dimension: int) -> TokenStore:
        """The stores' passages one after another."""
        bases = np.cumsum([0] + [len(s.vectors) for s in stores])
        return cls(
            vectors=np.concatenate(
                [np.zeros((0, dimension), dtype=np.float16)] + [s.vectors for s in stores]
            ),
            first=np.concatenate(
                [s.first[:-1] + base for s, base in zip(stores, bases)] + [bases[-1:]]
            ),
            offsets=np.concatenate([np.zeros(0, dtype=np.int32)] + [s.offsets for s in stores]),
        )

    def passages(self, first: int, last: int) -> TokenStore:
        """Passages `first` to `last` (exclusive) as a store of their own."""
        begin, end = self.first[first], self.first[last]
        return TokenStore(
            np.asarray(self.vectors[begin:end]),
            self.first[first : last + 1] - begin,
            self.offsets[begin:end].copy(),
        )

    def __len__(self) -> int:
        return len(self.first) - 1


def maxsim(
    question: np.ndarray,
    store: TokenStore,
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
    first, last = store.first[passages], store.first[passages + 1]
    counts = last - first
    if counts.sum() == 0:
        return passage_scores, sentence_scores
    # One product for all pieces of all passages: (question pieces) x (passage pieces). Each
    # passage's pieces are one slice of the map, read as such.
    pieces = np.concatenate([store.vectors[a:b] for a, b in zip(first, last)])
    offsets = np.concatenate([store.offsets[a:b] for a, b in zip(first, last)])
    similarity = question @ pieces.astype(np.float32).T
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    has = counts > 0
    passage_scores[has] = np.maximum.reduceat(similarity, starts[has], axis=1).mean(axis=0)
    # Each piece's sentence: order pieces and sentences by (passage position, offset).
    position = {int(p): n for n, p in enumerate(passages.tolist())}
    owner = np.repeat(np.arange(len(passages)), counts)
    span = int(max(offsets.max(), sentences[:, 2].max() if len(sentences) else 0)) + 1
    piece_keys = owner * span + offsets
    sentence_owner = np.array([position[int(p)] for p in sentences[:, 0]], dtype=np.int64)
    sentence_starts = sentence_owner * span + sentences[:, 1]
    sentence_ends = sentence_owner * span + sentences[:, 2]
    order = np.argsort(sentence_starts, kind="stable")
    found = np.searchsorted(sentence_starts[order], piece_keys, side="right") - 1
    inside = (found >= 0) & (offsets >= 0)
    inside[inside] &= piece_keys[inside] < sentence_ends[order][found[inside]]
    if inside.any():
        which = order[found[inside]]  # non-decreasing within the run of pieces inside
        breaks = np.r_[0, np.flatnonzero(np.diff(which)) + 1]
        maxima = np.maximum.reduceat(similarity[:, inside], breaks, axis=1).mean(axis=0)
        sentence_scores[which[breaks]] = maxima
    return passage_scores, sentence_scores
