"""The embedding step of a build, as one seam: texts in, vectors and word pieces out.

`embed_locally` runs the model in this process; `RayEmbedding` runs the same model in Ray
Data workers on a cluster (`qa index --ray`), importing Ray only when it embeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Protocol

import numpy as np

from qa.cluster import connected, quiet, require_ray
from qa.embed import Embedder
from qa.index.rows import Texts


@dataclass(frozen=True)
class Embedded:
    """The vectors of a `Texts`, row for row.

    Attributes:
        passage_vectors: unit-length float32, one row per passage.
        pieces: per passage, its content word pieces' unit-length vectors.
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

    def __call__(self, embedder: Embedder, job: Texts, progress: bool) -> Embedded:
        """Embed `job` with `embedder`'s model (or the same model elsewhere)."""
        ...


def embed_locally(embedder: Embedder, job: Texts, progress: bool = False) -> Embedded:
    """Embed `job` in this process: the passages with their word pieces, then all sentences."""
    passage_vectors, pieces, offsets = embedder.encode_with_tokens(job.passages, progress)
    vectors = embedder.encode(job.sentences + job.titled_sentences, progress=progress)
    sentence_vectors, titled_vectors = np.split(vectors, [len(job.sentences)])
    return Embedded(passage_vectors, pieces, offsets, sentence_vectors, titled_vectors)


_PASSAGE, _SENTENCE, _TITLED = 0, 1, 2
_BATCH = 64  # texts per batch a worker embeds, as `Embedder.encode_with_tokens` batches
_BLOCKS_PER_WORKER = 4  # enough blocks that no worker idles while another has a queue


class RayEmbedding:
    """A build's embedding step on a Ray cluster: Ray Data `map_batches` over the texts,
    each worker holding the build's model (on a GPU when the cluster has them).

    Args:
        address: the cluster's address; "" starts a local Ray for the build.

    Raises:
        ImportError: Ray is not installed; the message says what to install.
    """

    def __init__(self, address: str) -> None:
        require_ray()
        self.address = address

    def __call__(self, embedder: Embedder, job: Texts, progress: bool = False) -> Embedded:
        """Embed `job` on the cluster with the model `embedder` holds; rows come back in
        `job`'s order."""
        from tqdm.auto import tqdm

        if not _count(job):  # documents without passages: nothing to send
            return embed_locally(embedder, job, progress)
        vectors = np.empty((_count(job), embedder.dimension), dtype=np.float32)
        pieces: list[np.ndarray] = [np.empty(0)] * len(job.passages)
        offsets: list[np.ndarray] = [np.empty(0)] * len(job.passages)
        with connected(self.address) as ray, quiet("ray.data"):
            dataset = _dataset(ray, job, embedder, _workers(ray))
            with tqdm(
                total=_count(job), unit="text", desc="Embedding", disable=not progress
            ) as bar:
                for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                    rows = batch["row"]
                    vectors[rows] = batch["vector"]
                    for row, piece_bytes, offset_bytes in zip(
                        rows, batch["pieces"], batch["offsets"]
                    ):
                        if row < len(job.passages):
                            pieces[row] = np.frombuffer(piece_bytes, np.float16).reshape(
                                -1, embedder.dimension
                            )
                            offsets[row] = np.frombuffer(offset_bytes, np.int32).copy()
                    bar.update(len(rows))
        first, second = len(job.passages), len(job.passages) + len(job.sentences)
        return Embedded(vectors[:first], pieces, offsets, vectors[first:second], vectors[second:])


def _count(job: Texts) -> int:
    return len(job.passages) + len(job.sentences) + len(job.titled_sentences)


def _workers(ray: ModuleType) -> tuple[int, float]:
    """How many embedding workers to run, and GPUs for each: one per GPU when the cluster
    has GPUs, else one per CPU."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if gpus:
        return gpus, 1.0
    return max(1, int(resources.get("CPU", 1))), 0.0


def _dataset(ray: ModuleType, job: Texts, embedder: Embedder, workers: tuple[int, float]):
    """The texts as a Ray dataset, mapped through `_Worker`s; each row keeps its position."""
    count, gpus = workers
    texts = job.passages + job.sentences + job.titled_sentences
    kinds = [_PASSAGE] * len(job.passages) + [_SENTENCE] * len(job.sentences)
    kinds += [_TITLED] * len(job.titled_sentences)
    # Passages first, then sentences, each longest first: batches hold texts of like length.
    order = sorted(range(len(texts)), key=lambda i: (kinds[i] != _PASSAGE, -len(texts[i])))
    items = [{"row": i, "kind": kinds[i], "text": texts[i]} for i in order]
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the build draws its own bar
    context.print_on_execution_start = False
    # At least one block per worker, so small jobs are spread too; more for larger jobs.
    blocks = min(max(count, len(items) // _BATCH + 1), count * _BLOCKS_PER_WORKER)
    blocks = max(1, min(blocks, len(items)))
    return ray.data.from_items(items, override_num_blocks=blocks).map_batches(
        _worker(embedder.name, "cuda" if gpus else "cpu"),
        batch_size=_BATCH,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=count),
        num_cpus=0 if gpus else 1,
        num_gpus=gpus,
    )


def _worker(model: str, device: str) -> type[_Worker]:
    """`_Worker` for this model and device (class attributes: no constructor arguments)."""
    return type("_Worker", (_Worker,), {"model": model, "device": device})


class _Worker:
    """One Ray worker's model; embeds a batch of rows of any kind."""

    model: str
    device: str

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(1)  # a worker holds one CPU of the cluster
        self.embedder = Embedder(self.model, self.device)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(text) for text in batch["text"]]
        is_passage = batch["kind"] == _PASSAGE
        vectors = np.empty((len(texts), self.embedder.dimension), dtype=np.float32)
        pieces = np.full(len(texts), b"", dtype=object)
        offsets = np.full(len(texts), b"", dtype=object)
        passages = np.flatnonzero(is_passage)
        if len(passages):
            found = self.embedder.encode_with_tokens([texts[i] for i in passages])
            vectors[passages] = found[0]
            for i, piece_rows, piece_offsets in zip(passages, found[1], found[2]):
                pieces[i] = piece_rows.astype(np.float16).tobytes()
                offsets[i] = piece_offsets.astype(np.int32).tobytes()
        sentences = np.flatnonzero(~is_passage)
        if len(sentences):
            vectors[sentences] = self.embedder.encode([texts[i] for i in sentences])
        return {"row": batch["row"], "vector": vectors, "pieces": pieces, "offsets": offsets}
