"""A question as the search reads it, and how to search: both values made once per use."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qa.index.lexical import terms
from qa.settings import Choice

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

    @property
    def legs(self) -> tuple[Leg, ...]:
        """The legs this mode runs."""
        return tuple(leg for leg in Leg if (self.dense if leg.dense else self.lexical))


class Leg(Choice):
    """One way of scoring a passage. A sentence leg scores it by its best sentence."""

    BM25_PASSAGE = "bm25-passage"  # BM25 over the passage with its heading
    DENSE_PASSAGE = "dense-passage"  # cosine with the passage read with its heading
    BM25_SENTENCE = "bm25-sentence"  # BM25 over the sentence with the heading
    DENSE_SENTENCE = "dense-sentence"  # cosine with the sentence alone
    DENSE_TITLED_SENTENCE = "dense-titled-sentence"  # cosine with the sentence and heading

    @classmethod
    def label(cls) -> str:
        return "retrieval leg"

    @property
    def dense(self) -> bool:
        return self.value.startswith("dense")


@dataclass(frozen=True)
class SearchParams:
    """How to search.

    Attributes:
        mode: which retrievers take part (`Mode`).
        candidates: how many candidates each leg nominates.
        rerank: how many of the fused best are reranked by MaxSim (0: no rerank; only
            when the mode embeds).
        legs: the legs that score candidates, by name; empty means every leg of the mode.
    """

    mode: Mode = Mode.HYBRID
    candidates: int = CANDIDATES
    rerank: int = RERANK
    legs: tuple[Leg, ...] = field(default=())

    def __post_init__(self) -> None:
        # Accept names as given by a command line or a caller, keep the enums.
        object.__setattr__(self, "mode", Mode.from_str(self.mode))
        legs = tuple(Leg.from_str(leg) for leg in self.legs) or self.mode.legs
        foreign = [leg.value for leg in legs if leg not in self.mode.legs]
        if foreign:
            raise ValueError(f"the {self.mode.value} mode has no leg {', '.join(foreign)}")
        object.__setattr__(self, "legs", legs)
        if self.candidates < 1 or self.rerank < 0:
            raise ValueError("candidates must be at least 1 and rerank at least 0")

    def runs(self, leg: Leg) -> bool:
        return leg in self.legs


@dataclass(frozen=True)
class Query:
    """A question, read once: its text, its BM25 terms, and (when the search embeds) its
    vector and its content word pieces' vectors.

    Attributes:
        text: the question as asked.
        terms: its stemmed content terms, stopwords left out (for BM25).
        vector: its unit-length embedding, shape (1, dimension); None when not embedded.
        pieces: its content word pieces' unit vectors (for MaxSim), shape (m, dimension);
            None when not embedded.
    """

    text: str
    terms: tuple[str, ...]
    vector: np.ndarray | None = None
    pieces: np.ndarray | None = None

    @classmethod
    def read(cls, text: str, embedder=None) -> Query:
        """The question `text`, embedded by `embedder` (`qa.embed.Embedder`) when given."""
        vector = pieces = None
        if embedder is not None:
            vector, pieces = embedder.encode_question(text)
        return cls(text, terms(text), vector, pieces)
