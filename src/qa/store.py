"""The index on disk: generations of plain files (FAISS, JSON lines, a manifest), no pickle.

    index/
      CURRENT               name of the live generation, replaced atomically
      .lock                 held while a build runs; names the builder's pid
      gen-<time>-<pid>/     manifest.json, documents.jsonl, passages.jsonl, vectors.faiss,
                            sentences.npy, sentences.faiss, sentences-titled.faiss,
                            tokens.npy, tokens-first.npy, tokens-offsets.npy,
                            bm25/, bm25-sentences/

A build writes a new generation in a hidden staging folder, renames it to `gen-*`, then
points CURRENT at it with one atomic rename, so a reader sees the old generation or the new
one, never half of one. A build killed on the way leaves the staging folder or an unused
`gen-*` folder behind; the next build removes them (`remove_leftovers`).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.corpus import Document
from qa.lexical import Lexical
from qa.maxsim import TokenStore
from qa.vectors import read as read_vectors

if TYPE_CHECKING:
    import faiss

FORMAT_VERSION = 2
_POINTER = "CURRENT"
_VERSIONED = ("qa", "sentence-transformers", "transformers", "torch", "faiss-cpu", "numpy")


class IndexUnusable(RuntimeError):
    """The index cannot serve questions: missing, broken, or built differently."""


@dataclass(frozen=True)
class StoredPassage:
    """A passage as stored: `documents[doc].text[start:end]`."""

    chunk_id: str
    doc: int
    start: int
    end: int


@dataclass
class StoredIndex:
    """One generation: documents, passages, their sentences, and the indexes over both.

    `sentences` has one row per sentence of each passage, in passage order:
    (passage, start, end) with offsets into the document's text; the sentences of passage
    `p` are rows `first_sentence[p]` to `first_sentence[p + 1]`.

    Passages are embedded and BM25-indexed with their document's title and date in front;
    sentences are embedded both alone and with them, and BM25-indexed with them. `tokens`
    holds each passage's word-piece vectors for MaxSim.
    """

    documents: list[Document]
    passages: list[StoredPassage]
    vectors: faiss.Index
    sentences: np.ndarray
    sentence_vectors: faiss.Index
    titled_sentence_vectors: faiss.Index
    tokens: TokenStore
    lexical: Lexical
    lexical_sentences: Lexical
    manifest: dict = field(default_factory=dict)
    path: Path | None = None

    @cached_property  # once per load: the answer path reads it on every question
    def first_sentence(self) -> np.ndarray:
        return np.searchsorted(self.sentences[:, 0], np.arange(len(self.passages) + 1))


def current_generation(index_dir: Path) -> Path | None:
    """The live generation's folder, or None when no index was built here."""
    try:
        name = (index_dir / _POINTER).read_text().strip()
    except FileNotFoundError:
        return None
    return index_dir / name


def read_manifest(index_dir: Path) -> dict | None:
    """The live generation's manifest, or None when there is no readable one."""
    path = current_generation(index_dir)
    try:
        return json.loads((path / "manifest.json").read_text()) if path else None
    except (OSError, ValueError):
        return None


