"""The embedding step of a build, as one seam: texts in, vectors and word pieces out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qa.embed import Embedder


@dataclass(frozen=True)
class EmbedJob:
    """What a build embeds for its new and changed documents.

    Attributes:
        passages: each passage read with its document's heading (word pieces are kept).
        sentences: each sentence alone.
        titled: each sentence read with its document's heading.
    """

    passages: list[str]
    sentences: list[str]
    titled: list[str]

    def __len__(self) -> int:
        return len(self.passages) + len(self.sentences) + len(self.titled)


@dataclass(frozen=True)
class Embedded:
    """The vectors of an `EmbedJob`, row for row.

    Attributes:
        passage_vectors: unit-length float32, one row per passage.
        pieces: per passage, its word pieces' unit-length float16 vectors.
        offsets: per passage, each word piece's character offset in its headed text.
        sentence_vectors, titled_vectors: unit-length float32, one row per sentence.
    """

    passage_vectors: np.ndarray
    pieces: list[np.ndarray]
    offsets: list[np.ndarray]
    sentence_vectors: np.ndarray
    titled_vectors: np.ndarray


class Embedding(Protocol):
    """Where a build's embedding runs: in this process, or on a cluster."""

    def __call__(self, embedder: Embedder, job: EmbedJob, progress: bool) -> Embedded:
        """Embed `job` with `embedder`'s model (or the same model elsewhere)."""
        ...


def embed_locally(embedder: Embedder, job: EmbedJob, progress: bool = False) -> Embedded:
    """Embed `job` in this process: the passages with their word pieces, then all sentences."""
    passage_vectors, pieces, offsets = embedder.encode_with_tokens(job.passages, progress)
    vectors = embedder.encode(job.sentences + job.titled, progress=progress)
    sentence_vectors, titled_vectors = np.split(vectors, [len(job.sentences)])
    return Embedded(passage_vectors, pieces, offsets, sentence_vectors, titled_vectors)
