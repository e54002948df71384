"""File formats: bytes of a text, HTML or PDF file become plain text and its metadata."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass

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
_ISO_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
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
    return {"title": title, "date": _iso_date(date), "publisher": publisher, "url": url}


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


def _iso_date(value: str | None) -> str | None:
    """The ISO date (YYYY, YYYY-MM or YYYY-MM-DD) a metadata value starts with."""
    match = _ISO_DATE.match(value or "")
    return match.group(0) if match else None


def _clean(value: object) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]
