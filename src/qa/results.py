"""What a question gets back: frozen dataclasses that serialise to JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Source:
    """Another place that carries the same passage (a syndicated copy)."""

    source: str
    title: str
    publisher: str | None
    date: str | None
    start: int
    end: int
    chunk_id: str
    page: int | None = None


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
        sentence_start, sentence_end: offsets, in the document's text, of the passage's
            sentence that best answers the question (for highlighting).
        page: the page of a paged source (PDF), else None.
        also_in: other sources carrying the same passage.
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
    sentence_start: int = 0
    sentence_end: int = 0
    page: int | None = None
    also_in: list[Source] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        """The passage's best sentence."""
        return self.text[self.sentence_start - self.start : self.sentence_end - self.start]

    @classmethod
    def from_dict(cls, data: dict) -> Passage:
        return cls(**{**data, "also_in": [Source(**s) for s in data.get("also_in", [])]})


@dataclass(frozen=True)
class Answer:
    """The answer to one question, best first.

    Attributes:
        question: as asked.
        text: the one sentence that best answers it, quoted from `source`.
        passages: the passages, best first.
        source, start, end: where `text` stands: the file and its offsets in that document's
            text (None when nothing was found).
        exact: the words inside `text` that answer the question: a date or a number, when
            the sentence holds exactly one such phrase (asked "how many" of something,
            one that counts it); the name of a role's holder, when
            the question asks who holds the role and the sentence names someone right after
            it; else None.
        exact_start, exact_end: the offsets of `exact` in the document's text, so that
            `text[exact_start - start : exact_end - start] == exact`; None without it.
        as_of: for a question about the present ("Who is the ...?"), the date of the
            article the answer comes from; else None.
        confidence: the estimated probability, 0 to 1, that the answer is right (that its
            passage holds the answer); see `qa.search.confidence`.
        found: whether `confidence` reaches the engine's threshold. When False, the
            articles most likely do not answer the question: `text` and `passages` are
            only the closest there is, and should be shown as such.
    """

    question: str
    text: str
    passages: list[Passage] = field(default_factory=list)
    source: str | None = None
    start: int | None = None
    end: int | None = None
    exact: str | None = None
    exact_start: int | None = None
    exact_end: int | None = None
    as_of: str | None = None
    confidence: float = 0.0
    found: bool = False

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: dict) -> Answer:
        return cls(**{**data, "passages": [Passage.from_dict(p) for p in data["passages"]]})
