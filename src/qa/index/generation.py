"""One generation's files: documents, passages, sentences, vectors, word pieces, BM25.

    gen-<time>-<pid>/   manifest.json, documents.jsonl, passages.jsonl, vectors.faiss,
                        sentences.npy, sentences.faiss, sentences-titled.faiss,
                        pieces.npy, pieces-first.npy, pieces-offsets.npy,
                        bm25/, bm25-sentences/

Plain files, no pickle. `read_index` loads the live one and checks that its parts agree;
`write_index` writes a new one and makes it live (`qa.index.generations.publish`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.index.generations import current_generation, publish
from qa.index.lexical import Lexical
from qa.index.manifest import IndexUnusable, Manifest
from qa.index.vectors import VectorIndex
from qa.index.wordpieces import WordPieces
from qa.ingest.corpus import Document

_REBUILD = "run `qa index --full` to rebuild it"
_READ_ATTEMPTS = 3  # a generation removed while read is retried with the newer live one


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
    sentences are embedded both alone and with them, and BM25-indexed with them. `pieces`
    holds each passage's word-piece vectors for MaxSim. `manifest` and `path` are set for a
    generation read from disk, None for one being built.
    """

    documents: list[Document]
    passages: list[StoredPassage]
    vectors: VectorIndex
    sentences: np.ndarray
    sentence_vectors: VectorIndex
    titled_sentence_vectors: VectorIndex
    pieces: WordPieces
    lexical: Lexical
    lexical_sentences: Lexical
    manifest: Manifest | None = None
    path: Path | None = None

    @cached_property  # once per load: the answer path reads it on every question
    def first_sentence(self) -> np.ndarray:
        return np.searchsorted(self.sentence_passages, np.arange(len(self.passages) + 1))

    @cached_property
    def sentence_passages(self) -> np.ndarray:
        """Each sentence's passage number (the first column of `sentences`, contiguous:
        the answer path gathers from it, on 300,000 sentences twice as fast)."""
        return np.ascontiguousarray(self.sentences[:, 0])

    @cached_property
    def passage_chars(self) -> int:
        """The median passage length in characters (0 when there are none): the corpus's
        kind as the confidence reads it (short posts or longer passages,
        `qa.search.confidence.Models`)."""
        lengths = [passage.end - passage.start for passage in self.passages]
        return int(np.median(lengths)) if lengths else 0

    @cached_property
    def passage_owners(self) -> np.ndarray:
        """Each passage's document number."""
        return np.fromiter((p.doc for p in self.passages), np.int64, len(self.passages))


def live_manifest(index_dir: Path) -> Manifest | None:
    """The live generation's manifest, whatever its format, or None when there is no
    readable one (what files and settings it had, when it cannot be loaded whole)."""
    path = current_generation(index_dir)
    try:
        return (
            Manifest.from_dict(json.loads((path / "manifest.json").read_text())) if path else None
        )
    except (OSError, ValueError):
        return None


