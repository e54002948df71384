"""Synthetic corpora for the speed benchmarks, grown from SQuAD v1.1 dev.

- `squad_sentences()`: the sentences of the 2,067 SQuAD dev paragraphs, and its questions.
- `base_embeddings()`: real all-MiniLM-L6-v2 embeddings of those sentences and of 2,000
  questions, computed once and cached as .npy files.
- `clustered_vectors(n)`: n unit vectors, each a random mix of two real sentence embeddings
  plus Gaussian noise. They cluster like real text (topics, near-paraphrases), unlike
  uniform random vectors, the unrealistic worst case for approximate search.
- `synthetic_texts(n)`: n passages of 3 to 6 SQuAD sentences drawn at random, so the word
  statistics (Zipf vocabulary, posting-list lengths) are those of real English prose.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SQUAD = Path(__file__).resolve().parents[2] / "shared" / "bench" / "squad-dev-v1.1.json"
CACHE = Path(os.environ.get("QA_BENCH_CACHE", Path.home() / ".cache" / "qa-bench"))


def squad_paragraphs(path: Path = SQUAD) -> list[tuple[str, str]]:
    """(title, paragraph) for every SQuAD dev paragraph."""
    data = json.loads(path.read_text())["data"]
    return [
        (article["title"].replace("_", " "), paragraph["context"])
        for article in data
        for paragraph in article["paragraphs"]
    ]


def squad_sentences(path: Path = SQUAD) -> tuple[list[str], list[str]]:
    """The sentences of every SQuAD dev paragraph, and every question."""
    from qa.ingest.chunking import split_sentences

    data = json.loads(path.read_text())["data"]
    sentences, questions = [], []
    for article in data:
        for paragraph in article["paragraphs"]:
            text = paragraph["context"]
            sentences += [text[a:b] for a, b in split_sentences(text)]
            questions += [qa["question"] for qa in paragraph["qas"]]
    return sentences, questions


def base_embeddings(questions: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Real embeddings of the SQuAD sentences and of the first `questions` questions."""
    CACHE.mkdir(parents=True, exist_ok=True)
    files = CACHE / "sentences.npy", CACHE / f"questions-{questions}.npy"
    if not all(f.exists() for f in files):
        from qa.embed import load_embedder

        sentences, asked = squad_sentences()
        embedder = load_embedder()
        np.save(files[0], embedder.encode(sentences, progress=True))
        np.save(files[1], embedder.encode(asked[:questions], progress=True))
    return np.load(files[0]), np.load(files[1])


def clustered_vectors(n: int, seed: int = 0, noise: float = 0.5) -> np.ndarray:
    """n unit vectors: a random mix of two real sentence embeddings plus Gaussian noise.

    With `noise` 0.5 a vector's cosine to its main sentence is about 0.8, the similarity of
    two sentences about the same thing.
    """
    base, _ = base_embeddings()
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    step = 100_000
    for begin in range(0, n, step):
        m = min(step, n - begin)
        a = base[rng.integers(len(base), size=m)]
        b = base[rng.integers(len(base), size=m)]
        mix = rng.uniform(0.0, 0.5, size=(m, 1)).astype(np.float32)
        noisy = (1 - mix) * a + mix * b
        noisy += rng.standard_normal(noisy.shape, dtype=np.float32) * (
            noise / np.sqrt(base.shape[1])
        )
        out[begin : begin + m] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    return out


def synthetic_texts(n: int, seed: int = 0) -> list[str]:
    """n passages of 3 to 6 random SQuAD sentences each."""
    sentences, _ = squad_sentences()
    rng = np.random.default_rng(seed)
    picks = rng.integers(len(sentences), size=(n, 6))
    lengths = rng.integers(3, 7, size=n)
    return [" ".join(sentences[i] for i in row[:k]) for row, k in zip(picks, lengths)]


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())
