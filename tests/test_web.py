from __future__ import annotations

import html
from datetime import datetime, timezone

import pytest

from qa.engine import IndexInfo
from qa.index.build import BuildReport
from qa.ingest.corpus import Skipped
from qa.results import Answer, Passage, Source
from qa.web.export import conversation_markdown, copy_text
from qa.web.render import (
    MAX_UPLOAD_BYTES,
    UploadRejected,
    answer_html,
    article_html,
    card_html,
    date_filter,
    documents_html,
    info_html,
    notice_html,
    passage_html,
    report_html,
    text_html,
    unwrap,
    upload_name,
)
from qa.web.service import DocumentRow

DOCUMENT = "Headline\nFirst sentence here. The <b>answer</b> is 42. Last one.\nMore text."


def _passage(**changes) -> Passage:
    start = DOCUMENT.index("First")
    end = DOCUMENT.index("\nMore")
    sentence = DOCUMENT.index("The <b>")
    fields = dict(
        text=DOCUMENT[start:end],
        score=0.71234,
        source="news/a.md",
        title="A <i>title</i>",
        publisher="The Times",
        date="2024-11-28",
        start=start,
        end=end,
        chunk_id="news/a.md#0",
        sentence_start=sentence,
        sentence_end=DOCUMENT.index(" Last"),
    )
    return Passage(**{**fields, **changes})


def test_text_html_shows_markup_literally_and_keeps_nothing_live():
    text = "<script>alert('1')</script> <img src=x onerror=\"alert(2)\">"
    text += " [a](http://e.x) ![i](y) $x$ &#35; &amp;"
    out = text_html(text)
    assert "<" not in out.replace("<br>", "") and ">" not in out.replace("<br>", "")
    for sign in "[]()!$":
        assert sign not in out
    assert html.unescape(out) == text


def test_text_html_joins_wrapped_lines_and_keeps_paragraphs_and_list_items():
    wrapped = "A line of source text that was wrapped at about sixty\ncharacters"
    assert text_html(f"Heading\n{wrapped}\n\n \n\nc") == (
        "Heading<br>A line of source text that was wrapped at about sixty characters<br><br>c"
    )
    joined = wrapped.replace("\n", " ")
    assert text_html(f"{wrapped}:\n- one\n2. two") == f"{joined}:<br>- one<br>2. two"


def test_unwrap_keeps_every_offset():
    text = "The Collective Security Treaty, the founding text, was\nsigned in 1992.\n\nShort\nline"
    joined = unwrap(text)
    assert joined == (
        "The Collective Security Treaty, the founding text, was signed in 1992.\n\nShort\nline"
    )
    assert len(joined) == len(text)
    start = text.index("signed")
    assert joined[start : start + 6] == "signed"


def test_notices_keep_their_lines():
    assert notice_html("one\ntwo", "ok") == '<div class="qa-notice qa-ok">one<br>two</div>'


def test_passage_html_highlights_exactly_the_answer_sentence():
    out = passage_html(_passage())
    assert out == (
        "First sentence here. "
        '<mark class="qa-sentence">The &lt;b&gt;answer&lt;/b&gt; is 42.</mark>'
        " Last one."
    )


def test_passage_html_without_a_sentence_span_has_no_highlight():
    passage = _passage(sentence_start=0, sentence_end=0)
    assert "<mark" not in passage_html(passage)


def test_article_html_marks_the_passage_inside_the_whole_text():
    out = article_html(DOCUMENT, _passage())
    assert out.startswith('Headline<br><mark class="qa-marked">First sentence here. ')
    assert out.endswith("Last one.</mark> More text.")  # a wrapped line: joined
    assert out.count('<mark class="qa-sentence">') == 1


def test_card_shows_source_fields_escaped():
    card = card_html(2, _passage(page=7))
    assert '<span class="qa-rank">2</span>' in card
    assert "A &lt;i&gt;title&lt;/i&gt;" in card and "<i>" not in card
    assert "The Times · 2024-11-28 · " in card and "news/a.md" in card
    assert "page 7" in card and "0.712" not in card  # the fused rank score is not shown
    assert "Also in" not in card and "<details" not in card


def test_card_renders_also_in_and_the_article_expander():
    copy = Source("wire/b.md", "Copy <b>", "Wire", None, 0, 10, "wire/b.md#3", page=2)
    card = card_html(1, _passage(also_in=[copy]), article=DOCUMENT)
    assert "Also in:" in card
    assert "<strong>Copy &lt;b&gt;</strong> · Wire · " in card and "page 2" in card
    assert "<details" in card and "Whole article" in card


def test_also_in_the_same_file_says_so_instead_of_naming_the_file_again():
    repeat = Source("news/a.md", "A <i>title</i>", "The Times", None, 90, 120, "news/a.md#4")
    card = card_html(1, _passage(also_in=[repeat]))
    also = card[card.index("Also in:") :]
    assert "<li>elsewhere in this article</li>" in also and "news/a.md" not in also


