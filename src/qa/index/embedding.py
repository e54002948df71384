"""The embedding step of a build, as one seam: texts in, vectors and word pieces out.

`embed_locally` runs the model in this process; `RayEmbedding` runs the same model in Ray
Data workers on a cluster (`qa index --ray`), importing Ray only when it embeds.
"""

from __future__ import annotations

from types import ModuleType
from typing import Protocol

import numpy as np

from qa.cluster import connected, quiet, require_ray
from qa.embed import Embedder, PassagePass
from qa.index.rows import Texts


class Embedding(Protocol):
    """Where a build's embedding runs: in this process, or on a cluster."""

    def __call__(self, embedder: Embedder, job: Texts, progress: bool) -> PassagePass:
        """Embed `job` with `embedder`'s model (or the same model elsewhere)."""
        ...


def embed_locally(embedder: Embedder, job: Texts, progress: bool = False) -> PassagePass:
    """Embed `job` in this process: one pass over each passage (`Embedder.encode_passages`)."""
    return embedder.encode_passages(job.passages, job.sentences, job.headings, progress)


_BATCH = 64  # passages per batch a worker embeds, as `Embedder.encode_passages` batches
_BLOCKS_PER_WORKER = 4  # enough blocks that no worker idles while another has a queue


class RayEmbedding:
    """A build's embedding step on a Ray cluster: Ray Data `map_batches` over the passages,
    each worker holding the build's model (on a GPU when the cluster has them).

    Args:
        address: the cluster's address; "" starts a local Ray for the build.

    Raises:
        ImportError: Ray is not installed; the message says what to install.
    """

    def __init__(self, address: str) -> None:
        require_ray()
        self.address = address

    def __call__(self, embedder: Embedder, job: Texts, progress: bool = False) -> PassagePass:
        """Embed `job` on the cluster with the model `embedder` holds; rows come back in
        `job`'s order."""
        from tqdm.auto import tqdm

        if not job.passages:  # documents without passages: nothing to send
            return embed_locally(embedder, job, progress)
        count, dimension = len(job.passages), embedder.dimension
        vectors = np.empty((count, dimension), dtype=np.float32)
        pieces: list[np.ndarray] = [np.empty(0)] * count
        offsets: list[np.ndarray] = [np.empty(0)] * count
        alone: list[np.ndarray] = [np.empty(0)] * count
        titled: list[np.ndarray] = [np.empty(0)] * count
        with connected(self.address) as ray, quiet("ray.data"):
            dataset = _dataset(ray, job, embedder, _workers(ray))
            with tqdm(total=count, unit="text", desc="Embedding", disable=not progress) as bar:
                for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                    rows = batch["row"]
                    vectors[rows] = batch["vector"]
                    for row, *found in zip(
                        rows, batch["pieces"], batch["offsets"], batch["alone"], batch["titled"]
                    ):
                        pieces[row] = _rows(found[0], np.float16, dimension)
                        offsets[row] = np.frombuffer(found[1], np.int32).copy()
                        alone[row] = _rows(found[2], np.float32, dimension)
                        titled[row] = _rows(found[3], np.float32, dimension)
                    bar.update(len(rows))
        return PassagePass.of_passages(vectors, pieces, offsets, alone, titled)


def _rows(data: bytes, dtype: type, dimension: int) -> np.ndarray:
    return np.frombuffer(data, dtype).reshape(-1, dimension).astype(np.float32)


def _workers(ray: ModuleType) -> tuple[int, float]:
    """How many embedding workers to run, and GPUs for each: one per GPU when the cluster
    has GPUs, else one per CPU."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if gpus:
        return gpus, 1.0
    return max(1, int(resources.get("CPU", 1))), 0.0


def _dataset(ray: ModuleType, job: Texts, embedder: Embedder, workers: tuple[int, float]):
    """The passages as a Ray dataset, mapped through `_Worker`s; each row keeps its position."""
    count, gpus = workers
    # Longest first: batches hold passages of like length.
    order = sorted(range(len(job.passages)), key=lambda i: -len(job.passages[i]))
    items = [
        {
            "row": i,
            "text": job.passages[i],
            "heading": job.headings[i],
            "sentences": np.asarray(job.sentences[i], dtype=np.int64).tobytes(),
        }
        for i in order
    ]
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
    """One Ray worker's model; embeds a batch of passages with their sentences."""

    model: str
    device: str

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(1)  # a worker holds one CPU of the cluster
        self.embedder = Embedder(self.model, self.device)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        sentences = [np.frombuffer(s, np.int64).reshape(-1, 2) for s in batch["sentences"]]
        found = self.embedder.encode_passages(
            [str(text) for text in batch["text"]], sentences, batch["heading"].tolist()
        )
        ends = np.cumsum([len(s) for s in sentences])[:-1]
        alone = np.split(found.sentence_vectors, ends)
        titled = np.split(found.titled_vectors, ends)

        def column(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
            column = np.empty(len(arrays), dtype=object)
            column[:] = [a.astype(dtype).tobytes() for a in arrays]
            return column

        return {
            "row": batch["row"],
            "vector": found.vectors,
            "pieces": column(found.pieces, np.float16),
            "offsets": column(found.offsets, np.int32),
            "alone": column(alone, np.float32),
            "titled": column(titled, np.float32),
        }
