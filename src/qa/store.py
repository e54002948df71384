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

import errno
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
_NEARLY_FULL = 1_000_000  # free bytes below which a failed write is taken for a full disk
_READ_ATTEMPTS = 3  # a generation removed while read is retried with the newer live one
_VERSIONED = ("qa", "sentence-transformers", "transformers", "torch", "faiss-cpu", "numpy")


class IndexUnusable(RuntimeError):
    """The index cannot serve questions: missing, broken, or built differently."""


class IndexNotWritable(RuntimeError):
    """A build cannot write the index folder (no space left, read-only); the live
    generation is unchanged and still answers."""


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

    A generation that a build removes while it is being read (it was made stale by a newer
    one) is not an error: the newer live generation is read instead.

    Args:
        index_dir: the index folder.
        mmap: map the FAISS indexes read-only (fast to load, shared between processes);
            pass False for indexes that will be added to, which faiss cannot do to a map.

    Raises:
        IndexUnusable: there is no index, or it is incomplete, corrupt or inconsistent.
    """
    for _ in range(_READ_ATTEMPTS - 1):
        path = current_generation(index_dir)
        try:
            return _read_generation(index_dir, path, mmap)
        except IndexUnusable:
            if current_generation(index_dir) == path:
                raise
    return _read_generation(index_dir, current_generation(index_dir), mmap)


def _read_generation(index_dir: Path, path: Path | None, mmap: bool) -> StoredIndex:
    """Load one generation; see `read_index`."""
    if path is None:
        raise IndexUnusable(f"no index in {index_dir}/: run `qa index` to build it")
    rebuild = "run `qa index --full` to rebuild it"
    reading = "manifest.json"
    try:
        manifest = json.loads((path / "manifest.json").read_text())
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexUnusable(
                f"the index in {index_dir}/ has format {manifest.get('format_version')}, "
                f"this qa reads format {FORMAT_VERSION}: {rebuild}"
            )
        reading = "documents.jsonl"
        documents = [Document.from_dict(row) for row in _read_jsonl(path / "documents.jsonl")]
        reading = "passages.jsonl"
        passages = [StoredPassage(**row) for row in _read_jsonl(path / "passages.jsonl")]
        reading = "vectors.faiss"
        vectors = read_vectors(path / "vectors.faiss", mmap)
        reading = "sentences.npy"
        sentences = np.load(path / "sentences.npy")
        if sentences.ndim != 2 or sentences.shape[1] != 3:
            raise ValueError(f"sentences.npy has the shape {sentences.shape}, not (n, 3)")
        reading = "sentences.faiss"
        sentence_vectors = read_vectors(path / "sentences.faiss", mmap)
        reading = "sentences-titled.faiss"
        titled_sentence_vectors = read_vectors(path / "sentences-titled.faiss", mmap)
        reading = "tokens*.npy"
        tokens = TokenStore.load(path)
        reading = "bm25/"
        lexical = Lexical.load(path / "bm25", len(passages))
        reading = "bm25-sentences/"
        lexical_sentences = Lexical.load(path / "bm25-sentences", len(sentences))
    except IndexUnusable:
        raise
    # EOFError: an empty .npy; the others: missing, truncated or garbled files.
    except (OSError, EOFError, ValueError, TypeError, KeyError, IndexError, RuntimeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise IndexUnusable(
            f"the index in {index_dir}/ is damaged ({reading}: {reason}): {rebuild}"
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

    Every file and folder of the generation is flushed to disk (fsync) before CURRENT
    switches to it, so a power loss cannot leave a live generation with empty files.
    The caller holds `build_lock(index_dir)`.

    Raises:
        IndexNotWritable: the disk is full, or the folder cannot be written; what was
            written is removed at once and the previous generation stays live.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    previous = current_generation(index_dir)
    # Names sort in build order (to the microsecond), which `remove_leftovers` relies on.
    name = f"gen-{datetime.now().strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
    staging = index_dir / f".{name}.tmp"
    pointer = index_dir / f".{_POINTER}.tmp"
    switched = False
    try:
        staging.mkdir()
        _write_generation(staging, index)
        _fsync_tree(staging)
        os.rename(staging, index_dir / name)
        _fsync_dir(index_dir)
        with pointer.open("w") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pointer, index_dir / _POINTER)  # the switch: atomic on POSIX
        switched = True
        _fsync_dir(index_dir)
    except BaseException as error:  # nothing half-written stays behind, whatever failed
        if switched:
            raise
        # faiss reports a failed write as a RuntimeError
        writing = isinstance(error, (OSError, RuntimeError))
        full = writing and _disk_full(index_dir, error)
        for path in (staging, index_dir / name, pointer):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink(missing_ok=True)
        if not writing:
            raise
        raise _not_writable(index_dir, error, full, _estimated_bytes(index), previous) from None
    # The previous generation stays until the next build: a reader may be loading it.
    _remove_stale(index_dir, keep={name, previous.name if previous else name})
    return index_dir / name


def _write_generation(folder: Path, index: StoredIndex) -> None:
    import faiss

    manifest = {
        **index.manifest,
        "format_version": FORMAT_VERSION,
        "passage_count": len(index.passages),
        "sentence_count": len(index.sentences),
        "versions": _versions(),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    _write_jsonl(folder / "documents.jsonl", (asdict(d) for d in index.documents))
    _write_jsonl(folder / "passages.jsonl", (asdict(p) for p in index.passages))
    faiss.write_index(index.vectors, str(folder / "vectors.faiss"))
    np.save(folder / "sentences.npy", index.sentences)
    faiss.write_index(index.sentence_vectors, str(folder / "sentences.faiss"))
    faiss.write_index(index.titled_sentence_vectors, str(folder / "sentences-titled.faiss"))
    index.tokens.save(folder)
    index.lexical.save(folder / "bm25")
    index.lexical_sentences.save(folder / "bm25-sentences")


def _disk_full(index_dir: Path, error: BaseException) -> bool:
    """Whether a failed write ran out of space (faiss does not say why a write failed)."""
    if isinstance(error, OSError) and error.errno is not None:
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    try:
        return shutil.disk_usage(index_dir).free < _NEARLY_FULL
    except OSError:
        return False


def _not_writable(
    index_dir: Path, error: BaseException, full: bool, needed: int, previous: Path | None
) -> IndexNotWritable:
    """The one-line message for a build that could not write its generation."""
    kept = "the previous index is unchanged" if previous else "no index was written"
    if full:
        megabytes = max(1, -(-needed // 1_000_000))
        return IndexNotWritable(
            f"no space left on {index_dir}/ (needed about {megabytes} MB); {kept}: "
            "free some space and run `qa index` again"
        )
    if isinstance(error, OSError) and error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return IndexNotWritable(f"cannot write to {index_dir}/ ({error.strerror}); {kept}")
    reason = (str(error).splitlines() or [type(error).__name__])[0]
    return IndexNotWritable(f"cannot write the index in {index_dir}/ ({reason}); {kept}")


def _estimated_bytes(index: StoredIndex) -> int:
    """Roughly how many bytes a generation of `index` takes on disk."""
    arrays = (index.sentences, index.tokens.vectors, index.tokens.first, index.tokens.offsets)
    total = sum(array.nbytes for array in arrays)
    for vectors in (index.vectors, index.sentence_vectors, index.titled_sentence_vectors):
        total += vectors.ntotal * (int(getattr(vectors, "code_size", 4 * vectors.d)) + 8)
    # The documents' texts, their passages, and the two BM25 indexes over them.
    return total + 3 * sum(len(d.text.encode("utf-8", "replace")) for d in index.documents)


@contextmanager
def build_lock(index_dir: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the index's build lock; a second builder waits until the first is done.

    Args:
        index_dir: the index folder.
        on_wait: called once with a message naming the running build when this one has
            to wait for it.
    """
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(index_dir / ".lock", "a+")  # noqa: SIM115 - closed below
    except OSError as error:
        reason = error.strerror or str(error)
        raise IndexNotWritable(
            f"cannot write to {index_dir}/ ({reason}): a build needs a folder it can write; "
            "the index there still answers questions"
            if current_generation(index_dir)
            else f"cannot write to {index_dir}/ ({reason}): name another folder with --index"
        ) from None
    with handle:
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
    """Remove every generation that is not live, and what killed builds left.

    The caller holds `build_lock(index_dir)`, so no other build is writing a generation.
    A reader that was loading a removed generation reads the live one instead
    (`read_index`).

    Returns:
        The names of what killed builds left: staging folders, generations never made live,
        and generations older than the one before the live one (a build killed after its
        switch left them). The generation before the live one, which every build keeps for
        readers, is removed without being named.
    """
    if not index_dir.is_dir():
        return []
    live = current_generation(index_dir)
    generations = sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-"))
    older = [name for name in generations if live is not None and name < live.name]
    kept_for_readers = older[-1] if older else None
    removed = []
    for path in sorted(index_dir.iterdir()):
        stale = path.name.startswith("gen-") and (live is None or path.name != live.name)
        if path.name.endswith(".tmp") or stale:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            if path.name != kept_for_readers:
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


def _fsync_tree(folder: Path) -> None:
    """Flush every file under `folder`, then each folder, to disk."""
    for parent, _, files in os.walk(folder, topdown=False):
        for name in files:
            fd = os.open(Path(parent) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(parent))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