def test_answer_html_puts_the_cited_answer_sentence_first_and_numbers_every_card():
    passage, other = _passage(), _passage(chunk_id="news/a.md#1", title="Other")
    answer = Answer("q?", passage.sentence, [passage, other], passage.source, found=True)
    out = answer_html(answer, {passage.source: DOCUMENT})
    assert out.index("qa-answer-text") < out.index("qa-card")
    cite = '<a class="qa-cite" href="#" title="Show source {0}">[{0}]</a>'
    assert f"The &lt;b&gt;answer&lt;/b&gt; is 42. {cite.format(1)}</blockquote>" in out
    assert f"Passages {cite.format(1)} {cite.format(2)}<button" in out
    assert out.count('<div class="qa-card"') == 2
    assert "No passage" in answer_html(Answer("q?", "", []))


def test_answer_html_marks_the_exact_words_inside_the_answer_sentence():
    passage = _passage()
    at = DOCUMENT.index("42")
    answer = Answer(
        "q?", passage.sentence, [passage], passage.source, passage.sentence_start,
        passage.sentence_end, confidence=0.9, found=True, exact="42", exact_start=at,
        exact_end=at + 2,
    )  # fmt: skip
    out = answer_html(answer)
    assert 'The &lt;b&gt;answer&lt;/b&gt; is <mark class="qa-exact">42</mark>.' in out
    assert '<mark class="qa-exact">' not in answer_html(
        Answer("q?", passage.sentence, [passage], passage.source, found=True)
    )


def test_copy_text_is_the_answer_with_its_citation():
    passage = _passage(page=3)
    answer = Answer("q?", passage.sentence, [passage], passage.source)
    start, end = passage.start, passage.end
    assert copy_text(answer) == (
        "“The <b>answer</b> is 42.” [1]\n\n"
        f"[1] A <i>title</i>, The Times, 2024-11-28, news/a.md, page 3, characters {start}–{end}"
    )
    assert copy_text(Answer("q?", "", [])) == ""


def test_conversation_markdown_cites_every_source_of_every_answer():
    first = _passage()
    second = _passage(source="b.md", title="B", publisher=None, date=None, start=5, end=9)
    answers = [
        Answer("Who?", first.sentence, [first, second], first.source, confidence=0.9, found=True),
        Answer("Nothing?", "", []),
        Answer("Elsewhere?", first.sentence, [first], first.source, confidence=0.1),
    ]
    out = conversation_markdown(answers, datetime(2024, 11, 28, 10, 0, tzinfo=timezone.utc))
    assert out.startswith("# Questions and answers\n\nExported 2024-11-28 10:00 UTC.")
    assert (
        "## 1. Who?\n\n> The <b>answer</b> is 42. [1]\n\n"
        "Confidence: likely right (0.90).\n\nSources:\n\n"
    ) in out
    assert (
        f"1. A <i>title</i>, The Times, 2024-11-28, news/a.md, "
        f"characters {first.start}–{first.end}\n2. B, b.md, characters 5–9\n"
    ) in out
    assert "## 2. Nothing?\n\nNo passage matches" in out
    assert (
        "## 3. Elsewhere?\n\nNot found in these articles. Confidence: unlikely (0.10).\n\n"
        "The closest passages, which may not answer the question:\n\n1. A <i>title</i>"
    ) in out


def test_documents_html_lists_articles_and_the_files_left_out():
    rows = [
        DocumentRow("a.md", "A <i>", "Times", "2024", 7),
        DocumentRow("b.md", "B", None, None, 1),
    ]
    out = documents_html(rows, [Skipped("bad.pdf", "not a readable PDF")])
    assert '<td>A &lt;i&gt;</td><td>Times</td><td>2024</td><td class="qa-num">7</td>' in out
    assert "<td>B</td><td></td><td></td>" in out
    assert '<code class="qa-file">bad.pdf</code>: not a readable PDF' in out
    assert "No article is indexed" in documents_html([], [])


def test_answer_html_gives_the_confidence_in_words_and_no_similarity():
    passage = _passage()
    found = Answer("q?", passage.sentence, [passage], passage.source, confidence=0.86, found=True)
    out = html.unescape(answer_html(found))
    assert "Confidence: likely right (0.86)" in out and "qa-answer-text" in out
    assert "similarity" not in out and "0.712" not in out  # the rank score is no confidence


def test_a_not_found_answer_shows_no_answer_sentence_and_labels_the_passages():
    passage = _passage()
    answer = Answer("q?", passage.sentence, [passage], passage.source, confidence=0.1)
    out = html.unescape(answer_html(answer))
    assert "Not found in these articles" in out and "qa-answer-text" not in out
    assert out.index("closest passages") < out.index("qa-card")
    assert "unlikely (0.10)" in out


