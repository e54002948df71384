"""The web chat's pieces that need no browser: inert HTML for answers, documents and reports,
upload name checks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath

from qa import dates
from qa.engine import IndexInfo
from qa.index.build import BuildReport
from qa.ingest.corpus import SUFFIXES, Document, Skipped, is_article, shown
from qa.results import Answer, Passage, Source
from qa.search.confidence import describe
from qa.web.export import copy_text

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
_CONFIDENCE_HELP = (
    "The estimated probability that the passage shown first holds the answer, measured on "
    "public question sets (BENCHMARKS.md)"
)
_BLANK_LINES = re.compile(r"\n[ \t\xa0]*(?:\n[ \t\xa0]*)+")
# A line break inside a paragraph: a line of wrapped length before it, and a next line that
# has text and does not start a list item. Hard-wrapped source text reads as one paragraph
# when these are spaces; headings and other short lines keep their breaks.
_WRAP = re.compile(r"(?<=\S)([ \t\xa0]*)\n(?=[ \t\xa0]*(?!(?:[-*•·]|\d{1,3}[.)])\s)\S)")
_WRAPPED_LINE = 50  # characters: shorter lines are headings, names, addresses
# One pass, so no entity is escaped twice: HTML's special characters, and the signs Markdown,
# LaTeX or a template could read as syntax, so corpus text stays inert even where a renderer
# would parse Markdown.
_INERT = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
    | {c: f"&#{ord(c)};" for c in "[]()!*_`$\\{}~|#"}
)


class UploadRejected(ValueError):
    """An uploaded file that may not go into the corpus; the message says why."""


def unwrap(text: str) -> str:
    """`text` with the line breaks of hard-wrapped paragraphs turned into spaces, for display.

    Blank lines, breaks after short lines (headings) and before list items stay. One
    character replaces one character, so offsets into `text` hold in the result.
    """

    def join(match: re.Match) -> str:
        line = match.start() - text.rfind("\n", 0, match.start()) - 1
        return match[1] + " " if line >= _WRAPPED_LINE else match[0]

    return _WRAP.sub(join, text)


def text_html(text: str) -> str:
    """Corpus text as HTML that shows it literally and runs nothing: tags, entities and
    Markdown or LaTeX signs are escaped, wrapped lines joined, paragraph breaks kept."""
    return _lines_html(unwrap(text))


def _lines_html(text: str) -> str:
    """`text` escaped, each line break kept as one (runs of blank lines as one blank line)."""
    return _BLANK_LINES.sub("\n\n", text).translate(_INERT).replace("\n", "<br>")


def passage_html(passage: Passage) -> str:
    """The passage with its answer sentence highlighted."""
    start, end = _clamp(passage, passage.sentence_start, passage.sentence_end)
    text = unwrap(passage.text)  # before cutting, so a break at a cut is judged in context
    if start >= end:
        return text_html(text)
    return (
        text_html(text[:start])
        + f'<mark class="qa-sentence">{text_html(text[start:end])}</mark>'
        + text_html(text[end:])
    )


def article_html(document_text: str, passage: Passage) -> str:
    """The whole article with the passage marked and its answer sentence highlighted."""
    start, end = sorted((max(0, passage.start), min(len(document_text), passage.end)))
    document_text = unwrap(document_text)
    return (
        text_html(document_text[:start])
        + f'<mark class="qa-marked">{passage_html(passage)}</mark>'
        + text_html(document_text[end:])
    )


def answer_html(answer: Answer, articles: dict[str, str] | None = None) -> str:
    """The answer sentence with its citation and its confidence in words first, the numbered
    sources, then one source card per passage. A citation `[n]` links to card n (the page's
    script scrolls to it and highlights it); Copy puts `copy_text(answer)` on the clipboard.

    When the answer is not found (`Answer.found` is False), "Not found in these articles"
    stands in place of the answer sentence, and the cards are labelled as the closest
    passages, which may not answer the question.

    Args:
        answer: what the engine returned.
        articles: document text by source file, for the "whole article" expanders.
    """
    if not answer.passages:
        return (
            '<div class="qa-answer"><p class="qa-empty">No passage matches: the index is empty '
            "or the filters leave no article.</p></div>"
        )
    top = answer.passages[0]
    cards = "".join(
        card_html(rank, passage, (articles or {}).get(passage.source))
        for rank, passage in enumerate(answer.passages, 1)
    )
    words = text_html(describe(answer.confidence, answer.found))
    confidence = f'<p class="qa-confidence" title="{_CONFIDENCE_HELP}">Confidence: {words}</p>'
    if not answer.found:
        return (
            '<div class="qa-answer qa-not-found">'
            f'<p class="qa-not-found-text">Not found in these articles</p>{confidence}'
            '<p class="qa-closest">The closest passages, which may not answer the question:</p>'
            f'<div class="qa-cards">{cards}</div></div>'
        )
    cited = " ".join(_cite(rank) for rank in range(1, len(answer.passages) + 1))
    return (
        '<div class="qa-answer">'
        f'<blockquote class="qa-answer-text">{_answer_text_html(answer)} {_cite(1)}</blockquote>'
        f'<p class="qa-answer-cite">{_cite(1)} {_byline(top)}</p>{confidence}'
        f'<p class="qa-sources">Passages {cited}'
        '<button class="qa-copy" type="button" title="Copy the answer with its source">'
        f'Copy</button><span class="qa-copy-text">{copy_text(answer).translate(_INERT)}'
        "</span></p>"
        f'<div class="qa-cards">{cards}</div></div>'
    )


def card_html(rank: int, passage: Passage, article: str | None = None) -> str:
    """One source card: title, publisher, date, file, page, the passage, also-in."""
    also = ""
    if passage.also_in:
        items = "".join(f"<li>{_source_line(s, passage.source)}</li>" for s in passage.also_in)
        also = f'<div class="qa-also">Also in:<ul>{items}</ul></div>'
    whole = ""
    if article is not None:
        whole = (
            '<details class="qa-article"><summary>Whole article</summary>'
            f'<div class="qa-article-text">{article_html(article, passage)}</div></details>'
        )
    return (
        f'<div class="qa-card" data-rank="{rank}">'
        '<div class="qa-card-head">'
        f'<span class="qa-rank">{rank}</span>'
        f'<span class="qa-title">{text_html(passage.title)}</span></div>'
        f'<div class="qa-meta">{_meta(passage)}</div>'
        f'<p class="qa-passage">{passage_html(passage)}</p>{also}{whole}</div>'
    )


def info_html(info: IndexInfo | None, error: str | None = None) -> str:
    """The sources panel's summary of the loaded index, or why there is none."""
    if info is None:
        return f'<div class="qa-info qa-error">{text_html(error or "No index loaded.")}</div>'
    rows = (
        ("Documents", str(info.documents)),
        ("Passages", str(info.passages)),
        ("Model", info.model),
        ("Last build", (info.built_at or "unknown").replace("T", " ").replace("+00:00", " UTC")),
    )
    cells = "".join(f"<dt>{name}</dt><dd>{text_html(value)}</dd>" for name, value in rows)
    return f'<div class="qa-info"><dl>{cells}</dl></div>'


