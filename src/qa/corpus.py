"""Reading a corpus folder: articles with optional front matter become `Document`s."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

SUFFIXES = (".md", ".txt")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FALLBACK_TITLE_CHARS = 100


@dataclass(frozen=True)
class Document:
    """One article. Passage offsets index into `text`, the file's body after front matter.

    `body_start` is where passage text begins: past a headline line, which is the title and
    so not passage text.
    """

    source: str
    text: str
    title: str
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    body_start: int = 0
    sha256: str = ""


@dataclass(frozen=True)
class Skipped:
    """A file that was not read, and why."""

    source: str
    reason: str


def find_files(corpus_dir: Path) -> list[Path]:
    """Every readable article under `corpus_dir`, in a stable order."""
    return sorted(
        path
        for path in corpus_dir.rglob("*")
        if path.suffix.lower() in SUFFIXES and path.is_file() and not _hidden(path, corpus_dir)
    )


def load_corpus(corpus_dir: str | Path) -> tuple[list[Document], list[Skipped]]:
    """Read every article under `corpus_dir`.

    Returns:
        The documents, and the files that could not be read with the reason for each.

    Raises:
        FileNotFoundError: `corpus_dir` is not a folder.
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(
            f"corpus folder {corpus_dir}/ does not exist; create it and put articles "
            f"({', '.join(SUFFIXES)}) in it, or name another with --corpus"
        )
    documents, skipped = [], []
    for path in find_files(corpus_dir):
        source = path.relative_to(corpus_dir).as_posix()
        try:
            documents.append(parse_document(source, path.read_bytes()))
        except ValueError as error:
            skipped.append(Skipped(source, str(error)))
    return documents, skipped


def parse_document(source: str, data: bytes) -> Document:
    """Parse one article's bytes.

    Raises:
        ValueError: the file is not UTF-8 text, its front matter is broken, or it is empty.
    """
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text ({error.reason} at byte {error.start})") from None
    meta, text = _split_front_matter(raw)
    if not text.strip():
        raise ValueError("no text after the front matter" if meta else "empty file")
    title = _field(meta, "title")
    headline_end = _headline_end(text, title)
    if title is None:
        title = _fallback_title(text, headline_end) or Path(source).stem
    return Document(
        source=source,
        text=text,
        title=title,
        publisher=_field(meta, "publisher"),
        date=_field(meta, "date"),
        url=_field(meta, "url"),
        body_start=headline_end,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _split_front_matter(raw: str) -> tuple[dict[str, object], str]:
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    try:
        meta = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError as error:
        raise ValueError(f"front matter is not valid YAML: {error}".splitlines()[0]) from None
    if not isinstance(meta, dict):
        raise ValueError("front matter must be 'key: value' lines")
    return meta, raw[match.end() :]


def _field(meta: dict[str, object], key: str) -> str | None:
    value = meta.get(key)
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _first_line(text: str) -> tuple[str, int, int]:
    """The first non-blank line, its start and its end (past the newline)."""
    start = len(text) - len(text.lstrip())
    start = text.rfind("\n", 0, start) + 1
    end = text.find("\n", start)
    end = len(text) if end == -1 else end + 1
    return text[start:end].strip(), start, end


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _headline_end(text: str, title: str | None) -> int:
    """Where the body starts: past a headline line, 0 when there is none.

    A headline is the first line when it repeats the title, is a Markdown heading, or (with
    no title given) stands alone above a blank line and does not end like a sentence.
    """
    line, _, end = _first_line(text)
    if title is not None:
        return end if _fold(line.lstrip("#")) == _fold(title) else 0
    if line.startswith("#"):
        return end
    followed_by_blank = text[end:].split("\n", 1)[0].strip() == ""
    if followed_by_blank and len(line) <= 200 and not line.endswith((".", "!", "?", ",", ";", ":")):
        return end
    return 0


def _fallback_title(text: str, headline_end: int) -> str:
    line, _, _ = _first_line(text)
    line = " ".join(line.lstrip("#").split())
    if headline_end or len(line) <= _FALLBACK_TITLE_CHARS:
        return line
    return line[:_FALLBACK_TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)
