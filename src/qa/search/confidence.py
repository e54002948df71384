"""How likely an answer is right: signals that mean the same for every question, and a
fitted logistic model that turns them into a probability.

The fused score that ranks passages is standardised per question, so it says which passage
is best but not whether the best is any good. The signals here keep their absolute
meaning: raw cosines and MaxSim of the question with the top passage and the answer
sentence (`retrieval.Match`), the share of the question's content terms they contain, the
question's numbers and capitalised names the sentence lacks, a negation in one of question
and sentence but not the other, and the margin to the next passage. Nothing is read from
the question alone. The models' coefficients live in `confidence.json`, written by
`bench/fit_confidence.py` (the file names the command and the data): one for corpora of
short posts, one for longer passages, chosen by the corpus's median passage length.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path

from qa.dates import spoken_dates
from qa.index.lexical import content_terms
from qa.search.retrieval import Match

MODEL_FILE = Path(__file__).with_name("confidence.json")

# The direction in which each signal makes a right answer more likely; the fit keeps every
# weight on its side, so the confidence is monotone in each signal.
DIRECTIONS = {
    "passage_cosine": 1,
    "sentence_cosine": 1,
    "passage_maxsim": 1,
    "sentence_maxsim": 1,
    "passage_coverage": 1,
    "sentence_coverage": 1,
    "missing_numbers": -1,
    "missing_names": -1,
    "negation_mismatch": -1,
    "margin": 1,
}

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"[A-Z][\w'\u2019&.-]*\w|[A-Z]")
_WORD = re.compile(r"[\w'\u2019]+")
_STOP = {"i", "a", "an", "the", "in", "of", "on", "and", "or", "to"}
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot)\b|n't|n\u2019t",
    re.IGNORECASE,
)
_NOT_NEGATING = re.compile(r"\bnot\s+(?:only|just|merely)\b", re.IGNORECASE)
# A question that opens with its verb asks yes or no ("Did Armenia attend?"): a negation in
# the sentence may be its answer ("Armenia did not participate"), not a contradiction.
_YES_NO = re.compile(
    r"\s*(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|may|might|"
    r"must)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Signals:
    """What the confidence is computed from; each keeps its meaning across questions.

    Attributes:
        passage_cosine, sentence_cosine, passage_maxsim, sentence_maxsim: see
            `retrieval.Match`.
        passage_coverage: share of the question's content words (stemmed, stopwords and
            question words left out) found in the top passage or its title.
        sentence_coverage: the same share in the answer sentence.
        missing_numbers: share of the question's numbers that neither the answer sentence
            (with the years and months it names relative to the article's date: "next year")
            nor the article's title and date contain (0 when the question has none).
        missing_names: share of the question's capitalised words (its first word aside) that
            neither the answer sentence nor the article title contains (0 when it has none).
        negation_mismatch: 1 when one of question and sentence holds a negation and the
            other does not, else 0 (always 0 for a yes-or-no question, which a negation
            may answer).
        margin: the top passage's fused score minus the next distinct passage's (0 when
            there is none).
    """

    passage_cosine: float
    sentence_cosine: float
    passage_maxsim: float
    sentence_maxsim: float
    passage_coverage: float
    sentence_coverage: float
    missing_numbers: float
    missing_names: float
    negation_mismatch: float
    margin: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def signals(
    question: str,
    match: Match,
    title: str,
    passage: str,
    sentence: str,
    margin: float,
    date: str | None = None,
) -> Signals:
    """The signals of an answer: `sentence` from `passage`, of the article titled `title`
    and dated `date` (ISO, or None)."""
    wanted = content_terms(question)
    return Signals(
        passage_cosine=match.passage_cosine,
        sentence_cosine=match.sentence_cosine,
        passage_maxsim=match.passage_maxsim,
        sentence_maxsim=match.sentence_maxsim,
        passage_coverage=_coverage(wanted, f"{title}\n{passage}"),
        sentence_coverage=_coverage(wanted, sentence),
        missing_numbers=_missing_numbers(
            question, "\n".join([title, date or "", *spoken_dates(sentence, date), sentence])
        ),
        missing_names=_missing_names(question, f"{title}\n{sentence}"),
        negation_mismatch=float(
            not _YES_NO.match(question) and _negated(question) != _negated(sentence)
        ),
        margin=margin,
    )


@dataclass(frozen=True)
class Model:
    """A logistic model: confidence = 1 / (1 + exp(-(intercept + sum of weight * signal))).

    Attributes:
        weights: per signal name (a name left out weighs 0).
        intercept: the constant term.
        threshold: the default confidence below which an answer counts as not found.
    """

    weights: dict[str, float]
    intercept: float
    threshold: float

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(DIRECTIONS)
        if unknown:
            raise ValueError(f"unknown signals in the confidence model: {sorted(unknown)}")

    def confidence(self, signals: Signals) -> float:
        """The estimated probability, in [0, 1], that the answer is right."""
        z = self.intercept + sum(w * getattr(signals, name) for name, w in self.weights.items())
        return _sigmoid(z)

    @classmethod
    def from_dict(cls, data: dict, threshold: float) -> Model:
        """The model in `data` (its weights and intercept), with the file's `threshold`."""
        return cls(
            weights={k: float(v) for k, v in data["weights"].items()},
            intercept=float(data["intercept"]),
            threshold=threshold,
        )


@dataclass(frozen=True)
class Models:
    """The confidence models of `confidence.json`: one fitted on a corpus of short posts and
    one on corpora of longer passages, each with the corpus's median passage length.

    The same signals mean a right answer at different rates on the two kinds (questions
    written beside a post name less of it), so one model for both is calibrated on neither
    (BENCHMARKS.md, "Confidence and not found"). Which kind a corpus is, the index measures
    from the corpus itself: `StoredIndex.passage_chars`.

    Attributes:
        short, long: the two fitted models (their `threshold` is the shared one).
        short_chars, long_chars: the median passage length, in characters, of the corpora
            each was fitted on (of short posts: the longest such median; of longer
            passages: the shortest).
        threshold: the default confidence below which an answer counts as not found.
    """

    short: Model
    long: Model
    short_chars: float
    long_chars: float
    threshold: float

    def longer_share(self, passage_chars: float) -> float:
        """How far a corpus whose median passage has `passage_chars` characters is of the
        longer passages' kind: 0 up to `short_chars`, 1 from `long_chars`, in proportion
        between them."""
        span = self.long_chars - self.short_chars
        if span <= 0:
            return 1.0
        return min(max((passage_chars - self.short_chars) / span, 0.0), 1.0)

    def for_corpus(self, passage_chars: float) -> Model:
        """The model for a corpus whose median passage has `passage_chars` characters: the
        short posts' model up to `short_chars`, the longer passages' from `long_chars`, and
        between them the two mixed in proportion (weights and intercept alike, so the mix
        is a logistic model monotone in every signal as both are)."""
        share = self.longer_share(passage_chars)
        if share == 0.0:
            return self.short
        if share == 1.0:
            return self.long
        names = dict.fromkeys([*self.short.weights, *self.long.weights])
        weights = {
            name: (1 - share) * self.short.weights.get(name, 0.0)
            + share * self.long.weights.get(name, 0.0)
            for name in names
        }
        intercept = (1 - share) * self.short.intercept + share * self.long.intercept
        return Model(weights, intercept, self.threshold)

    @classmethod
    def from_dict(cls, data: dict) -> Models:
        threshold = float(data["threshold"])
        short, long = data["short_posts"], data["longer_passages"]
        return cls(
            short=Model.from_dict(short, threshold),
            long=Model.from_dict(long, threshold),
            short_chars=float(short["passage_chars"]),
            long_chars=float(long["passage_chars"]),
            threshold=threshold,
        )

    @classmethod
    def load(cls, path: str | Path = MODEL_FILE) -> Models:
        """Read the models written by `bench/fit_confidence.py`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_models() -> Models:
    """The committed models (`confidence.json`), read once."""
    return Models.load()


def describe(confidence: float, found: bool) -> str:
    """The confidence in words a reader understands, with its value: "likely right (0.86)"."""
    if not found:
        words = "unlikely"
    elif confidence >= 0.8:
        words = "likely right"
    elif confidence >= 0.5:
        words = "may be right"
    else:
        words = "doubtful"
    return f"{words} ({confidence:.2f})"


def signal_names() -> list[str]:
    return [f.name for f in fields(Signals)]


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _coverage(wanted: frozenset[str], text: str) -> float:
    """Share of the question's distinct content terms, `wanted`, that `text` contains."""
    if not wanted:
        return 0.0
    return len(wanted & content_terms(text)) / len(wanted)


def _negated(text: str) -> bool:
    """Whether `text` holds a negation; "not only", "not just" and "not merely" add rather
    than deny ("not only X but also Y"), so they do not count."""
    return _NEGATION.search(_NOT_NEGATING.sub(" ", text)) is not None


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def _missing_numbers(question: str, sentence: str) -> float:
    wanted = _numbers(question)
    if not wanted:
        return 0.0
    return len(wanted - _numbers(sentence)) / len(wanted)


def _names(question: str) -> set[str]:
    """Capitalised words of the question, lower-cased; its first word aside (it is
    capitalised anyway), and a few function words."""
    first = _WORD.search(question)
    return {
        match.group().lower()
        for match in _NAME.finditer(question)
        if not (first and match.start() == first.start()) and match.group().lower() not in _STOP
    }


def _missing_names(question: str, text: str) -> float:
    wanted = _names(question)
    if not wanted:
        return 0.0
    folded = text.lower()
    missing = [n for n in wanted if not re.search(rf"(?<!\w){re.escape(n)}(?!\w)", folded)]
    return len(missing) / len(wanted)
