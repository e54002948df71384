"""File formats: bytes of a text or PDF file become plain text and its metadata (saved web
pages: `qa.ingest.webpage`)."""

from __future__ import annotations

import codecs
import io
import logging
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

# Tried in order when a text file is not UTF-8: cp1252 is what most non-UTF-8 Western
# text is; latin-1 decodes any byte, so the last step cannot fail.
FALLBACK_ENCODINGS = ("cp1252", "latin-1")
PAGE_SEPARATOR = "\n\n"  # between PDF pages: a blank line, so no sentence crosses it

# Byte-order marks that say which Unicode encoding a text file is in (UTF-32 first: its
# little-endian mark starts with UTF-16's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Extracted:
    """What a reader got out of a file.

    Attributes:
        text: the plain text; passage offsets index it.
        title, publisher, date, url: from the file's own metadata, None when it has none.
        pages: for paged formats, where each page starts in `text` (page 1 at `pages[0]`).
        encoding: the text encoding used, when it was not UTF-8 (a fallback, or declared).
        notes: remarks about the file worth telling its owner (a date that was not one, a
            PDF reader's warnings).
    """

    text: str
    title: str | None = None
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    pages: tuple[int, ...] = ()
    encoding: str | None = None
    notes: tuple[str, ...] = ()


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode a text file: UTF-8, else the first of `FALLBACK_ENCODINGS` that works.

    A byte-order mark of UTF-16 or UTF-32 names the encoding.

    Returns:
        The text, and the encoding used when it was not UTF-8 (None for UTF-8).

    Raises:
        ValueError: the bytes are binary data, not text.
    """
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                break
            refuse_binary(text.encode("utf-8"))
            return text, encoding
    refuse_binary(data)
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    for encoding in FALLBACK_ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def read_pdf(data: bytes) -> Extracted:
    """The text of a PDF, page by page, joined by `PAGE_SEPARATOR`.

    Title and date come from the document information (`/Title`, `/CreationDate`).

    An encrypted PDF that opens with an empty password (one that only restricts printing or
    copying) is read; the reader's warnings become the document's notes.

    Raises:
        ValueError: the file is not a readable PDF, needs a password, or has no text layer.
    """
    from pypdf import PdfReader

    with _pdf_warnings() as said:
        try:
            reader = PdfReader(io.BytesIO(data))
            locked = reader.is_encrypted and not reader.decrypt("")
            if not locked:
                texts = [_tidy_page(page.extract_text() or "") for page in reader.pages]
                info = reader.metadata
        # A damaged or hostile file can break the parser in any way (PyPdfError, KeyError,
        # RecursionError, ...); it is one unreadable file, never a failed build.
        except Exception as error:
            raise ValueError(f"not a readable PDF ({_first_line(error)})") from None
    if locked:
        raise ValueError("encrypted PDF: needs a password")
    if not any(texts):
        raise ValueError("the PDF has no text layer (scanned pages?)")
    pages, text = [], ""
    for number, page_text in enumerate(texts):
        if number:
            text += PAGE_SEPARATOR
        pages.append(len(text))
        text += page_text
    title = _clean(info.title) if info else None
    try:
        created = info.creation_date if info else None
    except ValueError:  # a /CreationDate pypdf cannot read: the document is undated
        created = None
    return Extracted(
        text=text,
        title=title,
        date=created.date().isoformat() if created else None,
        pages=tuple(pages),
        notes=(f"PDF reader: {'; '.join(dict.fromkeys(said))}",) if said else (),
    )


@contextmanager
def _pdf_warnings():
    """Collect what pypdf says while it reads one file (its log and its warnings) instead of
    letting it reach the terminal without the file's name; yields the list of messages."""
    said: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(_first_line(Exception(record.getMessage())))

    logger = logging.getLogger("pypdf")
    handler, propagate = _Collect(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield said
        said.extend(_first_line(Exception(str(w.message))) for w in caught)
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def refuse_binary(data: bytes) -> None:
    """Text has no NUL bytes and few control characters; anything else is binary data.

    Raises:
        ValueError: the bytes are binary data.
    """
    head = data[:8192]
    controls = sum(1 for byte in head if byte < 32 and byte not in b"\t\n\r\f\v\x1b")
    if b"\x00" in head or controls > len(head) // 20:
        raise ValueError("binary data, not text")


def _tidy_page(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _clean(value: object) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]
