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
        if (
            kept is not None
            and kept.document.sha256 == sha256(data)
            and (len(kept.passages) or not _read_otherwise(kept.document, data))
        ):
            plan.entries.append(kept)
            plan.unchanged.append(file.source)
            continue
        try:
            document = parse_document(file.source, data)
        except ValueError as error:
            plan.skipped.append(Skipped(file.source, str(error)))
            continue
        except (RecursionError, LookupError, ArithmeticError) as error:  # a parser broke on it
            reason = (str(error).splitlines() or [""])[0]
            plan.skipped.append(
                Skipped(file.source, f"cannot be parsed ({type(error).__name__}: {reason})")
            )
            continue
        plan.entries.append(document)
        (plan.changed if file.source in before else plan.added).append(file.source)
    present = set(plan.added) | set(plan.changed) | set(plan.unchanged)
    plan.removed = sorted(before - present)
    plan.skipped.sort(key=lambda s: s.source)
    return plan


def _read_otherwise(document: Document, data: bytes) -> bool:
    """Whether a stored document that gave no passage reads otherwise now: a newer reader
    may find text where an older one found only a title, so such a file is read again
    (parsing it is cheap; it has nothing embedded to lose)."""
    try:
        now = parse_document(document.source, data)
    except (ValueError, RecursionError, LookupError, ArithmeticError):
        return False  # kept as it is; a changed file is read, and reported, as any other
    return (now.title, now.body_start, now.text) != (
        document.title,
        document.body_start,
        document.text,
    )


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
