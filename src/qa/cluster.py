"""Ray for a build and for answering: connecting to a cluster, and embedding on it.

Ray is an optional extra (`pip install -e ".[ray]"`); it is imported only here and in
`qa.api`, so a build or an answer without `--ray` / `--replicas` never loads it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from types import ModuleType

import numpy as np

from qa.embed import Embedder
from qa.embedding import Embedded, EmbedJob, embed_locally

INSTALL = 'Ray is not installed: pip install -e ".[ray]" (or pip install "ray[data,serve]")'
_PASSAGE, _SENTENCE, _TITLED = 0, 1, 2
_BATCH = 64  # texts per batch a worker embeds, as `Embedder.encode_with_tokens` batches
_BLOCKS_PER_WORKER = 4  # enough blocks that no worker idles while another has a queue
# Ray left to itself reports usage to its makers, starts a dashboard and copies every
# worker's log lines to the terminal; a build and an answer server need none of that.
_QUIET = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_DEDUP_LOGS": "0",
    "RAY_DISABLE_IMPORT_WARNING": "1",
    "RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO": "0",
}


def require_ray(serve: bool = False) -> ModuleType:
    """The `ray` module, with Ray Data (for builds) or Ray Serve (`serve`, for `qa api`).

    Raises:
        ImportError: Ray (or the library asked for) is not installed; the message says what
            to install.
    """
    try:
        import ray

        if serve:
            import ray.serve  # noqa: F401
        else:
            import ray.data  # noqa: F401
    except ImportError as error:
        raise ImportError(INSTALL) from error
    return ray


@contextlib.contextmanager
def connected(address: str | None) -> Iterator[ModuleType]:
    """Ray, connected to the cluster at `address` for the duration of the block.

    Args:
        address: a cluster's address ("auto", "HOST:PORT", "ray://HOST:10001"); "" or None
            starts a local Ray for the block. When this process is already connected, that
            connection is used and left open.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    for name, value in _QUIET.items():
        os.environ.setdefault(name, value)  # read by Ray's processes when they start
    ray.init(
        address=address or None,
        include_dashboard=False if not address else None,
        log_to_driver=False,
        logging_level="ERROR",
    )
    try:
        yield ray
    finally:
        ray.shutdown()


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

    def __call__(self, embedder: Embedder, job: EmbedJob, progress: bool = False) -> Embedded:
        """Embed `job` on the cluster with the model `embedder` holds; rows come back in
        `job`'s order."""
        from tqdm.auto import tqdm

        if not len(job):  # documents without passages: nothing to send
            return embed_locally(embedder, job, progress)
        vectors = np.empty((len(job), embedder.dimension), dtype=np.float32)
        pieces: list[np.ndarray] = [np.empty(0)] * len(job.passages)
        offsets: list[np.ndarray] = [np.empty(0)] * len(job.passages)
        with connected(self.address) as ray, quiet("ray.data"):
            dataset = _dataset(ray, job, embedder, _workers(ray))
            with tqdm(total=len(job), unit="text", desc="Embedding", disable=not progress) as bar:
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


@contextlib.contextmanager
def quiet(name: str) -> Iterator[None]:
    """Keep a library's info and warning lines off the terminal for the block (the build
    prints its own progress and summary); its errors still show."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _workers(ray: ModuleType) -> tuple[int, float]:
    """How many embedding workers to run, and GPUs for each: one per GPU when the cluster
    has GPUs, else one per CPU."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if gpus:
        return gpus, 1.0
    return max(1, int(resources.get("CPU", 1))), 0.0


def _dataset(ray: ModuleType, job: EmbedJob, embedder: Embedder, workers: tuple[int, float]):
    """The texts as a Ray dataset, mapped through `_Worker`s; each row keeps its position."""
    count, gpus = workers
    texts = job.passages + job.sentences + job.titled
    kinds = [_PASSAGE] * len(job.passages) + [_SENTENCE] * len(job.sentences)
    kinds += [_TITLED] * len(job.titled)
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
