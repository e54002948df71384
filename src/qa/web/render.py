"""The web chat's pieces that need no browser: inert HTML for answers, upload name checks."""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath

from qa import dates
from qa.engine import IndexInfo
from qa.index.build import BuildReport
from qa.ingest.corpus import SUFFIXES, is_article, shown
from qa.results import Answer, Passage, Source
from qa.search.confidence import describe

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
_CONFIDENCE_HELP = (
    "The estimated probability that the passage shown first holds the answer, measured on "
    "public question sets (BENCHMARKS.md)"
)
_BLANK_LINES = re.compile(r"\n[ \t\xa0]*(?:\n[ \t\xa0]*)+")
# One pass, so no entity is escaped twice: HTML's special characters, and the signs Markdown,
# LaTeX or a template could read as syntax, so corpus text stays inert even where a renderer
# would parse Markdown.
_INERT = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
    | {c: f"&#{ord(c)};" for c in "[]()!*_`$\\{}~|#"}
)


class UploadRejected(ValueError):
    """An uploaded file that may not go into the corpus; the message says why."""


def text_html(text: str) -> str:
    """Corpus text as HTML that shows it literally and runs nothing: tags, entities and
    Markdown or LaTeX signs are escaped, line breaks kept."""
    text = _BLANK_LINES.sub("\n\n", text)
    return text.translate(_INERT).replace("\n", "<br>")


def passage_html(passage: Passage) -> str:
    """The passage with its answer sentence highlighted."""
    start, end = _clamp(passage, passage.sentence_start, passage.sentence_end)
    text = passage.text
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
    return (
        text_html(document_text[:start])
        + f'<mark class="qa-marked">{passage_html(passage)}</mark>'
        + text_html(document_text[end:])
    )


def answer_html(answer: Answer, articles: dict[str, str] | None = None) -> str:
    """The answer sentence and its confidence in words, then one source card per passage.

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
    if not answer.found:
        return (
            '<div class="qa-answer qa-not-found">'
            '<p class="qa-not-found-text">Not found in these articles</p>'
            f'<p class="qa-confidence" title="{_CONFIDENCE_HELP}">Confidence: {words}</p>'
            '<p class="qa-closest">The closest passages, which may not answer the question:</p>'
            f'<div class="qa-cards">{cards}</div></div>'
        )
    return (
        '<div class="qa-answer">'
        f'<blockquote class="qa-answer-text">{text_html(answer.text)}</blockquote>'
        f'<p class="qa-answer-cite">— {_byline(top)}</p>'
        f'<p class="qa-confidence" title="{_CONFIDENCE_HELP}">Confidence: {words}</p>'
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
        '<div class="qa-card">'
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


def report_html(report: BuildReport) -> str:
    """What a rebuild did: counts, then each added, changed or removed file, then each
    skipped file with the reason and each note; an error notice when files were skipped."""
    lines = [f"{report.headline()}.", report.counts]
    lines += [f"{what} {name}" for what, name in report.files() if what != "cleaned"]
    lines += [f"skipped {shown(s.source)}: {s.reason}" for s in report.skipped]
    lines += [f"note {shown(n.source)}: {n.reason}" for n in report.notes]
    return notice_html("\n".join(lines), "error" if report.skipped else "ok")


def notice_html(message: str, kind: str = "error") -> str:
    """A one-line message for the page (an empty question, an unusable index...)."""
    return f'<div class="qa-notice qa-{kind}">{text_html(message)}</div>'


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


CSS = """
.qa-answer { display: flex; flex-direction: column; gap: 10px; white-space: normal; }
.qa-answer-text { margin: 0; padding: 10px 14px; border-left: 4px solid var(--color-accent);
  background: var(--color-accent-soft); border-radius: 6px; font-size: 1.08em;
  font-weight: 600; }
.qa-answer-cite { margin: 0 0 4px 4px; opacity: .8; font-size: .92em; }
.qa-cards { display: flex; flex-direction: column; gap: 10px; }
.qa-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 10px 12px; background: var(--background-fill-primary); }
.qa-card-head { display: flex; align-items: baseline; gap: 8px; }
.qa-rank { display: inline-block; min-width: 1.6em; text-align: center; border-radius: 999px;
  background: var(--color-accent); color: white; font-size: .8em; font-weight: 700; }
.qa-title { font-weight: 700; flex: 1; }
.qa-confidence { margin: 0 0 4px 4px; font-size: .9em; opacity: .85; }
.qa-not-found-text { margin: 0; padding: 10px 14px; border-left: 4px solid #9ca3af;
  background: var(--background-fill-secondary); border-radius: 6px; font-size: 1.08em; }
.qa-closest { margin: 4px 0 0 4px; font-size: .92em; font-style: italic; }
.qa-meta { font-size: .88em; opacity: .8; margin: 2px 0 6px 0; }
.qa-file { font-size: .95em; }
.qa-passage { margin: 0; line-height: 1.5; font-size: .95em; }
mark.qa-sentence { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 3px; }
mark.qa-marked { background: #dbeafe; color: #1f2937; }
.qa-also { font-size: .88em; margin-top: 6px; }
.qa-also ul { margin: 2px 0 0 18px; }
.qa-article summary { cursor: pointer; margin-top: 6px; font-size: .9em;
  color: var(--color-accent); }
.qa-article-text { max-height: 320px; overflow-y: auto; font-size: .9em; line-height: 1.5;
  padding: 8px; border-radius: 6px; background: var(--background-fill-secondary); }
.qa-empty { opacity: .8; }
.qa-notice { padding: 8px 12px; border-radius: 6px; margin: 4px 0; }
.qa-notice:empty { display: none; }
.qa-error { background: #fee2e2; color: #991b1b; }
.qa-ok { background: #dcfce7; color: #166534; }
.qa-info dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0; }
.qa-info dt { font-weight: 600; }
.qa-info dd { margin: 0; word-break: break-all; }
.qa-info.qa-error { padding: 8px 12px; border-radius: 6px; }
#chat .scroll-down-button-container { left: auto; right: 14px; transform: none; }
"""

# After a reply, show the top of the newest exchange (the question, then the answer sentence)
# rather than the bottom of its last source card, where the chat's own autoscroll would land.
SHOW_LATEST_JS = """() => {
  const wrap = document.querySelector("#chat .bubble-wrap");
  const rows = wrap ? wrap.querySelectorAll(".message-row.user-row") : [];
  const last = rows[rows.length - 1];
  if (last) {
    const top = last.getBoundingClientRect().top - wrap.getBoundingClientRect().top;
    wrap.scrollTo({ top: wrap.scrollTop + top - 44 });  // below the chat's corner buttons
  }
}"""