def test_info_html_lists_the_index_or_says_why_there_is_none():
    info = IndexInfo(5, 48, "all-MiniLM-L6-v2", "2024-11-28T10:00:00+00:00", ("a.md",))
    out = info_html(info)
    assert "<dd>5</dd>" in out and "<dd>48</dd>" in out and "2024-11-28 10:00:00 UTC" in out
    assert "run &#96;qa index&#96;" in info_html(None, "no index: run `qa index`")


def test_report_html_keeps_an_uploads_rejections_beside_its_build():
    report = BuildReport(6, 50, 0.5, added=["note.md"], unchanged=["a.md"] * 5, generation="g")
    out = report_html(report, ["tool.exe: only .md files are accepted"])
    assert out.startswith(
        '<div class="qa-notice qa-error">Rejected tool.exe: only .md files are accepted<br>'
        "Indexed 6 documents"
    )
    assert out.endswith("added note.md</div>")
    assert (
        report_html(None, ["x.sh: no"]) == '<div class="qa-notice qa-error">Rejected x.sh: no</div>'
    )
    assert report_html(None) == ""


def test_report_html_lists_what_a_rebuild_did_and_why_files_were_skipped():
    report = BuildReport(
        documents=6,
        passages=52,
        seconds=2.04,
        skipped=[Skipped("bad <b>.pdf", "not a readable PDF")],
        added=["new.html"],
        changed=["a.md"],
        removed=["gone.md"],
        unchanged=["b.md", "c.md", "d.md", "e.md"],
        embedded=7,
        embedded_sentences=31,
        notes=[Skipped("old.txt", "not UTF-8: decoded as cp1252")],
        generation="gen-1",
    )
    assert report_html(report) == (
        '<div class="qa-notice qa-error">'
        "Indexed 6 documents, 52 passages in 2.0 s &#40;updated&#41;.<br>"
        "added 1 · changed 1 · removed 1 · unchanged 4 · skipped 1 · "
        "embedded 7 passages, 31 sentences<br>"
        "added new.html<br>changed a.md<br>removed gone.md<br>"
        "skipped bad &lt;b&gt;.pdf: not a readable PDF<br>"
        "note old.txt: not UTF-8: decoded as cp1252</div>"
    )
    nothing = BuildReport(5, 48, 0.31, unchanged=["a.md"] * 5)
    assert report_html(nothing) == (
        '<div class="qa-notice qa-ok">'
        "Indexed 5 documents, 48 passages in 0.3 s &#40;no changes&#41;.<br>"
        "added 0 · changed 0 · removed 0 · unchanged 5 · skipped 0 · "
        "embedded 0 passages, 0 sentences</div>"
    )
    many = BuildReport(30, 60, 1.0, added=[f"{n:02}.md" for n in range(25)], generation="gen-2")
    out = report_html(many)
    assert "added 19.md<br>added … and 5 more" in out and "20.md" not in out


@pytest.mark.parametrize(
    "value, expected",
    [
        ("", None),
        (" 2024 ", "2024"),
        ("2024-02", "2024-02"),
        ("2024/01/01", "2024-01-01"),
        ("November 2024", "2024-11"),
    ],
)
def test_date_filter_accepts_partial_iso_and_written_dates(value, expected):
    assert date_filter(value) == expected


@pytest.mark.parametrize("value", ["24", "2024-13", "01/01/2024", "yesterday"])
def test_date_filter_rejects_other_dates(value):
    with pytest.raises(ValueError, match="YYYY"):
        date_filter(value)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("a.md", "a.md"),
        ("dir/sub/b.TXT", "b.TXT"),
        ("page.html", "page.html"),
        ("old.HTM", "old.HTM"),
        ("report.pdf", "report.pdf"),
    ],
)
def test_upload_name_keeps_only_the_base_name(name, expected):
    assert upload_name(name, 10) == expected


@pytest.mark.parametrize(
    "name, size, reason",
    [
        ("../etc/x.md", 10, "'..'"),
        ("a/../../x.md", 10, "'..'"),
        ("/etc/x.md", 10, "absolute"),
        ("C:\\x.md", 10, "absolute"),
        ("\\\\server\\x.md", 10, "absolute"),
        (".hidden.md", 10, "hidden"),
        ("", 10, "usable"),
        ("run.sh", 10, "only .md, .txt, .html, .htm, .pdf files are accepted"),
        ("a.md\x00.sh", 10, "usable"),
        ("empty.md", 0, "empty"),
        ("big.md", MAX_UPLOAD_BYTES + 1, "limit"),
    ],
)
def test_upload_name_rejects_with_the_reason(name, size, reason):
    with pytest.raises(UploadRejected, match=reason.replace(".", r"\.").replace("(", r"\(")):
        upload_name(name, size)
