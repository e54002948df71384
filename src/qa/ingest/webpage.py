"""Saved web pages: the article's main text (trafilatura) and the page's metadata."""

from __future__ import annotations

import json
import re
from copy import deepcopy
from functools import lru_cache

from qa.dates import date_or_none
from qa.ingest.formats import FALLBACK_ENCODINGS, Extracted, decode_text

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_LINE_BREAK = "\ue000"  # stands for <br> while the page's own white space is folded
# Elements of trafilatura's output (its XML: p, head, list/item, quote, code, table/row/cell,
# lb) that are paragraphs of their own; a table cell is set off by spaces.
_BLOCKS = frozenset("p head list item quote code table row".split())
# trafilatura's precision mode: menus and headline lists stay out more often, for a little
# less recall; it scored the higher F1 in bench/html.py (BENCHMARKS.md).
FAVOR_PRECISION = True
_TITLE_META = ("og:title", "twitter:title", "title", "dc.title")
_PUBLISHER_META = ("og:site_name", "publisher", "dc.publisher")


def read_html(data: bytes) -> Extracted:
    """The main text of a saved web page, without menus, teasers, comments and furniture.

    The article is found by trafilatura (its own fallbacks included, so a page that has
    text always yields some). Each block (paragraph, heading, list item, quote, table row)
    is a paragraph and `<br>` a line break. Title, publisher and URL come from the page's
    metadata (Open Graph, `<meta>`, JSON-LD, `<title>`, `<link rel="canonical">`), else
    from trafilatura's. The date is htmldate's (through trafilatura), from the page's
    address, metadata or text ("November 19, 2019"): a timestamp counts on its own day, the
    address's day wins over a UTC timestamp, and a placeholder such as 0001-01-01 is no date.

    Raises:
        ValueError: the bytes are binary data, or the page has no text.
    """
    import lxml.html
    import trafilatura

    markup, encoding = _decode(data)
    try:
        tree = lxml.html.document_fromstring(_XML_DECLARATION.sub("", markup, count=1))
    except (ValueError, lxml.etree.ParserError):
        raise ValueError("the page has no text") from None
    own = _page_metadata(tree)
    found = trafilatura.bare_extraction(
        tree,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=FAVOR_PRECISION,
        as_dict=False,
        config=_config(),
    )
    text = _flatten(found.body) if found is not None else ""
    if not text:
        text = _flatten(trafilatura.baseline(tree)[0])
    if not text:
        raise ValueError("the page has no text")
    return Extracted(
        text=text,
        title=own["title"] or _clean(getattr(found, "title", None)),
        publisher=_publisher(own["publisher"], _clean(getattr(found, "sitename", None))),
        date=date_or_none(getattr(found, "date", None)),
        url=own["url"] or _clean(getattr(found, "url", None)),
        encoding=encoding,
    )


@lru_cache(maxsize=1)
def _config():
    """trafilatura's settings, with no minimum length: a short page (a post, a notice) is
    still an article, where trafilatura would otherwise give up on it."""
    from trafilatura.settings import use_config

    config = use_config()
    for key in ("MIN_EXTRACTED_SIZE", "MIN_OUTPUT_SIZE"):
        config.set("DEFAULT", key, "1")
    return config


def _decode(data: bytes) -> tuple[str, str | None]:
    """The page as text: as `decode_text` reads a text file (a byte-order mark, else UTF-8),
    but a page that is not UTF-8 by the charset it declares before the fallbacks.

    Returns:
        The text, and the encoding used when it was not UTF-8 (None for UTF-8).

    Raises:
        ValueError: the bytes are binary data, or there is nothing but white space.
    """
    from bs4.dammit import EncodingDetector

    text, encoding = decode_text(data)
    if not text.strip():
        raise ValueError("the page has no text")
    if encoding in FALLBACK_ENCODINGS:
        declared = EncodingDetector.find_declared_encoding(data, is_html=True)
        try:
            return (data.decode(declared), declared) if declared else (text, encoding)
        except (LookupError, UnicodeDecodeError):
            pass
    return text, encoding


def _flatten(body) -> str:
    """The text of an extracted body: blocks become paragraphs (blank line between them),
    `<lb/>` a line break, and runs of white space inside a line one space."""
    if body is None:
        return ""
    body = deepcopy(body)  # the caller's tree stays as it was
    for element in body.iter():
        if element.tag == "lb":
            element.tail = _LINE_BREAK + (element.tail or "")
        elif element.tag in _BLOCKS:
            element.text = "\n\n" + (element.text or "")
            element.tail = "\n\n" + (element.tail or "")
        elif element.tag == "cell":
            element.text = " " + (element.text or "")
            element.tail = " " + (element.tail or "")
    paragraphs = (
        "\n".join(filter(None, (" ".join(line.split()) for line in part.split(_LINE_BREAK))))
        for part in re.split(r"\n\s*\n", "".join(body.itertext()))
    )
    return "\n\n".join(filter(None, paragraphs))


def _page_metadata(tree) -> dict[str, str | None]:
    """Title, publisher and URL as the page states them, best source first."""
    linked = _json_ld(tree)
    title = _meta(tree, _TITLE_META) or _clean(linked.get("headline"))
    if title is None:
        title = _clean(" ".join(tree.xpath("//head/title//text()")))
    publisher = linked.get("publisher")
    canonical = tree.xpath("//link[@rel='canonical']/@href")
    return {
        "title": title,
        "publisher": _meta(tree, _PUBLISHER_META)
        or (_clean(publisher.get("name")) if isinstance(publisher, dict) else None),
        "url": _meta(tree, ("og:url",)) or (_clean(canonical[0]) if canonical else None),
    }


def _meta(tree, keys: tuple[str, ...]) -> str | None:
    """The first non-empty `<meta>` content named by one of `keys` (property, name or
    itemprop, any case)."""
    contents: dict[str, str] = {}
    for tag in tree.iter("meta"):
        content = _clean(tag.get("content"))
        for attribute in ("property", "name", "itemprop"):
            key = (tag.get(attribute) or "").strip().casefold()
            if key and content:
                contents.setdefault(key, content)
    return next((contents[key] for key in keys if key in contents), None)


def _json_ld(tree) -> dict:
    """The first schema.org article object in the page's JSON-LD, or {}."""
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        items = data if isinstance(data, list) else data.get("@graph", [data])
        for item in items:
            if isinstance(item, dict) and ("datePublished" in item or "headline" in item):
                return item
    return {}


def _publisher(stated: str | None, guessed: str | None) -> str | None:
    """The page's stated site name, unless it is only a slug or an address ("usatoday",
    "https://…") and trafilatura read a proper name ("USA TODAY")."""
    if stated and (stated.islower() or stated.startswith(("http://", "https://"))) and guessed:
        return guessed
    return stated or guessed


def _clean(value: object) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None
