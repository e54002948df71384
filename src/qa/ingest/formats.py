"""File formats: bytes of a text, HTML or PDF file become plain text and its metadata."""

from __future__ import annotations

import codecs
import io
import json
import logging
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

from qa.dates import date_or_none

# Tried in order when a text file is not UTF-8: cp1252 is what most non-UTF-8 Western
# text is; latin-1 decodes any byte, so the last step cannot fail.
FALLBACK_ENCODINGS = ("cp1252", "latin-1")
PAGE_SEPARATOR = "\n\n"  # between PDF pages: a blank line, so no sentence crosses it

_LINE_BREAK = "\ue000"  # stands for <br> while the page's own white space is folded
_JUNK_TAGS = (
    "script style noscript template iframe svg canvas form button select nav header footer "
    "aside menu dialog"
).split()
_JUNK_NAMES = re.compile(
    r"^(nav|navbar|navigation|menu|sidebar|breadcrumbs?|cookies?|banner|footer|share|"
    r"social|related|advert|ads?|promo|newsletter|comments?|subscribe)$"
)
_BLOCKS = (
    "p div section article main h1 h2 h3 h4 h5 h6 li ul ol dl dt dd blockquote pre table tr "
    "figcaption address hr"
).split()
# Byte-order marks that say which Unicode encoding a text file is in (UTF-32 first: its
# little-endian mark starts with UTF-16's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DATE_META = (
    "article:published_time",
    "og:published_time",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "pubdate",
    "publish-date",
    "sailthru.date",
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
            _refuse_binary(text.encode("utf-8"))
            return text, encoding
    _refuse_binary(data)
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


def read_html(data: bytes) -> Extracted:
    """The main text of an HTML page, without scripts, styles, menus and page furniture.

    The article is the page's `<article>` (or `<main>`, else `<body>`); title, date,
    publisher and URL come from its metadata (Open Graph, `<meta>`, JSON-LD, `<time>`,
    `<title>`).

    Raises:
        ValueError: the bytes are binary data, or the page has no text.
    """
    from bs4 import BeautifulSoup

    if not data.startswith(tuple(mark for mark, _ in _BOMS)):  # else lxml decodes UTF-16/32
        _refuse_binary(data)
    soup = BeautifulSoup(data, "lxml")
    encoding = soup.original_encoding
    meta = _html_metadata(soup)
    root = soup.find("article") or soup.find("main") or soup.find(attrs={"role": "main"})
    root = root or soup.body or soup
    for element in root.find_all(_JUNK_TAGS):
        element.decompose()
    for element in root.find_all(_is_furniture):
        element.decompose()
    for element in root.find_all("br"):
        element.replace_with(_LINE_BREAK)
    for element in root.find_all(_BLOCKS):
        element.insert_before("\n\n")
        element.insert_after("\n\n")
    # Blocks become paragraphs and <br> a line break; white space in the source is a space.
    paragraphs = (
        "\n".join(filter(None, (" ".join(line.split()) for line in part.split(_LINE_BREAK))))
        for part in re.split(r"\n\s*\n", root.get_text())
    )
    text = "\n\n".join(filter(None, paragraphs))
    if not text:
        raise ValueError("the page has no text")
    declared = None if encoding in (None, "utf-8", "ascii") else encoding
    return Extracted(text=text, encoding=declared, **meta)


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


def _refuse_binary(data: bytes) -> None:
    """Text has no NUL bytes and few control characters; anything else is binary data."""
    head = data[:8192]
    controls = sum(1 for byte in head if byte < 32 and byte not in b"\t\n\r\f\v\x1b")
    if b"\x00" in head or controls > len(head) // 20:
        raise ValueError("binary data, not text")


def _tidy_page(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _is_furniture(tag) -> bool:
    """An element whose id or class names page furniture (a menu, a share bar, …)."""
    names = [tag.get("id") or "", *(tag.get("class") or [])]
    if tag.get("role") in ("navigation", "banner", "contentinfo", "complementary"):
        return True
    return any(_JUNK_NAMES.match(part) for name in names for part in re.split(r"[-_ ]", name))


def _html_metadata(soup) -> dict[str, str | None]:
    def meta(*keys: str) -> str | None:
        for key in keys:
            for attribute in ("property", "name", "itemprop"):
                tag = soup.find("meta", attrs={attribute: re.compile(f"^{re.escape(key)}$", re.I)})
                if tag and _clean(tag.get("content")):
                    return _clean(tag.get("content"))
        return None

    linked = _json_ld(soup)
    title = meta("og:title", "twitter:title", "title", "dc.title") or _clean(linked.get("headline"))
    if title is None and soup.title:
        title = _clean(soup.title.get_text())
    time_tag = soup.find("time", attrs={"datetime": True})
    date = (
        meta(*_DATE_META)
        or _clean(linked.get("datePublished"))
        or (_clean(time_tag.get("datetime")) if time_tag else None)
    )
    publisher = meta("og:site_name", "publisher", "dc.publisher") or _clean(
        (linked.get("publisher") or {}).get("name")
        if isinstance(linked.get("publisher"), dict)
        else None
    )
    canonical = soup.find("link", rel="canonical")
    url = meta("og:url") or (_clean(canonical.get("href")) if canonical else None)
    return {"title": title, "date": date_or_none(date), "publisher": publisher, "url": url}


def _json_ld(soup) -> dict:
    """The first schema.org article object in the page's JSON-LD, or {}."""
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        try:
            data = json.loads(script.string or "")
        except ValueError:
            continue
        items = data if isinstance(data, list) else data.get("@graph", [data])
        for item in items:
            if isinstance(item, dict) and ("datePublished" in item or "headline" in item):
                return item
    return {}


def _clean(value: object) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]
