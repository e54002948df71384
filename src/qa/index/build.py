"""Building the index: bring it up to date with the corpus, embedding only new text."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from qa.embed import Embedder, load_embedder
from qa.index.embedding import Embedding, RayEmbedding, embed_locally
from qa.index.generation import live_manifest, write_index
from qa.index.generations import build_lock, current_generation, remove_leftovers
from qa.index.incremental import plan_build
from qa.index.manifest import DocumentEntry, Manifest
from qa.index.rows import DocumentRows, Texts, join_documents
from qa.ingest.chunking import Chunker, split_sentences
from qa.ingest.corpus import DEFAULT_MAX_BYTES, Document, Skipped, shown
from qa.settings import ChunkUnit, Settings


@dataclass(frozen=True)
class BuildReport:
    """What one build did.

    Attributes:
        documents, passages: what the live index holds after the build.
        seconds: how long the build took.
        skipped: files not indexed, each with the reason.
        added, changed, removed, unchanged: file names, by what happened to them.
        embedded: how many passages were embedded (0 when nothing changed).
        embedded_sentences: how many sentences got vectors (pooled from their passages).
        full_reason: why every document was rebuilt; None for an incremental build.
        notes: files indexed with a remark (a fallback text encoding, a date that was not
            one, a PDF reader's warning, no passage to search).
        generation: the generation written, None when the live one was still current.
        cleaned: leftovers of killed builds that were removed.
    """

    documents: int
    passages: int
    seconds: float
    skipped: list[Skipped] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    embedded: int = 0
    embedded_sentences: int = 0
    full_reason: str | None = None
    notes: list[Skipped] = field(default_factory=list)
    generation: str | None = None
    cleaned: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        """One phrase: "no changes", "updated", or "rebuilt fully: <why>"."""
        if self.full_reason:
            return f"rebuilt fully: {self.full_reason}"
        return "updated" if self.generation else "no changes"

    def headline(self, where: str | None = None) -> str:
        """One line: what the index holds, how long the build took, and what it did."""
        arrow = f" → {where}/" if where else ""
        return (
            f"Indexed {self.documents} documents, {self.passages} passages in "
            f"{self.seconds:.1f} s{arrow} ({self.state})"
        )

    def files(self, listed: int = 20) -> list[tuple[str, str]]:
        """(what happened, file name) for each added, changed and removed file, at most
        `listed` of each kind (then one "… and N more"), and each leftover cleaned. A name
        with a line break or another unprintable character is quoted (`corpus.shown`)."""
        rows = []
        for what in ("added", "changed", "removed"):
            names = getattr(self, what)
            rows += [(what, shown(name)) for name in names[:listed]]
            if len(names) > listed:
                rows.append((what, f"… and {len(names) - listed} more"))
        rows += [
            ("cleaned", f"{name} (left by a build that did not finish)") for name in self.cleaned
        ]
        return rows

    @property
    def counts(self) -> str:
        """One line of counts: files by what happened to them, and what was embedded."""
        return (
            f"added {len(self.added)} · changed {len(self.changed)} · removed "
            f"{len(self.removed)} · unchanged {len(self.unchanged)} · skipped "
            f"{len(self.skipped)} · embedded {self.embedded} passages, "
            f"{self.embedded_sentences} sentences"
        )


def build_index(
    corpus: str | Path,
    index: str | Path,
    settings: Settings | None = None,
    progress: bool = False,
    *,
    full: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_wait: Callable[[str], None] | None = None,
    ray: str | None = None,
) -> BuildReport:
    """Bring the index up to date with the corpus and make the result the live index.

    Only new and changed files are parsed, chunked and embedded; unchanged documents keep
    all their stored rows (passages, sentences and both kinds of vectors), and rows of
    changed or deleted files are dropped. The BM25 indexes are rebuilt from the texts. With
    nothing changed nothing is written and the model is not loaded. Every document is
    rebuilt with `full`, when the index is unusable, or when it was built with other
    settings.

    Args:
        corpus: the folder of articles.
        index: the index folder.
        settings: None keeps the settings of the index there (defaults when there is none).
        progress: show a progress bar while embedding.
        full: rebuild every document.
        max_bytes: skip files larger than this.
        on_wait: called with a message when another build holds the lock and this one
            waits for it.
        ray: embed on a Ray cluster at this address ("" starts a local Ray for the
            build); None embeds in this process. Needs the `ray` extra.

    Raises:
        FileNotFoundError: the corpus folder does not exist.
        IndexNotWritable: the index folder cannot be written (disk full, read-only); the
            live generation is unchanged.
        ImportError: `ray` is given but Ray is not installed (the message says what to
            install).
    """
    corpus_dir, index_dir = Path(corpus), Path(index)
    embedding = _embedding(ray)
    with build_lock(index_dir, on_wait):
        started = time.perf_counter()
        cleaned = remove_leftovers(index_dir)
        live = live_manifest(index_dir)
        settings = settings or (live.settings if live else Settings())
        plan = plan_build(corpus_dir, index_dir, settings, full, max_bytes)
        report = {
            "skipped": plan.skipped,
            "added": plan.added,
            "changed": plan.changed,
            "removed": plan.removed,
            "unchanged": plan.unchanged,
            "full_reason": plan.full_reason,
            "cleaned": cleaned,
        }
        if not plan.changes_index and current_generation(index_dir) is not None:
            kept = [entry for entry in plan.entries if isinstance(entry, DocumentRows)]
            return BuildReport(
                len(kept),
                sum(len(rows.passages) for rows in kept),
                time.perf_counter() - started,
                notes=_notes(kept),
                **report,
            )
        fresh, dimension = _embed_new(plan.fresh, settings, progress, plan.dimension, embedding)
        parts = [
            fresh[entry.source] if isinstance(entry, Document) else entry for entry in plan.entries
        ]
        index = join_documents(parts, dimension)
        manifest = Manifest(
            model=settings.model,
            dimension=dimension,
            settings=settings,
            documents={
                part.document.source: DocumentEntry(part.document.sha256, len(part.passages))
                for part in parts
            },
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            build_seconds=round(time.perf_counter() - started, 3),
        )
        written = write_index(index_dir, index, manifest)
    return BuildReport(
        len(index.documents),
        len(index.passages),
        time.perf_counter() - started,
        embedded=sum(len(rows.passages) for rows in fresh.values()),
        embedded_sentences=sum(len(rows.sentences) for rows in fresh.values()),
        notes=_notes(parts),
        generation=written.name,
        **report,
    )


def _embedding(ray: str | None) -> Embedding:
    """This process's model, or Ray workers when a cluster address is given."""
    return embed_locally if ray is None else RayEmbedding(ray)


def _embed_new(
    documents: list[Document],
    settings: Settings,
    progress: bool,
    dimension: int | None,
    embedding: Embedding = embed_locally,
) -> tuple[dict[str, DocumentRows], int]:
    """Chunk new and changed documents, and embed their passages and sentences.

    The model is loaded only when there is something to embed (or no stored dimension).

    Returns:
        Each document's rows, by source, and the vectors' dimension.
    """
    if not documents and dimension is not None:
        return {}, dimension
    embedder = load_embedder(settings.model)
    chunker = _chunker(settings, embedder)
    cut = [
        _cut(document, _with_heading_room(chunker, document, embedder)) for document in documents
    ]
    embedded = embed_rows(cut, embedder, progress, embedding)
    return {rows.document.source: rows for rows in embedded}, embedder.dimension


def embed_rows(
    cut: list[DocumentRows],
    embedder: Embedder,
    progress: bool = False,
    embedding: Embedding = embed_locally,
) -> list[DocumentRows]:
    """The documents' rows with their vectors: passages read with their heading, keeping
    from the same pass their word pieces and their sentences' vectors, alone and with the
    heading.

    All documents' texts go to the model together (`embedding`: in this process, or on a
    Ray cluster), so batches hold texts of like length.
    """
    texts = [rows.texts() for rows in cut]
    job = Texts(
        passages=[text for t in texts for text in t.passages],
        headings=[heading for t in texts for heading in t.headings],
        sentences=[spans for t in texts for spans in t.sentences],
    )
    done = embedding(embedder, job, progress)
    embedded = []
    p = s = 0
    for rows in cut:
        n, m = len(rows.passages), len(rows.sentences)
        embedded.append(
            rows.embedded(
                done.vectors[p : p + n],
                done.pieces[p : p + n],
                done.offsets[p : p + n],
                done.sentence_vectors[s : s + m],
                done.titled_vectors[s : s + m],
            )
        )
        p, s = p + n, s + m
    return embedded


def _cut(document: Document, chunk: Chunker) -> DocumentRows:
    """The document cut into passages and their sentences, not yet embedded."""
    passages = _passages(document, chunk)
    sentences = [
        (number, a, b)
        for number, (start, end) in enumerate(passages)
        for a, b in split_sentences(document.text, start, end)
    ]
    return DocumentRows(document, _rows(passages, 2), _rows(sentences, 3))


def _with_heading_room(chunker: Chunker, document: Document, embedder: Embedder) -> Chunker:
    """The chunker with room left for the heading, so a passage read with it fits the model."""
    room = min(embedder.count_tokens(document.heading), chunker.max_tokens // 2)
    return replace(chunker, max_tokens=chunker.max_tokens - room)


def _passages(document: Document, chunk: Chunker) -> list[tuple[int, int]]:
    """The document's passage spans; passages never cross a page (of a PDF).

    Page furniture is left out, but never a document's whole text: a post whose only
    sentence reads like a photo credit ("Photo: …") is still searchable.
    """
    pages = [
        (max(start, document.body_start), end)
        for start, end in document.page_spans()
        if end > document.body_start
    ]
    spans = [span for start, end in pages for span in chunk(document.text, start, end)]
    if spans:
        return spans
    return [
        span for start, end in pages for span in chunk(document.text, start, end, furniture=True)
    ]


def _rows(values: list[tuple[int, ...]], width: int) -> np.ndarray:
    return np.array(values, dtype=np.int64).reshape(-1, width)


def _chunker(settings: Settings, embedder: Embedder) -> Chunker:
    by_tokens = ChunkUnit.from_str(settings.chunk_unit) is ChunkUnit.TOKENS
    return Chunker(
        size=settings.chunk_size,
        overlap=settings.chunk_overlap,
        length=embedder.count_tokens if by_tokens else len,
        count_tokens=embedder.count_tokens,
        max_tokens=embedder.max_tokens,
    )


def _notes(parts: Iterable[DocumentRows]) -> list[Skipped]:
    """Remarks on indexed files: a fallback or declared encoding, a date that was not one;
    no passage to search (a file whose only text is its title), so it can never answer."""
    notes = []
    for part in parts:
        document = part.document
        if document.encoding is not None:
            notes.append(Skipped(document.source, f"not UTF-8: decoded as {document.encoding}"))
        notes += [Skipped(document.source, note) for note in document.notes]
        if len(part.passages) == 0:
            notes.append(Skipped(document.source, "no passage: no text after its title"))
    return notes