def notice_html(message: str, kind: str = "error") -> str:
    """A message for the page (an empty question, an unusable index...); `kind` is "error",
    "ok" or "ask" (a question put to the user)."""
    return f'<div class="qa-notice qa-{kind}">{_lines_html(message)}</div>'


def report_html(report: BuildReport | None, rejected: Sequence[str] = ()) -> str:
    """What a rebuild (or an upload) did: each refused upload with the reason, the build's
    counts, each added, changed or removed file, each skipped file with the reason and each
    note; an error notice when a file was refused or skipped."""
    lines = [f"Rejected {reason}" for reason in rejected]
    if report is not None:
        lines += [f"{report.headline()}.", report.counts]
        lines += [f"{what} {name}" for what, name in report.files() if what != "cleaned"]
        lines += [f"skipped {shown(s.source)}: {s.reason}" for s in report.skipped]
        lines += [f"note {shown(n.source)}: {n.reason}" for n in report.notes]
    failed = bool(rejected) or bool(report and report.skipped)
    return notice_html("\n".join(lines), "error" if failed else "ok") if lines else ""


def documents_html(rows: list, skipped: list[Skipped]) -> str:
    """The Documents view: a table of the indexed articles (`service.DocumentRow`s: title,
    publisher, date, passages, file), then the files left out with the reason."""
    if rows:
        body = "".join(
            "<tr>"
            f"<td>{text_html(row.title)}</td><td>{text_html(row.publisher or '')}</td>"
            f'<td>{text_html(row.date or "")}</td><td class="qa-num">{row.passages}</td>'
            f'<td><code class="qa-file">{text_html(row.source)}</code></td></tr>'
            for row in rows
        )
        table = (
            '<div class="qa-docs-wrap"><table class="qa-docs"><thead><tr><th>Title</th>'
            "<th>Publisher</th><th>Date</th><th>Passages</th><th>File</th></tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )
    else:
        table = '<p class="qa-empty">No article is indexed.</p>'
    left_out = ""
    if skipped:
        items = "".join(
            f'<li><code class="qa-file">{text_html(shown(s.source))}</code>: '
            f"{text_html(s.reason)}</li>"
            for s in skipped
        )
        left_out = f'<div class="qa-skipped"><h4>Not indexed</h4><ul>{items}</ul></div>'
    return f'<div class="qa-documents">{table}{left_out}</div>'


def document_html(document: Document) -> str:
    """One article in full: its title, publisher, date and file, then its text."""
    meta = [text_html(p) for p in (document.publisher, document.date) if p]
    meta.append(f'<code class="qa-file">{text_html(document.source)}</code>')
    return (
        '<div class="qa-document">'
        f'<h3 class="qa-title">{text_html(document.title)}</h3>'
        f'<div class="qa-meta">{" · ".join(meta)}</div>'
        f'<div class="qa-article-text">{text_html(document.text)}</div></div>'
    )


def date_filter(value: str | None) -> str | None:
    """A date filter from a text box: None when blank, else an ISO date.

    Raises:
        ValueError: the value is not a date (YYYY, YYYY-MM or YYYY-MM-DD).
    """
    return dates.date_range(value, None, ("Date", "To"))[0]


def date_range(date_from: str | None, date_to: str | None) -> tuple[str | None, str | None]:
    """The form's From and To boxes as a checked date range (blank boxes are open ends).

    Raises:
        ValueError: a box does not hold a date, or From is after To.
    """
    return dates.date_range(date_from, date_to, ("From", "To"))


def upload_name(name: str, size: int) -> str:
    """The file name an upload is saved under in the corpus folder, checked.

    Directories are dropped: only the base name is kept.

    Raises:
        UploadRejected: an absolute path or `..`, a hidden or empty name, a type the corpus
            does not read, an empty file or one over `MAX_UPLOAD_BYTES`.
    """
    shown = repr(name)
    if not name or "\x00" in name or any(ord(c) < 32 for c in name):
        raise UploadRejected(f"{shown}: not a usable file name")
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or name.startswith("\\"):
        raise UploadRejected(f"{shown}: absolute paths are not accepted")
    if ".." in posix.parts or ".." in windows.parts:
        raise UploadRejected(f"{shown}: '..' is not accepted in a name")
    base = windows.name  # splits on both / and \
    if not base or base.startswith("."):
        raise UploadRejected(f"{shown}: hidden or empty names are not accepted")
    if not is_article(base):
        raise UploadRejected(f"{base}: only {', '.join(SUFFIXES)} files are accepted")
    if size == 0:
        raise UploadRejected(f"{base}: the file is empty")
    if size > MAX_UPLOAD_BYTES:
        limit = MAX_UPLOAD_BYTES // (1024 * 1024)
        raise UploadRejected(f"{base}: {size / 1024 / 1024:.1f} MB is over the {limit} MB limit")
    return base


def _clamp(passage: Passage, start: int, end: int) -> tuple[int, int]:
    """Document offsets made relative to the passage and kept inside it."""
    length = len(passage.text)
    return (
        min(max(start - passage.start, 0), length),
        min(max(end - passage.start, 0), length),
    )


def _answer_text_html(answer: Answer) -> str:
    """The answer sentence, escaped, with the words that answer (`Answer.exact`) marked."""
    text = unwrap(answer.text)  # before cutting, as in `passage_html`
    if answer.exact is None or answer.exact_start is None or answer.start is None:
        return text_html(text)
    start = min(max(answer.exact_start - answer.start, 0), len(text))
    end = min(max(answer.exact_end - answer.start, start), len(text))
    return (
        text_html(text[:start])
        + f'<mark class="qa-exact">{text_html(text[start:end])}</mark>'
        + text_html(text[end:])
    )


def _cite(rank: int) -> str:
    """A citation mark that links to source card `rank` of the same answer."""
    return f'<a class="qa-cite" href="#" title="Show source {rank}">[{rank}]</a>'


def _meta(passage: Passage) -> str:
    parts = [text_html(p) for p in (passage.publisher, passage.date) if p]
    parts.append(f'<code class="qa-file">{text_html(passage.source)}</code>')
    if passage.page is not None:
        parts.append(f"page {passage.page}")
    return " · ".join(parts)


def _byline(passage: Passage) -> str:
    parts = [f"<strong>{text_html(passage.title)}</strong>"]
    parts += [text_html(p) for p in (passage.publisher, passage.date) if p]
    return ", ".join(parts)


def _source_line(source: Source, shown: str) -> str:
    """One "Also in" entry; a repeat inside the card's own file (`shown`) says just that."""
    if source.source == shown:
        where = "elsewhere in this article"
        return where if source.page is None else f"{where} · page {source.page}"
    parts = [f"<strong>{text_html(source.title)}</strong>"]
    parts += [text_html(p) for p in (source.publisher, source.date) if p]
    parts.append(f'<code class="qa-file">{text_html(source.source)}</code>')
    if source.page is not None:
        parts.append(f"page {source.page}")
    return " · ".join(parts)
