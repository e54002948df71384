"""What a question gets back: frozen dataclasses that serialise to JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Passage:
    """A retrieved passage and where it comes from.

    Attributes:
        text: the passage, exactly `document_text[start:end]`.
        score: relevance, higher is better.
        source: the file, relative to the corpus folder.
        title, publisher, date: the article's, as its front matter gives them (or None).
        start, end: character offsets of `text` in its document's text.
        chunk_id: stable id of the passage in the index, "<source>#<n>".
    """

    text: str
    score: float
    source: str
    title: str
    publisher: str | None
    date: str | None
    start: int
    end: int
    chunk_id: str


@dataclass(frozen=True)
class Answer:
    """The answer to one question: the answer sentence and the passages, best first."""

    question: str
    text: str
    passages: list[Passage] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)