def read_index(index_dir: Path, mmap: bool = True) -> StoredIndex:
    """Load the live generation and check that its parts agree.

    A generation that a build removes while it is being read (a newer one made it stale) is
    not an error: the newer live generation is read instead.

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
    reading = "manifest.json"
    try:
        manifest = Manifest.read(path, index_dir)
        reading = "documents.jsonl"
        documents = [Document.from_dict(row) for row in _read_jsonl(path / "documents.jsonl")]
        reading = "passages.jsonl"
        passages = [StoredPassage(**row) for row in _read_jsonl(path / "passages.jsonl")]
        reading = "vectors.faiss"
        vectors = VectorIndex.load(path / "vectors.faiss", mmap)
        reading = "sentences.npy"
        sentences = np.load(path / "sentences.npy")
        if sentences.ndim != 2 or sentences.shape[1] != 3:
            raise ValueError(f"sentences.npy has the shape {sentences.shape}, not (n, 3)")
        reading = "sentences.faiss"
        sentence_vectors = VectorIndex.load(path / "sentences.faiss", mmap)
        reading = "sentences-titled.faiss"
        titled_sentence_vectors = VectorIndex.load(path / "sentences-titled.faiss", mmap)
        reading = "pieces*.npy"
        pieces = WordPieces.load(path, vectors.dimension)
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
            f"the index in {index_dir}/ is damaged ({reading}: {reason}): {_REBUILD}"
        ) from error
    if len(vectors) != len(passages):
        raise IndexUnusable(
            f"the index in {index_dir}/ has {len(vectors)} vectors but {len(passages)} "
            f"passages: {_REBUILD}"
        )
    if vectors.dimension != manifest.dimension:
        raise IndexUnusable(
            f"the index in {index_dir}/ holds {vectors.dimension}-dimensional vectors but its "
            f"manifest says {manifest.dimension}: {_REBUILD}"
        )
    for counted in (sentence_vectors, titled_sentence_vectors):
        if len(counted) != len(sentences):
            raise IndexUnusable(
                f"the index in {index_dir}/ has {len(counted)} sentence vectors but "
                f"{len(sentences)} sentences: {_REBUILD}"
            )
    if len(pieces) != len(passages) or pieces.first[-1] != pieces.pieces:
        raise IndexUnusable(
            f"the index in {index_dir}/ has word pieces for {len(pieces)} passages but "
            f"{len(passages)} passages: {_REBUILD}"
        )
    if not _in_order([p.doc for p in passages], len(documents)) or not _in_order(
        sentences[:, 0].tolist(), len(passages)
    ):
        raise IndexUnusable(
            f"the index in {index_dir}/ has passages or sentences out of order: {_REBUILD}"
        )
    return StoredIndex(
        documents=documents,
        passages=passages,
        vectors=vectors,
        sentences=sentences,
        sentence_vectors=sentence_vectors,
        titled_sentence_vectors=titled_sentence_vectors,
        pieces=pieces,
        lexical=lexical,
        lexical_sentences=lexical_sentences,
        manifest=manifest,
        path=path,
    )


def write_index(index_dir: Path, index: StoredIndex, manifest: Manifest) -> Path:
    """Write `index` as a new generation with `manifest` (row counts and versions added)
    and make it the live one; remove older generations.

    The caller holds `qa.index.generations.build_lock(index_dir)`.

    Raises:
        IndexNotWritable: the disk is full or the folder cannot be written; the previous
            generation stays live (`qa.index.generations.publish`).
    """

    def write(folder: Path) -> None:
        rows = len(index.passages), len(index.sentences)
        manifest.stamped(*rows, index.passage_chars).write(folder)
        _write_jsonl(folder / "documents.jsonl", (asdict(d) for d in index.documents))
        _write_jsonl(folder / "passages.jsonl", (asdict(p) for p in index.passages))
        index.vectors.save(folder / "vectors.faiss")
        np.save(folder / "sentences.npy", index.sentences)
        index.sentence_vectors.save(folder / "sentences.faiss")
        index.titled_sentence_vectors.save(folder / "sentences-titled.faiss")
        index.pieces.save(folder)
        index.lexical.save(folder / "bm25")
        index.lexical_sentences.save(folder / "bm25-sentences")

    return publish(index_dir, write, _estimated_bytes(index))


def _estimated_bytes(index: StoredIndex) -> int:
    """Roughly how many bytes a generation of `index` takes on disk."""
    arrays = (index.sentences, index.pieces.codes, index.pieces.first, index.pieces.offsets)
    total = sum(array.nbytes for array in arrays)
    for vectors in (index.vectors, index.sentence_vectors, index.titled_sentence_vectors):
        code = int(getattr(vectors.faiss, "code_size", 4 * vectors.dimension))
        total += len(vectors) * (code + 8)
    # The documents' texts, their passages, and the two BM25 indexes over them.
    return total + 3 * sum(len(d.text.encode("utf-8", "replace")) for d in index.documents)


def _in_order(owners: list[int], count: int) -> bool:
    """Whether rows name their owners (0 to `count` - 1) grouped and in order."""
    return all(0 <= a <= b < count for a, b in zip(owners, owners[1:] + owners[-1:]))


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _write_jsonl(path: Path, rows: Iterator[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
