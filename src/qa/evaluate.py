"""`qa eval`: hit@k, MRR and answer-sentence accuracy over a file of questions and answers."""

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
    """Scores over the questions of one file; hit@k is the share with a hit in the top k."""

    questions: int
    hit_at_1: float
    hit_at_3: float
    hit_at_5: float
    mrr: float
    answer_sentence: float
    misses: list[Miss] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def fold(text: str) -> str:
    """Runs of white space to one space, curly apostrophes to straight ones."""
    return re.sub(r"\s+", " ", text.replace("\u2019", "'").replace("\u2018", "'")).strip()


def contains_answer(text: str, answers: list[str]) -> bool:
    folded = fold(text)
    return any(fold(answer) in folded for answer in answers)


def read_questions(path: str | Path) -> list[tuple[str, list[str]]]:
    """Lines of `{"q": question, "a": [answer strings]}`; blank lines are skipped.

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
        if isinstance(answers, str):
            answers = [answers]
        rows.append((question, list(answers)))
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
        return sum(rank is not None and rank <= k for rank in self.ranks) / len(self.ranks)

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank of the first hit (0 for none)."""
        return sum(1 / rank for rank in self.ranks if rank) / len(self.ranks)

    @property
    def answer_sentence(self) -> float:
        """The share of questions whose answer sentence was right."""
        return sum(self.sentences) / len(self.sentences)


def evaluate(engine: Engine, rows: list[tuple[str, list[str]]]) -> EvalReport:
    """Ask every question and score the passages and the answer sentence."""
    tally, misses = Tally(), []
    for question, answers in rows:
        result = engine.answer(question, k=DEPTH)
        hits = [contains_answer(p.text, answers) for p in result.passages]
        tally.add(hits, contains_answer(result.text, answers))
        if not hits or not hits[0]:
            top = result.passages[0].text if result.passages else ""
            misses.append(Miss(question, answers, " ".join(top.split())))
    return EvalReport(
        questions=len(rows),
        hit_at_1=tally.hit_at(1),
        hit_at_3=tally.hit_at(3),
        hit_at_5=tally.hit_at(5),
        mrr=tally.mrr,
        answer_sentence=tally.answer_sentence,
        misses=misses,
    )
