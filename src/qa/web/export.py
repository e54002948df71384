"""Answers as plain text: the Copy button's text and the conversation's Markdown export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from qa.results import Answer, Passage
from qa.search.confidence import describe


def citation(passage: Passage) -> str:
    """One source in words: title, publisher, date, file (and page), character offsets."""
    parts = [passage.title, passage.publisher, passage.date, passage.source]
    if passage.page is not None:
        parts.append(f"page {passage.page}")
    parts.append(f"characters {passage.start}–{passage.end}")
    return ", ".join(_line(p) for p in parts if p)


def copy_text(answer: Answer) -> str:
    """The answer sentence with its citation, for the clipboard ("" when nothing matched)."""
    if not answer.passages:
        return ""
    return f"“{_line(answer.text)}” [1]\n\n[1] {citation(answer.passages[0])}"


def conversation_markdown(answers: Sequence[Answer], now: datetime | None = None) -> str:
    """The conversation as Markdown: each question, its answer sentence quoted with `[1]`
    ("Not found in these articles" when it was not found) and its confidence, and every
    passage shown for it as a numbered source (title, publisher, date, file, offsets).

    Args:
        answers: the answers in the order they were asked.
        now: the export time written at the top (default: the current time, UTC).
    """
    when = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Questions and answers",
        "",
        f"Exported {when}. Each answer is a sentence quoted from the articles; its sources "
        "follow it, with the characters each passage spans in its file's text.",
    ]
    for number, answer in enumerate(answers, 1):
        lines += ["", f"## {number}. {_line(answer.question)}", ""]
        if not answer.passages:
            lines.append("No passage matches: the index is empty or the filters leave no article.")
            continue
        confidence = f"Confidence: {describe(answer.confidence, answer.found)}."
        if answer.found:
            lines += [f"> {_line(answer.text)} [1]", "", confidence, "", "Sources:", ""]
        else:
            lines += [
                f"Not found in these articles. {confidence}",
                "",
                "The closest passages, which may not answer the question:",
                "",
            ]
        lines += [f"{rank}. {citation(p)}" for rank, p in enumerate(answer.passages, 1)]
    return "\n".join(lines) + "\n"


def _line(text: str) -> str:
    """`text` on one line: wrapped source text and stray whitespace folded to single spaces."""
    return " ".join(text.split())
