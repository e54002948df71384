from __future__ import annotations

import pytest
from tests.pdfs import pdf_bytes

from qa.ingest.corpus import parse_document
from qa.ingest.formats import decode_text

PAGE = b"""<!doctype html>
<html><head>
  <meta charset="utf-8">
  <title>Summit ends | Daily News</title>
  <meta property="og:title" content="Leaders Sign Astana Declaration">
  <meta property="og:site_name" content="Daily News">
  <meta property="article:published_time" content="2024-11-28T18:05:00+05:00">
  <link rel="canonical" href="https://example.org/astana">
  <style>body { color: red }</style>
  <script>var tracking = "Buy now";</script>
</head><body>
  <nav><a href="/">Home</a> <a href="/world">World</a></nav>
  <div class="cookie-banner">We use cookies.</div>
  <article>
    <header><h1>Leaders Sign Astana Declaration</h1></header>
    <p>The leaders met in Astana on Thursday.<br>They signed the declaration.</p>
    <div class="share-bar">Share on Facebook</div>
    <p>The next session will be held in Moscow.</p>
    <script>alert("inline")</script>
  </article>
  <aside>Most read: something else</aside>
  <footer>Copyright Daily News</footer>
</body></html>"""


def test_html_main_text_without_scripts_styles_or_menus():
    document = parse_document("news/astana.html", PAGE)
    assert document.text == (
        "The leaders met in Astana on Thursday.\nThey signed the declaration.\n\n"
        "The next session will be held in Moscow."
    )
    for junk in ("Home", "cookies", "Buy now", "color", "Facebook", "Most read", "Copyright"):
        assert junk not in document.text


def test_html_metadata_comes_from_the_page():
    document = parse_document("news/astana.htm", PAGE)
    assert (document.title, document.publisher, document.date, document.url) == (
        "Leaders Sign Astana Declaration",
        "Daily News",
        "2024-11-28",
        "https://example.org/astana",
    )


def test_html_without_metadata_falls_back_to_title_tag_and_json_ld():
    page = (
        b'<html><head><title>Plain page</title><script type="application/ld+json">'
        b'{"@type": "NewsArticle", "datePublished": "2023-07-01"}</script></head>'
        b"<body><p>Only a paragraph here.</p></body></html>"
    )
    document = parse_document("plain.html", page)
    assert (document.title, document.date, document.text) == (
        "Plain page",
        "2023-07-01",
        "Only a paragraph here.",
    )


def test_pdf_text_per_page_with_page_offsets():
    data = pdf_bytes(
        [
            ["Summit Report", "The summit met in Astana.", "It signed ten documents."],
            ["The treaty dates from 1992."],
        ],
        title="Summit Report",
        created="20241128",
    )
    document = parse_document("report.pdf", data)
    assert (document.title, document.date) == ("Summit Report", "2024-11-28")
    assert document.text[document.body_start :].startswith("The summit met in Astana.")
    first, second = document.page_spans()
    assert document.text[first[0] : first[1]].endswith("It signed ten documents.")
    assert document.text[second[0] : second[1]] == "The treaty dates from 1992."
    assert document.page_at(first[0]) == 1 and document.page_at(second[0]) == 2


def test_pdf_metadata_wins_over_the_first_line():
    data = pdf_bytes([["A first line", "", "Body text of the report."]], title="Real Title")
    assert parse_document("x.pdf", data).title == "Real Title"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "not a readable PDF"),
        (b"not a pdf at all, just words", "not a readable PDF"),
        (pdf_bytes([[]]), "no text layer"),
    ],
)
def test_bad_pdfs_are_refused_with_a_reason(data, reason):
    with pytest.raises(ValueError, match=reason):
        parse_document("bad.pdf", data)


def test_non_utf8_text_decodes_with_the_stated_fallback():
    text, encoding = decode_text("Caf\u00e9 \u201cquoted\u201d".encode("cp1252"))
    assert (text, encoding) == ("Caf\u00e9 \u201cquoted\u201d", "cp1252")
    assert decode_text(b"\x81\x8d caf\xe9")[1] == "latin-1"  # undefined in cp1252
    assert decode_text(b"plain")[1] is None
    document = parse_document("old.txt", "Caf\u00e9 society met.".encode("cp1252"))
    assert (document.text, document.encoding) == ("Caf\u00e9 society met.", "cp1252")


@pytest.mark.parametrize("name", ["photo.txt", "photo.md", "photo.html"])
def test_binary_data_with_a_text_extension_is_refused(name):
    with pytest.raises(ValueError, match="binary data, not text"):
        parse_document(name, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))


STORY = "".join(
    f"<p>The river council met on day {day} and agreed to rebuild bridge number {day} before "
    "the spring floods reach the valley towns.</p>"
    for day in range(1, 6)
)


def test_html_story_is_found_when_the_first_article_is_a_comment():
    page = f"""<html><head><title>Bridges | Valley Post</title></head><body>
    <nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav>
    <aside class="sidebar"><article class="comment"><p>Joe: great post, thanks!</p></article>
    </aside>
    <div class="entry-content">{STORY}</div>
    <section id="comments"><h3>2 comments</h3>
      <article class="comment"><p>Anna: I drive over bridge 3 every day.</p></article>
    </section></body></html>"""
    document = parse_document("bridges.html", page.encode())
    paragraphs = document.text.split("\n\n")
    assert len(paragraphs) == 5
    assert paragraphs[0].startswith("The river council met on day 1 and agreed")
    assert paragraphs[4].endswith("number 5 before the spring floods reach the valley towns.")
    for junk in ("Joe", "Anna", "comments", "Home"):
        assert junk not in document.text


@pytest.mark.parametrize(
    ("head", "body"),
    [
        # a placeholder is not a date; the date written on the page is
        (
            '<meta property="article:published_time" content="0001-01-01T00:00:00Z">',
            "<p>Published 7:07 PM EST November 19, 2019</p>",
        ),
        ("", "<p>November 19, 2019</p>"),
        ('<meta property="article:published" content="2019-11-19T10:00:00">', ""),
        # late evening in New York is the next day in UTC: the page's date is its own
        ('<meta property="article:published_time" content="2019-11-19T22:30:00-05:00">', ""),
        (
            '<link rel="canonical" href="https://news.example.com/2019/11/19/bridges">'
            '<meta property="article:published_time" content="2019-11-20T03:30:00Z">',
            "",
        ),
    ],
)
def test_html_date_is_the_pages_own_day(head, body):
    page = f"<html><head>{head}</head><body>{body}{STORY}</body></html>"
    assert parse_document("dated.html", page.encode()).date == "2019-11-19"


def test_html_page_with_a_short_text_is_read_not_refused():
    page = b"<html><body><div>Photo: the new bridge at dawn.</div></body></html>"
    assert parse_document("short.html", page).text == "Photo: the new bridge at dawn."
