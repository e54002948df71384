"""The index on disk: generations of plain files (FAISS, JSON lines, a manifest), no pickle.

    index/
      CURRENT               name of the live generation, replaced atomically
      .lock                 held while a build writes
      gen-<time>-<pid>/     manifest.json, documents.jsonl, passages.jsonl, vectors.faiss,
                            sentences.npy, sentences.faiss, bm25/, bm25-sentences/

A build writes a new generation folder, then points CURRENT at it with one atomic rename,
so a reader sees the old generation or the new one, never half of one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.corpus import Document
from qa.lexical import Lexical
from qa.vectors import read as read_vectors

if TYPE_CHECKING:
    import faiss

FORMAT_VERSION = 1
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
    """

    documents: list[Document]
    passages: list[StoredPassage]
    vectors: faiss.Index
    sentences: np.ndarray
    sentence_vectors: faiss.Index
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
        documents = [Document(**row) for row in _read_jsonl(path / "documents.jsonl")]
        passages = [StoredPassage(**row) for row in _read_jsonl(path / "passages.jsonl")]
        vectors = read_vectors(path / "vectors.faiss", mmap)
        sentences = np.load(path / "sentences.npy")
        sentence_vectors = read_vectors(path / "sentences.faiss", mmap)
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
    if sentence_vectors.ntotal != len(sentences):
        raise IndexUnusable(
            f"the index in {index_dir}/ has {sentence_vectors.ntotal} sentence vectors but "
            f"{len(sentences)} sentences: {rebuild}"
        )
    return StoredIndex(
        documents,
        passages,
        vectors,
        sentences,
        sentence_vectors,
        lexical,
        lexical_sentences,
        manifest,
        path,
    )


def write_index(index_dir: Path, index: StoredIndex) -> Path:
    """Write a new generation and make it the live one; remove older generations.

    The caller holds `build_lock(index_dir)`.
    """
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    previous = current_generation(index_dir)
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
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
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's build lock; a second builder waits until the first is done."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_stale(index_dir: Path, keep: set[str]) -> None:
    """Older generations and leftovers of killed builds."""
    for path in index_dir.iterdir():
        stale = path.name.startswith("gen-") or path.name.endswith(".tmp")
        if stale and path.name not in keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


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
