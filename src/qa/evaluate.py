"""`qa eval`: hit@k, MRR and answer-sentence accuracy over a file of questions and answers,
and how well "not found" tells the questions the articles do not answer (an empty answer
list) from those they do."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.engine import Engine

DEPTH = 10  # MRR counts the first hit among this many passages


@dataclass(frozen=True)
class Miss:
    """A question whose top passage holds none of its answers."""

    question: str
    answers: list[str]
    top_passage: str


@dataclass(frozen=True)
class EvalReport:
    """Scores over the questions of one file.

    Attributes:
        questions: the questions with answers; hit@k (the share with a hit in the top k),
            MRR and the answer sentence are over these.
        right_found: of those whose top passage holds an answer, the share found (the
            confidence at or above the threshold); None when there are none.
        unanswerable: the questions with an empty answer list, which the articles should
            not answer.
        not_found: the share of those answered "not found"; None when there are none.
        misses: the questions with answers whose top passage holds none of them.
        answered: the unanswerable questions that were found all the same.
    """

    questions: int
    hit_at_1: float
    hit_at_3: float
    hit_at_5: float
    mrr: float
    answer_sentence: float
    misses: list[Miss] = field(default_factory=list)
    right_found: float | None = None
    unanswerable: int = 0
    not_found: float | None = None
    answered: list[Miss] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def fold(text: str) -> str:
    """Runs of white space to one space, curly apostrophes to straight ones."""
    return re.sub(r"\s+", " ", text.replace("\u2019", "'").replace("\u2018", "'")).strip()


def contains_answer(text: str, answers: list[str]) -> bool:
    folded = fold(text)
    return any(fold(answer) in folded for answer in answers)


def read_questions(path: str | Path) -> list[tuple[str, list[str]]]:
    """Lines of `{"q": question, "a": [answer strings]}`; blank lines are skipped. An empty
    answer list marks a question the articles should not answer.

    Raises:
        ValueError: the file cannot be read as UTF-8 text, or a line is not such an object
            (its number is named).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text: save it as UTF-8") from None
    except OSError as error:  # missing, a folder, unreadable
        raise ValueError(f"cannot read {path} ({error.strerror}): give a JSON-lines file") from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question, answers = row["q"], row["a"]
        except (ValueError, KeyError, TypeError):
            raise ValueError(f'{path}:{number}: expected {{"q": "...", "a": ["..."]}}') from None
        if isinstance(answers, (str, int, float)):
            answers = [answers]
        if not isinstance(question, str) or not isinstance(answers, list):
            raise ValueError(f'{path}:{number}: expected {{"q": "...", "a": ["..."]}}')
        if not all(isinstance(a, (str, int, float)) for a in answers):
            raise ValueError(f"{path}:{number}: each answer is a string (or a number)")
        # An empty list (or only empty strings): a question the articles should not answer.
        rows.append((question, [str(a) for a in answers if str(a).strip()]))
    if not rows:
        raise ValueError(f"{path} holds no questions")
    return rows


@dataclass
class Tally:
    """Per question: the rank of the first hit (None: no hit) and whether the answer sentence
    was right; the scores over all of them."""

    ranks: list[int | None] = field(default_factory=list)
    sentences: list[bool] = field(default_factory=list)

    def add(self, hits: list[bool], sentence: bool) -> None:
        """One question: which results hit, best first, and whether its sentence did."""
        self.ranks.append(hits.index(True) + 1 if True in hits else None)
        self.sentences.append(sentence)

    def hit_at(self, k: int) -> float:
        """The share of questions with a hit among the first `k` results."""
        return _share(rank is not None and rank <= k for rank in self.ranks)

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank of the first hit (0 for none)."""
        return sum(1 / rank for rank in self.ranks if rank) / len(self.ranks) if self.ranks else 0.0

    @property
    def answer_sentence(self) -> float:
        """The share of questions whose answer sentence was right."""
        return _share(self.sentences)


def _share(flags) -> float:
    """The share of true values (0 when there are none)."""
    flags = list(flags)
    return sum(flags) / len(flags) if flags else 0.0


def evaluate(engine: Engine, rows: list[tuple[str, list[str]]]) -> EvalReport:
    """Ask every question; score the passages and the answer sentence of those with answers,
    and whether "not found" comes for those without (an empty answer list) and not for the
    right answers."""
    tally, misses, right, answered, unanswerable = Tally(), [], [], [], 0
    for question, answers in rows:
        result = engine.answer(question, k=DEPTH)
        top = " ".join(result.passages[0].text.split()) if result.passages else ""
        if not answers:
            unanswerable += 1
            if result.found:
                answered.append(Miss(question, answers, top))
            continue
        hits = [contains_answer(p.text, answers) for p in result.passages]
        tally.add(hits, contains_answer(result.text, answers))
        if hits and hits[0]:
            right.append(result.found)
        else:
            misses.append(Miss(question, answers, top))
    return EvalReport(
        questions=len(tally.ranks),
        hit_at_1=tally.hit_at(1),
        hit_at_3=tally.hit_at(3),
        hit_at_5=tally.hit_at(5),
        mrr=tally.mrr,
        answer_sentence=tally.answer_sentence,
        misses=misses,
        right_found=_share(right) if right else None,
        unanswerable=unanswerable,
        not_found=1 - len(answered) / unanswerable if unanswerable else None,
        answered=answered,
    )