def read_index(index_dir: Path, mmap: bool = True) -> StoredIndex:
    """Load the live generation and check that its parts agree.

    Args:
        index_dir: the index folder.
        mmap: map the FAISS indexes read-only (fast to load, shared between processes);
            pass False for indexes that will be added to, which faiss cannot do to a map.

    Raises:
        IndexUnusable: there is no index, or it is incomplete, corrupt or inconsistent.
    """
    path = current_generation(index_dir)
    if path is None:
        raise IndexUnusable(f"no index in {index_dir}/: run `qa index` to build it")
    rebuild = "run `qa index --full` to rebuild it"
    try:
        manifest = json.loads((path / "manifest.json").read_text())
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexUnusable(
                f"the index in {index_dir}/ has format {manifest.get('format_version')}, "
                f"this qa reads format {FORMAT_VERSION}: {rebuild}"
            )
        documents = [Document.from_dict(row) for row in _read_jsonl(path / "documents.jsonl")]
        passages = [StoredPassage(**row) for row in _read_jsonl(path / "passages.jsonl")]
        vectors = read_vectors(path / "vectors.faiss", mmap)
        sentences = np.load(path / "sentences.npy")
        if sentences.ndim != 2 or sentences.shape[1] != 3:
            raise ValueError(f"sentences.npy has the shape {sentences.shape}, not (n, 3)")
        sentence_vectors = read_vectors(path / "sentences.faiss", mmap)
        titled_sentence_vectors = read_vectors(path / "sentences-titled.faiss", mmap)
        tokens = TokenStore.load(path)
        lexical = Lexical.load(path / "bm25", len(passages))
        lexical_sentences = Lexical.load(path / "bm25-sentences", len(sentences))
    except IndexUnusable:
        raise
    except (OSError, ValueError, TypeError, RuntimeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise IndexUnusable(
            f"the index in {index_dir}/ is damaged ({reason}): {rebuild}"
        ) from error
    if vectors.ntotal != len(passages):
        raise IndexUnusable(
            f"the index in {index_dir}/ has {vectors.ntotal} vectors but {len(passages)} "
            f"passages: {rebuild}"
        )
    if vectors.d != manifest.get("dimension"):
        raise IndexUnusable(
            f"the index in {index_dir}/ holds {vectors.d}-dimensional vectors but its manifest "
            f"says {manifest.get('dimension')}: {rebuild}"
        )
    for counted in (sentence_vectors, titled_sentence_vectors):
        if counted.ntotal != len(sentences):
            raise IndexUnusable(
                f"the index in {index_dir}/ has {counted.ntotal} sentence vectors but "
                f"{len(sentences)} sentences: {rebuild}"
            )
    if len(tokens) != len(passages) or tokens.first[-1] != len(tokens.vectors):
        raise IndexUnusable(
            f"the index in {index_dir}/ has word pieces for {len(tokens)} passages but "
            f"{len(passages)} passages: {rebuild}"
        )
    if not _in_order([p.doc for p in passages], len(documents)) or not _in_order(
        sentences[:, 0].tolist(), len(passages)
    ):
        raise IndexUnusable(
            f"the index in {index_dir}/ has passages or sentences out of order: {rebuild}"
        )
    return StoredIndex(
        documents=documents,
        passages=passages,
        vectors=vectors,
        sentences=sentences,
        sentence_vectors=sentence_vectors,
        titled_sentence_vectors=titled_sentence_vectors,
        tokens=tokens,
        lexical=lexical,
        lexical_sentences=lexical_sentences,
        manifest=manifest,
        path=path,
    )


def write_index(index_dir: Path, index: StoredIndex) -> Path:
    """Write a new generation and make it the live one; remove older generations.

    The caller holds `build_lock(index_dir)`.
    """
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    previous = current_generation(index_dir)
    # Names sort in build order (to the microsecond), which `remove_leftovers` relies on.
    name = f"gen-{datetime.now().strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
    staging = index_dir / f".{name}.tmp"
    staging.mkdir()
    manifest = {
        **index.manifest,
        "format_version": FORMAT_VERSION,
        "passage_count": len(index.passages),
        "sentence_count": len(index.sentences),
        "versions": _versions(),
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    _write_jsonl(staging / "documents.jsonl", (asdict(d) for d in index.documents))
    _write_jsonl(staging / "passages.jsonl", (asdict(p) for p in index.passages))
    faiss.write_index(index.vectors, str(staging / "vectors.faiss"))
    np.save(staging / "sentences.npy", index.sentences)
    faiss.write_index(index.sentence_vectors, str(staging / "sentences.faiss"))
    faiss.write_index(index.titled_sentence_vectors, str(staging / "sentences-titled.faiss"))
    index.tokens.save(staging)
    index.lexical.save(staging / "bm25")
    index.lexical_sentences.save(staging / "bm25-sentences")
    _fsync_dir(staging)
    os.rename(staging, index_dir / name)
    pointer = index_dir / f".{_POINTER}.tmp"
    pointer.write_text(name + "\n")
    os.replace(pointer, index_dir / _POINTER)  # the switch: atomic on POSIX
    _fsync_dir(index_dir)
    # The previous generation stays until the next build: a reader may be loading it.
    _remove_stale(index_dir, keep={name, previous.name if previous else name})
    return index_dir / name


@contextmanager
def build_lock(index_dir: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the index's build lock; a second builder waits until the first is done.

    Args:
        index_dir: the index folder.
        on_wait: called once with a message naming the running build when this one has
            to wait for it.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                handle.seek(0)
                holder = handle.read().strip() or "?"
                on_wait(
                    f"another build (pid {holder}) is writing {index_dir}/; "
                    "waiting for it to finish"
                )
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_leftovers(index_dir: Path) -> list[str]:
    """Remove what killed builds left: staging folders and generations never made live.

    The caller holds `build_lock(index_dir)`. Generations older than the live one stay
    (a reader may still be loading one); the next written generation clears them.

    Returns:
        The names removed.
    """
    if not index_dir.is_dir():
        return []
    live = current_generation(index_dir)
    removed = []
    for path in sorted(index_dir.iterdir()):
        orphan = path.name.startswith("gen-") and (live is None or path.name > live.name)
        if path.name.endswith(".tmp") or orphan:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def _remove_stale(index_dir: Path, keep: set[str]) -> None:
    """Older generations and leftovers of killed builds."""
    for path in index_dir.iterdir():
        stale = path.name.startswith("gen-") or path.name.endswith(".tmp")
        if stale and path.name not in keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def _in_order(owners: list[int], count: int) -> bool:
    """Whether rows name their owners (0 to `count` - 1) grouped and in order."""
    return all(0 <= a <= b < count for a, b in zip(owners, owners[1:] + owners[-1:]))


def _versions() -> dict[str, str]:
    versions = {}
    for package in _VERSIONED:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _write_jsonl(path: Path, rows: Iterator[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
