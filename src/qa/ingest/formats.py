"""File formats: bytes of a text or PDF file become plain text and its metadata (web pages:
`qa.webpage`)."""

from __future__ import annotations

import io
from dataclasses import dataclass

# Tried in order when a text file is not UTF-8: cp1252 is what most non-UTF-8 Western
# text is; latin-1 decodes any byte, so the last step cannot fail.
FALLBACK_ENCODINGS = ("cp1252", "latin-1")
PAGE_SEPARATOR = "\n\n"  # between PDF pages: a blank line, so no sentence crosses it


@dataclass(frozen=True)
class Extracted:
    """What a reader got out of a file.

    Attributes:
        text: the plain text; passage offsets index it.
        title, publisher, date, url: from the file's own metadata, None when it has none.
        pages: for paged formats, where each page starts in `text` (page 1 at `pages[0]`).
        encoding: the text encoding used, when it was not UTF-8 (a fallback, or declared).
    """

    text: str
    title: str | None = None
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    pages: tuple[int, ...] = ()
    encoding: str | None = None


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode a text file: UTF-8, else the first of `FALLBACK_ENCODINGS` that works.

    Returns:
        The text, and the fallback encoding used (None for UTF-8).

    Raises:
        ValueError: the bytes are binary data, not text.
    """
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

    Raises:
        ValueError: the file is not a readable PDF, is encrypted, or has no text layer.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValueError("the PDF is encrypted")
        texts = [_tidy_page(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except (PyPdfError, OSError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a readable PDF ({_first_line(error)})") from None
    if not any(texts):
        raise ValueError("the PDF has no text layer (scanned pages?)")
    pages, text = [], ""
    for number, page_text in enumerate(texts):
        if number:
            text += PAGE_SEPARATOR
        pages.append(len(text))
        text += page_text
    title = _clean(info.title) if info else None
    created = info.creation_date if info else None
    return Extracted(
        text=text,
        title=title,
        date=created.date().isoformat() if created else None,
        pages=tuple(pages),
    )


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
