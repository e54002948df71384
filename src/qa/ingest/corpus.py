"""Reading a corpus folder: articles with optional front matter become `Document`s."""

from __future__ import annotations

import bisect
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from qa.dates import iso_date
from qa.ingest import formats, webpage
from qa.ingest.chunking import split_sentences

SUFFIXES = (".md", ".txt", ".html", ".htm", ".pdf")
NOT_READ = f"not read: qa reads {', '.join(SUFFIXES)}"  # why a file of another type is out
DEFAULT_MAX_BYTES = 20_000_000
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_BLANK_LINE = re.compile(r"\n[ \t]*\r?\n")
# A Markdown heading: one to six "#" and a space or the end of the line (CommonMark), so a
# post that opens with a hashtag ("#ClimateWeek starts today") is text, not a heading.
_MARKDOWN_HEADING = re.compile(r"#{1,6}(?:[ \t]+|$)")
_FALLBACK_TITLE_CHARS = 120  # a first sentence longer than this is no title: the file name is


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML without its timestamp type: a date stays the text written, checked by
    `qa.dates`, so an impossible one is reported, not a parser error for the whole block."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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
    pages: tuple[int, ...] = ()
    encoding: str | None = None
    notes: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict) -> Document:
        return cls(
            **{**data, "pages": tuple(data.get("pages", ())), "notes": tuple(data.get("notes", ()))}
        )

    @property
    def heading(self) -> str:
        """What goes before a passage or sentence when it is read with its article's title
        and date ("Leaders meet in Astana (2024-11-28). "), so that both count for retrieval."""
        heading = (self.title or "").strip()
        if self.date:
            heading = f"{heading} ({self.date})" if heading else self.date
        if not heading:
            return ""
        return f"{heading} " if heading[-1] in ".!?:" else f"{heading}. "

    def headed(self, start: int, end: int) -> str:
        """`text[start:end]` as it is read for retrieval: with the heading in front."""
        return self.heading + self.text[start:end]

    def page_at(self, offset: int) -> int | None:
        """The page (1-based) that `text[offset]` is on; None for a document without pages."""
        return bisect.bisect_right(self.pages, offset) if self.pages else None

    def page_spans(self) -> list[tuple[int, int]]:
        """Where each page's text starts and ends (the whole text when there are no pages)."""
        if not self.pages:
            return [(0, len(self.text))]
        ends = [start - len(formats.PAGE_SEPARATOR) for start in self.pages[1:]]
        return list(zip(self.pages, [*ends, len(self.text)]))


