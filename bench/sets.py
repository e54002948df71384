"""The public question sets of ../shared/bench/ as corpora and questions, by its README.

Each set is written as a corpus folder (one Markdown file per document) and a list of
`Question`s: the question, its gold answers, the file that holds its answer, its kind
("answerable", or the kind of question that has no answer in the corpus) and its half
("fit" or "report"). `collect` asks every question once and caches, per question, the
answer's confidence signals and whether it was right, so that fitting and reporting never
re-run the pipeline. Used by `bench/abstain.py`, `bench/corpora.py` and
`bench/fit_confidence.py`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"
SQUAD = SHARED / "squad-dev-v1.1.json"
SQUAD2 = SHARED / "squad2-dev-articles-13-35.json"
TWEETQA = SHARED / "tweetqa-train.json"

ANSWERABLE = "answerable"
OFF_TOPIC = "off-topic"  # a whole article withheld
ON_TOPIC = "on-topic"  # the question's paragraph withheld, the rest of its article indexed
UNANSWERABLE = "unanswerable"  # SQuAD 2.0's `is_impossible`
WITHHELD_TWEET = "withheld tweet"

WITHHELD_ARTICLES = 12  # SQuAD v1.1: whole articles left out (six of each half)
WITHHELD_SHARE = 0.15  # SQuAD v1.1: paragraphs left out of each other article
TWEETS_WITHHELD = 767  # TweetQA: the README's 15% of the 5,116 tweets not in dev
TWEETS_IN_DEV = {3701, 3796, 3847}
DEPTH = 3  # passages asked for: hit@3


@dataclass(frozen=True)
class Question:
    """One question of a set, with what the protocol needs to score its answer."""

    question: str
    answers: list[str]
    gold: str | None  # the corpus file holding the answer (None: withheld from the corpus)
    kind: str
    half: str  # "fit" (odd-numbered article or tweet) or "report" (even-numbered)


def fold(text: str) -> str:
    """Runs of white space to one space, curly quotes to straight ones (the README's fold)."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip()


def squad_contains(text: str, answers: list[str]) -> bool:
    folded = fold(text)
    return any(fold(answer) in folded for answer in answers)


def tweet_contains(text: str, answers: list[str]) -> bool:
    """TweetQA containment: case-insensitive; an answer under 4 characters or without a
    letter matches whole words only."""
    folded = fold(text).lower()
    for answer in answers:
        answer = fold(answer).lower()
        if not answer:
            continue
        if len(answer) < 4 or not any(c.isalpha() for c in answer):
            if re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", folded):
                return True
        elif answer in folded:
            return True
    return False


def _half(number: int) -> str:
    return "fit" if number % 2 else "report"


def squad_abstain(work: Path, source: Path) -> list[Question]:
    """SQuAD v1.1 dev with 12 articles and 15% of the other paragraphs withheld.

    `source` is a folder with `corpus/` (one file per paragraph, as bench/squad.py writes
    it) and its built `index/`; it is copied to `work` and the withheld files are deleted
    there, so the incremental build that follows embeds nothing.
    """
    articles = json.loads(SQUAD.read_text())["data"]
    rng = random.Random(0)
    odd = [n for n in range(1, len(articles) + 1) if n % 2]
    even = [n for n in range(1, len(articles) + 1) if not n % 2]
    half = WITHHELD_ARTICLES // 2
    withheld = set(rng.sample(odd, half) + rng.sample(even, half))
    if not (work / "index").exists():
        work.mkdir(parents=True, exist_ok=True)
        for folder in ("corpus", "index"):
            subprocess.run(["cp", "-a", str(source / folder), str(work)], check=True)
    questions, file_number = [], 0
    for number, article in enumerate(articles, 1):
        paragraphs = article["paragraphs"]
        hidden = set(rng.sample(range(len(paragraphs)), round(WITHHELD_SHARE * len(paragraphs))))
        for position, paragraph in enumerate(paragraphs):
            name = f"{file_number:05d}.md"
            file_number += 1
            if number in withheld:
                kind = OFF_TOPIC
            elif position in hidden:
                kind = ON_TOPIC
            else:
                kind = ANSWERABLE
            if kind != ANSWERABLE:
                (work / "corpus" / name).unlink(missing_ok=True)
            for qa in paragraph["qas"]:
                answers = [a["text"] for a in qa["answers"]]
                gold = name if kind == ANSWERABLE else None
                questions.append(Question(qa["question"], answers, gold, kind, _half(number)))
    return questions


def squad_full(sample: int | None = None) -> list[Question]:
    """SQuAD v1.1 dev, every paragraph indexed (the corpus bench/squad.py writes); with
    `sample`, that many questions drawn with `random.seed(0)` as in bench/squad.py."""
    questions, file_number = [], 0
    for number, article in enumerate(json.loads(SQUAD.read_text())["data"], 1):
        for paragraph in article["paragraphs"]:
            name = f"{file_number:05d}.md"
            file_number += 1
            for qa in paragraph["qas"]:
                answers = [a["text"] for a in qa["answers"]]
                questions.append(Question(qa["question"], answers, name, ANSWERABLE, _half(number)))
    if sample:
        random.seed(0)
        questions = random.sample(questions, sample)
    return questions


def squad2(corpus: Path) -> list[Question]:
    """SQuAD 2.0 dev articles 13-35: one file per article; answerable and unanswerable."""
    corpus.mkdir(parents=True, exist_ok=True)
    questions = []
    for number, article in enumerate(json.loads(SQUAD2.read_text())["data"], 1):
        title = article["title"].replace("_", " ")
        name = f"{number:02d}.md"
        body = "\n\n".join(p["context"] for p in article["paragraphs"])
        path = corpus / name
        if not path.exists():
            path.write_text(f"---\ntitle: {json.dumps(title)}\n---\n{body}\n")
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                impossible = qa.get("is_impossible", False)
                questions.append(
                    Question(
                        qa["question"],
                        [a["text"] for a in qa["answers"]],
                        name,
                        UNANSWERABLE if impossible else ANSWERABLE,
                        _half(number),
                    )
                )
    return questions


_SIGNATURE = re.compile(
    r"\((@\w+)\)\s*(January|February|March|April|May|June|July|August|September|October|"
    r"November|December) (\d{1,2}), (\d{4})\s*$"
)
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_FUNCTION_WORDS = set(
    "a an the it its it's he him his she her they them their we us our you your i me my this "
    "that these those yes no not is was are be to of in on at and or up so".split()
)


def tweetqa(corpus: Path, tweets: int | None = None, seed: int = 0) -> list[Question]:
    """TweetQA train: one file per tweet, 767 withheld; answerable and withheld-tweet questions.

    With `tweets`, a corpus of the size of the held-out set of this kind instead: that many
    tweets of the report half (even-numbered, never fitted on), drawn with
    `random.Random(seed)`, and as large a share of the withheld even-numbered tweets as the
    whole protocol withholds (767 of 5,116), whose questions are the ones it cannot answer.
    """
    rows = json.loads(TWEETQA.read_text())
    numbers: dict[str, int] = {}
    for row in rows:
        numbers.setdefault(row["Tweet"], len(numbers))
    kept = [t for t, n in numbers.items() if n not in TWEETS_IN_DEV]
    by_hash = sorted(kept, key=lambda t: hashlib.sha256(t.encode("utf-8")).hexdigest())
    withheld = set(by_hash[:TWEETS_WITHHELD])
    indexed = [t for t in kept if t not in withheld]
    if tweets is not None:
        rng = random.Random(seed)
        even = [t for t in indexed if not numbers[t] % 2]
        indexed = rng.sample(even, tweets)
        share = TWEETS_WITHHELD / (len(kept) - TWEETS_WITHHELD)
        hidden = sorted((t for t in withheld if not numbers[t] % 2), key=numbers.get)
        withheld = set(rng.sample(hidden, round(share * tweets)))
    corpus.mkdir(parents=True, exist_ok=True)
    for text in indexed:
        path = corpus / f"{numbers[text]:04d}.md"
        if path.exists():
            continue
        found = _SIGNATURE.search(text)
        meta = [f"title: {json.dumps(f'Tweet {numbers[text]}')}"]
        if found:
            handle, month, day, year = found.groups()
            meta.append(f"publisher: {json.dumps(handle)}")
            meta.append(f"date: {year}-{_MONTHS.index(month) + 1:02d}-{int(day):02d}")
        else:
            meta.append('publisher: "Twitter"')
        path.write_text("---\n" + "\n".join(meta) + "\n---\n" + text.strip() + "\n")
    indexed = set(indexed)
    questions = []
    for row in rows:
        text, number = row["Tweet"], numbers[row["Tweet"]]
        if number in TWEETS_IN_DEV:
            continue
        question, answers = row["Question"], row["Answer"]
        if fold(question).lower() == fold(answers[0]).lower():
            continue  # a worker's note, not a question
        if text in withheld:
            questions.append(Question(question, answers, None, WITHHELD_TWEET, _half(number)))
        elif (
            text in indexed
            and tweet_contains(text, answers)
            and not all(fold(a).lower() in _FUNCTION_WORDS for a in answers)
        ):
            gold = f"{number:04d}.md"
            questions.append(Question(question, answers, gold, ANSWERABLE, _half(number)))
    return questions


def build(corpus: Path, index: Path) -> None:
    """Bring `index` up to date with `corpus` (incremental: only new files are embedded)."""
    from qa.index.build import build_index

    build_index(corpus, index, progress=True)


def collect(engine, questions: list[Question], cache: Path, contains) -> list[dict]:
    """Ask every question once; cache one JSON line per question (its fields, the top
    passages' files, whether the top 1 / top 3 passages and the answer sentence hold a gold
    answer, the confidence signals, the top passage and answer sentence, the seconds taken).
    Reads the cache when it has them.
    """
    if cache.exists():
        rows = [json.loads(line) for line in cache.read_text().splitlines()]
        if len(rows) == len(questions):
            return rows
    rows = []
    for number, q in enumerate(questions):
        started = time.perf_counter()
        answer, signals = engine.answer_with_signals(q.question, k=DEPTH)
        seconds = time.perf_counter() - started
        hits = [contains(p.text, q.answers) for p in answer.passages]
        row = asdict(q) | {
            "files": [p.source for p in answer.passages],
            "score": answer.passages[0].score if answer.passages else None,
            "hit1": bool(q.gold) and bool(hits) and hits[0],
            "hit3": bool(q.gold) and any(hits[:3]),
            "sentence": bool(q.gold) and contains(answer.text, q.answers),
            "doc1": bool(q.gold) and bool(answer.passages) and answer.passages[0].source == q.gold,
            "signals": asdict(signals) if signals else None,
            "title": answer.passages[0].title if answer.passages else "",
            "passage": answer.passages[0].text if answer.passages else "",
            "answer": answer.text,
            "seconds": seconds,
        }
        rows.append(row)
        if number % 500 == 0:
            print(f"  {number}/{len(questions)}", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".partial")
    partial.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    partial.replace(cache)
    return rows


def copy_tree(source: Path, target: Path) -> None:
    if not target.exists():
        shutil.copytree(source, target, symlinks=True)
