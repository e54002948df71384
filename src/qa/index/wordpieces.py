"""The word pieces of every passage: the model's contextual token vectors, for MaxSim.

Kept from the pass that embeds each passage (`qa.embed.Embedder.encode_with_tokens`), stored
as float16 unit vectors and memory-mapped. How they are encoded on disk is this module's
business alone: readers ask for the pieces of some passages, as float32, with `gather`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

_FILES = ("tokens.npy", "tokens-first.npy", "tokens-offsets.npy")


@dataclass
class WordPieces:
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
    ) -> WordPieces:
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
    def load(cls, path: Path) -> WordPieces:
        """Read the store, memory-mapping the vectors (they are only read a few rows at a time)."""
        vectors, first, offsets = (path / name for name in _FILES)
        return cls(np.load(vectors, mmap_mode="r"), np.load(first), np.load(offsets))

    def save(self, path: Path) -> None:
        for name, array in zip(_FILES, (self.vectors, self.first, self.offsets)):
            np.save(path / name, array)

    @classmethod
    def join(cls, stores: list[WordPieces], dimension: int) -> WordPieces:
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

    def passages(self, first: int, last: int) -> WordPieces:
        """Passages `first` to `last` (exclusive) as a store of their own."""
        begin, end = self.first[first], self.first[last]
        return WordPieces(
            np.asarray(self.vectors[begin:end]),
            self.first[first : last + 1] - begin,
            self.offsets[begin:end].copy(),
        )

    def __len__(self) -> int:
        return len(self.first) - 1

    def gather(self, passages: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pieces of these passages, one passage after another.

        Returns:
            Their unit vectors as float32, shape (pieces, dimension); each piece's character
            offset in its document (-1 for a piece of the heading); and each passage's count.
        """
        first, last = self.first[passages], self.first[passages + 1]
        # Each passage's pieces are one slice of the map, read as such.
        vectors = np.concatenate(
            [np.zeros((0, self.vectors.shape[1]), dtype=np.float16)]
            + [self.vectors[a:b] for a, b in zip(first, last)]
        )
        offsets = np.concatenate(
            [np.zeros(0, dtype=np.int32)] + [self.offsets[a:b] for a, b in zip(first, last)]
        )
        return vectors.astype(np.float32), offsets, last - first