@dataclass(frozen=True)
class Skipped:
    """A file that was not read, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class Found:
    """A corpus file to read: its name in the index and where it is."""

    source: str
    path: Path


def is_article(name: str) -> bool:
    """Whether a file of this name is read as an article: a type in `SUFFIXES`, not hidden."""
    return not name.startswith(".") and PurePosixPath(name).suffix.lower() in SUFFIXES


def scan(
    corpus_dir: str | Path, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Found], list[Skipped]]:
    """Every article file under `corpus_dir`, in a stable order, and those refused unread.

    Hidden files and folders are left out. A symbolic link is followed only when it points
    inside the corpus folder; folders are never entered through one. A file larger than
    `max_bytes` is refused.

    Raises:
        FileNotFoundError: `corpus_dir` is not a folder (missing, or a file).
    """
    corpus_dir = Path(corpus_dir)
    if corpus_dir.exists() and not corpus_dir.is_dir():
        raise FileNotFoundError(
            f"{corpus_dir} is a file, not a folder of articles: name a folder with --corpus "
            "(or QA_CORPUS)"
        )
    if not corpus_dir.is_dir():
        raise FileNotFoundError(
            f"corpus folder {corpus_dir}/ does not exist; create it and put articles "
            f"({', '.join(SUFFIXES)}) in it, or name another with --corpus"
        )
    root = corpus_dir.resolve()
    found, skipped = [], []
    for folder, dirs, files in os.walk(corpus_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            path = Path(folder) / name
            if not is_article(name):
                continue
            source = path.relative_to(corpus_dir).as_posix()
            if not _is_utf8(source):
                skipped.append(Skipped(shown(source), _NOT_UTF8_NAME))
                continue
            reason = _refusal(path, root, max_bytes)
            if reason:
                skipped.append(Skipped(source, reason))
            else:
                found.append(Found(source, path))
        for name in dirs:
            if (Path(folder) / name).is_symlink():
                source = (Path(folder) / name).relative_to(corpus_dir).as_posix()
                skipped.append(
                    Skipped(shown(source) + "/", "a symbolic link to a folder, not followed")
                )
    found.sort(key=lambda f: f.source)
    skipped.sort(key=lambda s: s.source)
    return found, skipped


def other_files(corpus_dir: str | Path) -> list[str]:
    """The files under `corpus_dir` that are not read for their type (not in `SUFFIXES`),
    by name in the corpus, sorted. Hidden files and folders are left out, as `scan` leaves
    them out."""
    names = []
    for folder, dirs, files in os.walk(corpus_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        names += [
            (Path(folder) / name).relative_to(corpus_dir).as_posix()
            for name in files
            if not name.startswith(".") and not is_article(name)
        ]
    return sorted(names)


def shown(name: str) -> str:
    """A file name as messages show it: as is when it is printable, else quoted with
    escapes, so a newline cannot split a line and bytes that are not UTF-8 can be printed."""
    if name.isprintable():
        return name
    if not _is_utf8(name):  # os.fsdecode keeps undecodable bytes as lone surrogates
        return repr(os.fsencode(name))[1:]
    return repr(name)


def fingerprint(corpus_dir: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple:
    """A cheap summary (names, sizes, modification times) that changes when a file does."""
    found, skipped = scan(corpus_dir, max_bytes)
    stats = []
    for file in found:
        try:
            info = file.path.stat()
            stats.append((file.source, info.st_size, info.st_mtime_ns, info.st_ino))
        except OSError:
            stats.append((file.source, None, None, None))
    return tuple(stats), tuple(skipped)


def find_files(corpus_dir: Path) -> list[Path]:
    """Every readable article under `corpus_dir`, in a stable order."""
    return [found.path for found in scan(corpus_dir)[0]]


def load_corpus(
    corpus_dir: str | Path, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Document], list[Skipped]]:
    """Read every article under `corpus_dir`.

    Returns:
        The documents, and the files that could not be read with the reason for each.

    Raises:
        FileNotFoundError: `corpus_dir` is not a folder.
    """
    found, skipped = scan(corpus_dir, max_bytes)
    documents = []
    for file in found:
        try:
            documents.append(parse_document(file.source, file.path.read_bytes()))
        except (OSError, ValueError) as error:
            skipped.append(Skipped(file.source, _reason(error)))
    return documents, sorted(skipped, key=lambda s: s.source)


def parse_document(source: str, data: bytes) -> Document:
    """Parse one file's bytes, by its extension (`source` is its name in the corpus).

    Metadata the file gives (front matter, HTML `<meta>`, PDF document information) wins
    over guesses from the text.

    Raises:
        ValueError: the file is empty, binary, or cannot be parsed.
    """
    if not data.strip():
        raise ValueError("empty file")
    reader = _READERS.get(Path(source).suffix.lower(), _read_text)
    extracted = reader(data)
    text = extracted.text
    if not text.strip():
        raise ValueError("no text")
    title = extracted.title
    headline_end = _headline_end(text, title)
    if title is None:
        title = _fallback_title(text, headline_end, Path(source).stem)
    return Document(
        source=source,
        text=text,
        title=title,
        publisher=extracted.publisher,
        date=extracted.date,
        url=extracted.url,
        body_start=headline_end,
        sha256=sha256(data),
        pages=extracted.pages,
        encoding=extracted.encoding,
        notes=extracted.notes,
    )


def sha256(data: bytes) -> str:
    """The content hash that tells whether a file changed."""
    return hashlib.sha256(data).hexdigest()


def _read_text(data: bytes) -> formats.Extracted:
    """Markdown or plain text, with an optional YAML front-matter block."""
    raw, encoding = formats.decode_text(data)
    meta, text = _split_front_matter(raw)
    if not text.strip():
        raise ValueError("no text after the front matter" if meta else "empty file")
    date, notes = _field(meta, "date"), ()
    if date is not None:
        try:
            date = iso_date(date)
        except ValueError:
            date, notes = None, (f"date {date!r} is not a date; indexed without one",)
    return formats.Extracted(
        text=text,
        title=_field(meta, "title"),
        publisher=_field(meta, "publisher"),
        date=date,
        url=_field(meta, "url"),
        encoding=encoding,
        notes=notes,
    )


_READERS: dict[str, Callable[[bytes], formats.Extracted]] = {
    ".md": _read_text,
    ".txt": _read_text,
    ".html": webpage.read_html,
    ".htm": webpage.read_html,
    ".pdf": formats.read_pdf,
}


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refusal(path: Path, root: Path, max_bytes: int) -> str | None:
    """Why a file is not read at all, or None."""
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except FileNotFoundError:
            return "a broken symbolic link"
        except (OSError, RuntimeError):  # RuntimeError before Python 3.13
            return "a symbolic link loop: not followed"
        if not target.exists():
            return "a broken symbolic link"
        if not target.is_relative_to(root):
            return f"a symbolic link to {target}, outside the corpus folder: not followed"
    if not path.is_file():
        return "not a regular file"
    size = path.stat().st_size
    if size > max_bytes:
        return f"{size:,} bytes, over the {max_bytes:,}-byte limit (--max-size)"
    return None


_NOT_UTF8_NAME = "the file name is not valid UTF-8: rename the file to index it"


def _reason(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def _split_front_matter(raw: str) -> tuple[dict[str, object], str]:
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    try:
        meta = yaml.load(match.group(1) or "", Loader=_FrontMatterLoader) or {}
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
    no title given) stands alone above a blank line and more text, and does not end like a
    sentence. A line with nothing after it is the text itself ("Buy milk and eggs", a post
    ending with its date), never a headline that would leave nothing to search.
    """
    line, _, end = _first_line(text)
    if title is not None:
        return end if _fold(_unmarked(line)) == _fold(title) else 0
    if _MARKDOWN_HEADING.match(line):
        return end
    followed_by_blank = text[end:].split("\n", 1)[0].strip() == ""
    if (
        followed_by_blank
        and text[end:].strip()
        and len(line) <= 200
        and not line.endswith((".", "!", "?", ",", ";", ":"))
    ):
        return end
    return 0


def _unmarked(line: str) -> str:
    """A line without the marks of a Markdown heading ("## Title" is "Title")."""
    heading = _MARKDOWN_HEADING.match(line)
    return line[heading.end() :] if heading else line


def _fallback_title(text: str, headline_end: int, name: str) -> str:
    """A title for an article that gives none: its headline line, else the first sentence
    of its first paragraph (hard-wrapped lines joined) when that is short enough to be one,
    else the file name."""
    if headline_end:
        return " ".join(_unmarked(text[:headline_end].strip()).split()) or name
    start = len(text) - len(text.lstrip())
    blank = _BLANK_LINE.search(text, start)
    sentences = split_sentences(text, start, blank.start() if blank else len(text))
    if not sentences:
        return name
    first = " ".join(text[sentences[0][0] : sentences[0][1]].split())
    return first if len(first) <= _FALLBACK_TITLE_CHARS else name
