"""Incremental builds: compare the corpus with the live generation and plan what to redo.

A document whose file has the same SHA-256 as in the live generation is kept with all its
stored rows (passages, sentences, their vectors: `qa.index.rows.DocumentRows`); only new and
changed files are parsed (and then chunked and embedded by the build). Rows of changed,
deleted or now unreadable files are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qa.index.generation import StoredIndex, live_manifest, read_index
from qa.index.generations import current_generation
from qa.index.manifest import IndexUnusable
from qa.index.rows import DocumentRows, split_by_document
from qa.ingest.corpus import DEFAULT_MAX_BYTES, Document, Skipped, parse_document, scan, sha256
from qa.settings import Settings


@dataclass
class Plan:
    """What a build does, file by file, in corpus order.

    Attributes:
        entries: every document of the next generation, in order: the stored rows of an
            unchanged one to reuse, or a freshly parsed `Document` to chunk and embed.
        added, changed, removed, unchanged: file names.
        skipped: files that are not indexed, and why.
        full_reason: why every document is rebuilt, None for an incremental build.
        dimension: the stored vectors' dimension (None when nothing is reused).
    """

    entries: list[DocumentRows | Document] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    full_reason: str | None = None
    dimension: int | None = None

    @property
    def fresh(self) -> list[Document]:
        """The documents to chunk and embed."""
        return [entry for entry in self.entries if isinstance(entry, Document)]

    @property
    def changes_index(self) -> bool:
        """Whether the next generation differs from the live one."""
        return bool(self.added or self.changed or self.removed or self.full_reason)


def plan_build(
    corpus_dir: Path,
    index_dir: Path,
    settings: Settings,
    full: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Plan:
    """Compare the corpus with the live generation.

    Args:
        corpus_dir: the folder of articles.
        index_dir: the index folder.
        settings: the settings of the build; a live generation built with other settings
            (another model, other chunking) is not reused.
        full: rebuild every document even when the live generation could be reused.
        max_bytes: files larger than this are skipped.

    Raises:
        FileNotFoundError: `corpus_dir` is not a folder.
    """
    found, skipped = scan(corpus_dir, max_bytes)
    plan = Plan(skipped=skipped)
    previous, plan.full_reason = _previous(index_dir, settings, full)
    stored = (
        {rows.document.source: rows for rows in split_by_document(previous)}
        if previous is not None
        else {}
    )
    if previous is not None:
        plan.dimension = previous.vectors.dimension
    manifest = previous.manifest if previous is not None else live_manifest(index_dir)
    before = set(manifest.documents if manifest else ())
    for file in found:
        try:
            data = file.path.read_bytes()
        except OSError as error:
            plan.skipped.append(Skipped(file.source, f"cannot read it ({error.strerror})"))
            continue
        kept = stored.get(file.source)
        same = kept is not None and kept.document.sha256 == sha256(data)
        # A file that gave no passage is read again: a newer reader may find text in it.
        read = kept.document if same and len(kept.passages) else _read(file.source, data)
        if same and (isinstance(read, Skipped) or _reads_alike(read, kept.document)):
            plan.entries.append(kept)
            plan.unchanged.append(file.source)
            continue
        if isinstance(read, Skipped):
            plan.skipped.append(read)
            continue
        plan.entries.append(read)
        (plan.changed if file.source in before else plan.added).append(file.source)
    present = set(plan.added) | set(plan.changed) | set(plan.unchanged)
    plan.removed = sorted(before - present)
    plan.skipped.sort(key=lambda s: s.source)
    return plan


def _read(source: str, data: bytes) -> Document | Skipped:
    """The document in `data`, or why it cannot be read."""
    try:
        return parse_document(source, data)
    except ValueError as error:
        return Skipped(source, str(error))
    except (RecursionError, LookupError, ArithmeticError) as error:  # a parser broke on it
        reason = (str(error).splitlines() or [""])[0]
        return Skipped(source, f"cannot be parsed ({type(error).__name__}: {reason})")


def _reads_alike(now: Document, stored: Document) -> bool:
    """Whether a file reads as it did when stored: the same title, headline and text."""
    return (now.title, now.body_start, now.text) == (stored.title, stored.body_start, stored.text)


def _previous(
    index_dir: Path, settings: Settings, full: bool
) -> tuple[StoredIndex | None, str | None]:
    """The live generation when it can be reused, else None and why not."""
    if current_generation(index_dir) is None:
        return None, None
    if full:
        return None, "--full asked for"
    try:
        previous = read_index(index_dir)
    except IndexUnusable as error:
        return None, f"the index was unusable ({error})"
    difference = previous.manifest.difference(settings)
    return (None, difference) if difference else (previous, None)
