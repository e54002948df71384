"""The word pieces of every passage: the model's contextual token vectors, for MaxSim.

Kept from the pass that embeds each passage (`qa.embed.Embedder.encode_passages`): only
the content pieces (the question side reads only those too), each stored as one bit per
dimension, its sign, so 48 bytes for a 384-dimensional piece instead of 768 as float16.
MaxSim is asymmetric: the question's pieces stay float32, and a passage's piece is read
back as its sign vector scaled to unit length (a float query against codes, the asymmetric
distance computation of Jégou, Douze and Schmid, "Product quantization for nearest neighbor
search", TPAMI 2011). Measured on SQuAD dev (BENCHMARKS.md, "A lean index"), the sign codes
rank within 0.005 of the float16 pieces of every word.
How they are encoded on disk is this module's business alone: readers ask for the pieces of
some passages, as float32, with `gather`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

_FILES = ("pieces.npy", "pieces-first.npy", "pieces-offsets.npy")


@dataclass
class WordPieces:
    """The content word pieces of every passage, as sign codes.

    Passage `p`'s pieces are rows `first[p]` to `first[p + 1]` of `codes` (uint8, the signs
    of one piece's `dimension` components packed eight to a byte); `offsets` gives each
    piece's character offset in its document, or -1 for a piece of the title that was read
    with the passage.
    """

    codes: np.ndarray
    first: np.ndarray
    offsets: np.ndarray
    dimension: int

    @classmethod
    def from_pieces(
        cls, pieces: list[np.ndarray], offsets: list[np.ndarray], dimension: int
    ) -> WordPieces:
        """Encode per-passage piece vectors (float, shape (n, dimension) each)."""
        counts = np.array([len(p) for p in pieces], dtype=np.int64)
        vectors = (
            np.concatenate([np.zeros((0, dimension), dtype=np.float32), *pieces])
            if pieces
            else np.zeros((0, dimension), dtype=np.float32)
        )
        return cls(
            codes=_encode(vectors),
            first=np.r_[0, np.cumsum(counts)].astype(np.int64),
            offsets=np.concatenate([np.zeros(0, dtype=np.int32), *offsets]).astype(np.int32),
            dimension=dimension,
        )

    @classmethod
    def load(cls, path: Path, dimension: int) -> WordPieces:
        """Read the store, memory-mapping the codes (they are only read a few rows at a time).

        Raises:
            ValueError: the codes do not hold `dimension` signs each.
        """
        codes, first, offsets = (path / name for name in _FILES)
        store = cls(np.load(codes, mmap_mode="r"), np.load(first), np.load(offsets), dimension)
        if store.codes.ndim != 2 or store.codes.shape[1] != _width(dimension):
            raise ValueError(
                f"pieces.npy has the shape {store.codes.shape}, not (n, {_width(dimension)})"
            )
        return store

    def save(self, path: Path) -> None:
        for name, array in zip(_FILES, (self.codes, self.first, self.offsets)):
            np.save(path / name, array)

    @classmethod
    def join(cls, stores: list[WordPieces], dimension: int) -> WordPieces:
        """The stores' passages one after another."""
        bases = np.cumsum([0] + [len(s.codes) for s in stores])
        return cls(
            codes=np.concatenate(
                [np.zeros((0, _width(dimension)), dtype=np.uint8)] + [s.codes for s in stores]
            ),
            first=np.concatenate(
                [s.first[:-1] + base for s, base in zip(stores, bases)] + [bases[-1:]]
            ),
            offsets=np.concatenate([np.zeros(0, dtype=np.int32)] + [s.offsets for s in stores]),
            dimension=dimension,
        )

    def passages(self, first: int, last: int) -> WordPieces:
        """Passages `first` to `last` (exclusive) as a store of their own."""
        begin, end = self.first[first], self.first[last]
        return WordPieces(
            np.asarray(self.codes[begin:end]),
            self.first[first : last + 1] - begin,
            self.offsets[begin:end].copy(),
            self.dimension,
        )

    def __len__(self) -> int:
        return len(self.first) - 1

    @property
    def pieces(self) -> int:
        """How many pieces all passages hold."""
        return len(self.codes)

    def gather(self, passages: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pieces of these passages, one passage after another.

        Returns:
            Their decoded unit vectors as float32, shape (pieces, dimension); each piece's
            character offset in its document (-1 for a piece of the heading); and each
            passage's count.
        """
        first, last = self.first[passages], self.first[passages + 1]
        # Each passage's pieces are one slice of the map: its rows, by one fancy index.
        counts = last - first
        rows = np.repeat(first - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
        return _decode(self.codes[rows], self.dimension), self.offsets[rows], counts


def _width(dimension: int) -> int:
    """Bytes per piece: one bit per dimension."""
    return (dimension + 7) // 8


def _encode(vectors: np.ndarray) -> np.ndarray:
    """Each row's signs, packed eight to a byte (a zero counts as positive)."""
    return np.packbits(np.asarray(vectors) >= 0, axis=1)


def _decode(codes: np.ndarray, dimension: int) -> np.ndarray:
    """Sign codes as unit vectors: each component ±1/√dimension.

    Each byte is looked up whole in a table of its eight components, so decoding is one
    gather rather than unpacking bits and converting them one by one. `np.take` copies
    whole table rows; indexing `table[codes]` gives the same values about six times slower.
    """
    table = _byte_table(dimension)
    return np.take(table, codes, axis=0).reshape(len(codes), -1)[:, :dimension]


@lru_cache(maxsize=4)
def _byte_table(dimension: int) -> np.ndarray:
    """The eight components (±1/√dimension, most significant bit first) of every byte."""
    bits = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float32)
    return (2 * bits - 1) / np.float32(np.sqrt(dimension))
