"""A question as the search reads it, and how to search: both values made once per use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from qa.index.lexical import terms
from qa.search.answers import Kind, expected
from qa.search.context import in_context, named_dates, names_something, with_years
from qa.settings import Choice

CANDIDATES = 50  # per leg; measured: deeper lists do not change the ranking (BENCHMARKS.md)
RERANK = 20  # passages reranked with MaxSim; measured in BENCHMARKS.md
ANSWER_TYPE = 6.0  # added to a sentence's fused score when it holds the expected kind of words
DATED = 3.0  # added to a passage's fused score when its article is dated as the question says
TIE = 0.25  # passages this close to the first are a tie, which their best sentences decide
# A follow-up (BENCHMARKS.md, "Follow-up questions"): the weight of its own words searched
# beside its reading in context (weight 1), and what is added to passages of the article
# that answered the question before it.
ASKED = 0.5
TOPIC = 1.0
# A follow-up naming this many content words of its own ("What conference did he
# announce?") says enough itself: its words as asked weigh as much as its reading in context.
SAYS_ENOUGH = 2


class Mode(Choice):
    """Which legs retrieve: both (the default), only the embeddings, or only BM25."""

    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"

    @classmethod
    def label(cls) -> str:
        return "retrieval mode"

    @property
    def lexical(self) -> bool:
        return self is not Mode.DENSE

    @property
    def dense(self) -> bool:
        """The embedding legs, and the MaxSim rerank, which uses the same model."""
        return self is not Mode.LEXICAL

    @property
    def legs(self) -> tuple[Leg, ...]:
        """The legs this mode runs."""
        return tuple(leg for leg in Leg if (self.dense if leg.dense else self.lexical))


class Leg(Choice):
    """One way of scoring a passage. A sentence leg scores it by its best sentence."""

    BM25_PASSAGE = "bm25-passage"  # BM25 over the passage with its heading
    DENSE_PASSAGE = "dense-passage"  # cosine with the passage read with its heading
    BM25_SENTENCE = "bm25-sentence"  # BM25 over the sentence with the heading
    DENSE_SENTENCE = "dense-sentence"  # cosine with the sentence alone
    DENSE_TITLED_SENTENCE = "dense-titled-sentence"  # cosine with the sentence and heading

    @classmethod
    def label(cls) -> str:
        return "retrieval leg"

    @property
    def dense(self) -> bool:
        return self.value.startswith("dense")


@dataclass(frozen=True)
class SearchParams:
    """How to search.

    Attributes:
        mode: which retrievers take part (`Mode`).
        candidates: how many candidates each leg nominates.
        rerank: how many of the fused best are reranked by MaxSim (0: no rerank; only
            when the mode embeds).
        legs: the legs that score candidates, by name; empty means every leg of the mode.
        answer_type: added to a sentence's score when it holds words of the kind the
            question asks for (a date for "When ...", see `qa.search.answers`); 0 turns it
            off. Measured in BENCHMARKS.md.
        dated: added to a passage's score when its article is dated in a year or month the
            question names (a preference, not a filter); 0 turns it off.
        asked: for a follow-up that leans on the question before it, the weight of a
            second search of its own words beside the search of its reading in context
            (weight 1), or 1 when it names `SAYS_ENOUGH` content words of its own; 0
            searches the reading in context alone.
        topic: added to a follow-up's passages of the article whose passage answers the
            earlier question best (a preference, not a filter); 0 turns it off.
        tie: a passage scoring within `tie` of the first (and moved by the same
            preferences) is a tie with it; of those, the one with the best sentence comes
            first; 0 turns it off.
    """

    mode: Mode = Mode.HYBRID
    candidates: int = CANDIDATES
    rerank: int = RERANK
    legs: tuple[Leg, ...] = field(default=())
    answer_type: float = ANSWER_TYPE
    dated: float = DATED
    asked: float = ASKED
    topic: float = TOPIC
    tie: float = TIE

    def __post_init__(self) -> None:
        # Accept names as given by a command line or a caller, keep the enums.
        object.__setattr__(self, "mode", Mode.from_str(self.mode))
        legs = tuple(Leg.from_str(leg) for leg in self.legs) or self.mode.legs
        foreign = [leg.value for leg in legs if leg not in self.mode.legs]
        if foreign:
            raise ValueError(f"the {self.mode.value} mode has no leg {', '.join(foreign)}")
        object.__setattr__(self, "legs", legs)
        if self.candidates < 1 or self.rerank < 0:
            raise ValueError("candidates must be at least 1 and rerank at least 0")

    def runs(self, leg: Leg) -> bool:
        return leg in self.legs


@dataclass(frozen=True)
class Query:
    """A question, read once: its text, its BM25 terms, and (when the search embeds) its
    vector and its content word pieces' vectors.

    Attributes:
        text: the question as asked, a year named relative to the earlier questions' written
            out ("And the year before?" after a question on 2024: "And in 2023?").
        terms: its stemmed content terms, stopwords left out (for BM25).
        vector: its unit-length embedding, shape (1, dimension); None when not embedded.
        pieces: its content word pieces' unit vectors (for MaxSim), shape (m, dimension);
            None when not embedded.
        dates: the dates it names as partial ISO dates ("2024", "2024-11"); a follow-up
            naming none takes the earlier question's.
        kind: the kind of words that answer it (`Kind`), or None.
        searched: the text retrieval reads: the question, or for an elliptical follow-up
            the earlier question's content words and then this one.
        asked: for such a follow-up, the question's own words read alone, which retrieval
            searches beside `searched` (`SearchParams.asked`); else None.
    """

    text: str
    terms: tuple[str, ...]
    vector: np.ndarray | None = None
    pieces: np.ndarray | None = None
    dates: tuple[str, ...] = ()
    kind: Kind | None = None
    searched: str = ""
    asked: Query | None = None

    @classmethod
    def read(cls, text: str, embedder=None, history: Sequence[str] = ()) -> Query:
        """The question `text`, embedded by `embedder` (`qa.embed.Embedder`) when given.

        Args:
            text: the question.
            embedder: embeds it for the dense legs; None for BM25 alone.
            history: earlier questions of the same conversation, oldest first. A question
                that points back ("Who chaired it?") or has too few words of its own
                ("And in 2023?") is searched together with the latest of them, and also
                as asked (`asked`). A year it names relative to theirs ("And the year
                before?") is read as the year it is (`with_years`).
        """
        text = with_years(text, history)
        searched = in_context(text, history)
        dates = named_dates(text) or named_dates(searched)
        vector = pieces = None
        if embedder is not None:
            vector, pieces = embedder.encode_question(searched)
        # A follow-up without a question word of its own ("And in 2024?") names no kind:
        # taking the earlier question's was measured and not kept (BENCHMARKS.md).
        kind = expected(text)
        asked = None
        if searched != text and names_something(text):
            # A follow-up read in context: its own words are searched too, when it has any
            # ("Who chaired it?"); "Which ones?" alone would find any passage with "one".
            own = embedder.encode_question(text) if embedder is not None else (None, None)
            asked = cls(text, terms(text), *own, dates, kind, searched)
        return cls(text, terms(searched), vector, pieces, dates, kind, searched, asked)
