"""Study of the answer-sentence step: can a fitted model choose the top passage's sentence?

`collect` asks each question once through the hybrid default's own ranking (the candidates,
fused scores and MaxSim rerank of `qa.search.retrieval`, then the answer type and the
signature rule as `search` applies them) and caches, per question, every sentence of the
top passage: its text, whether it holds a gold answer, its final fused sentence score, each
sentence leg's raw value and z-score over the reranked passages' sentences, whether it holds
words of the kind the question asks for, and the question's cosine with the sentence read
together with the one before it and with the one after it (embedded here). Every
`CHECK_EVERY`-th question is also asked through `Engine.answer`, to confirm that the cached
scores choose the sentence it shows (the date preferences of `Engine.answer`, which never
apply on SQuAD's undated files, are left out here, so on the dated tweets a few may differ).

`fit` turns the cache into features (`features`), fits a pairwise logistic ranker per
feature set on the fit half (odd-numbered SQuAD articles) and reports the answer-sentence
accuracy on the report half (even-numbered articles), with the questions it wins and loses
against today's rule, and on a TweetQA sample; and a gradient-boosted switch between the
two best-scored sentences, the most flexible of the models tried.

    python bench/sentences.py collect --set squad --folder DIR --out squad.jsonl
    python bench/sentences.py collect --set tweetqa --folder DIR --out tweets.jsonl
    python bench/sentences.py fit --squad squad.jsonl --tweets tweets.jsonl

`--folder` holds `corpus/` and a built `index/` (read only): for SQuAD the corpus
bench/squad.py writes, for TweetQA the one bench/sets.py writes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import sets  # noqa: E402

from qa import threads  # noqa: E402
from qa.index.lexical import content_terms  # noqa: E402
from qa.search.fusion import zscore  # noqa: E402
from qa.search.query import Query, SearchParams  # noqa: E402

TWEET_SAMPLE = 3000  # TweetQA answerable questions asked, drawn with random.Random(0)
CHECK_EVERY = 97  # ask this often through `Engine.answer` too, and compare
FLOOR = -1e6  # a signature line's score: below every sentence of its passage
_PRONOUN = re.compile(
    r"^\W*(he|she|it|they|this|these|those|that|its|his|her|their|there|such|both)\b", re.I
)
_CAPITAL = re.compile(r"\b[A-Z][\w'-]*")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
# The words naming what is asked for: up to three after "what", "which" or "whose".
_HEAD = re.compile(r"\b(?:what|which|whose)\s+((?:[\w'-]+\s+){0,2}[\w'-]+)", re.I)
LEGS = ["score", "z_bm25", "z_cosine", "z_titled", "z_maxsim", "typed"]
TEXT = ["coverage", "new_terms", "new_caps", "new_numbers", "words"]
CONTEXT = ["first", "pronoun", "prev_best", "prev_best_pronoun", "prev_score", "next_score"]
WINDOWS = ["with_prev", "with_next", "prev_gain", "next_gain"]
FEATURE_SETS = {
    "today's score alone": ["score"],
    "the legs reweighted": LEGS,
    "+ the sentence's words": LEGS + TEXT,
    "score + its neighbours": ["score", "typed"] + CONTEXT,
    "score + windows": ["score", "typed"] + WINDOWS,
    "score + the asked-for words": ["score", "typed", "head"],
    "everything": LEGS + TEXT + CONTEXT + WINDOWS + ["head"],
}
NAMES = list(dict.fromkeys(name for chosen in FEATURE_SETS.values() for name in chosen))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    asking = commands.add_parser("collect", help="ask the questions, cache the sentences")
    asking.add_argument("--set", choices=("squad", "tweetqa"), required=True)
    asking.add_argument("--folder", type=Path, required=True, help="corpus/ and index/")
    asking.add_argument("--out", type=Path, required=True, help="the cache (JSON lines)")
    asking.add_argument("--sample", type=int, help="questions to draw (random.Random(0))")
    fitting = commands.add_parser("fit", help="fit on the fit half, report the other")
    fitting.add_argument("--squad", type=Path, required=True)
    fitting.add_argument("--tweets", type=Path)
    args = parser.parse_args()
    return collect(args) if args.command == "collect" else report(args.squad, args.tweets)


def collect(args: argparse.Namespace) -> int:
    from qa.engine import Engine

    threads.settle()
    if args.set == "squad":
        questions, contains = sets.squad_full(), sets.squad_contains
    else:
        questions = sets.tweetqa(args.folder / "corpus")
        questions = [q for q in questions if q.kind == sets.ANSWERABLE]
        contains, args.sample = sets.tweet_contains, args.sample or TWEET_SAMPLE
    if args.sample and args.sample < len(questions):
        questions = random.Random(0).sample(questions, args.sample)
    engine = Engine(args.folder / "corpus", args.folder / "index", build_if_missing=False)
    done = sum(1 for _ in args.out.open()) if args.out.exists() else 0
    started, differ = time.perf_counter(), 0
    with args.out.open("a") as out:
        for number, question in enumerate(questions[done:], done):
            row = study(engine, question, contains)
            if number % CHECK_EVERY == 0:
                shown = engine.answer(question.question).text
                differ += shown != (
                    row["sentences"][_best(row)]["text"] if row["sentences"] else ""
                )
            out.write(json.dumps(row) + "\n")
            if number % 1000 == 0:
                seconds = time.perf_counter() - started
                print(f"{number}/{len(questions)}, {seconds:.0f} s", flush=True)
    print(f"done; {differ} of the answers checked differ from Engine.answer", flush=True)
    return 0


def study(engine, question: sets.Question, contains) -> dict:
    """One question's top passage: its sentences and what the search knows of each."""
    from qa.search import retrieval
    from qa.search.answers import spans

    index, params = engine.index, SearchParams()
    query = Query.read(question.question, engine.embedder)
    row = {"question": question.question, "half": question.half, "sentences": []}
    ranked = retrieval.rank(index, query, params, None)
    if ranked is None:
        return row
    found, order, _, sentence_scores = ranked
    top = int(order[0])
    reranked = np.flatnonzero(np.isin(found.owner, order[: params.rerank]))
    mine = np.flatnonzero(found.owner == top)
    texts = [retrieval.sentence_text(index, int(s)) for s in found.sentences[mine]]
    legs = found.readings[0].sentence_legs
    # No MaxSim when the rerank did not run (a question without content word pieces).
    maxsims = found.maxsims[1] if found.maxsims is not None else np.zeros(len(found.owner))
    raw = {"bm25": legs[0], "cosine": legs[1], "titled": legs[2], "maxsim": maxsims}
    scaled = {}
    for name, values in raw.items():
        scaled[name] = np.zeros(len(found.owner))
        scaled[name][reranked] = zscore(values[reranked])
    # The question's cosine with each pair of neighbouring sentences read together.
    pairs = [f"{a} {b}" for a, b in zip(texts, texts[1:])]
    windows = (engine.embedder.encode(pairs) @ query.vector[0]).tolist() if pairs else []
    for position, (number, text) in enumerate(zip(mine.tolist(), texts)):
        typed = bool(query.kind is not None and spans(text, query.kind, query.searched))
        score = float(sentence_scores[number]) + (params.answer_type if typed else 0.0)
        row["sentences"].append(
            {
                "text": text,
                "label": bool(contains(text, question.answers)),
                "score": FLOOR if retrieval.is_signature(text) else score,
                "typed": typed,
                **{f"raw_{k}": float(v[number]) for k, v in raw.items()},
                **{f"z_{k}": float(v[number]) for k, v in scaled.items()},
                "with_prev": windows[position - 1] if position else None,
                "with_next": windows[position] if position < len(windows) else None,
            }
        )
    return row


def _best(row: dict) -> int:
    """Today's rule: the highest score, the first of equals."""
    return int(np.argmax([s["score"] for s in row["sentences"]]))


def _ranks(row: dict) -> np.ndarray:
    """The sentences by today's score, best first."""
    return np.argsort(-np.array([s["score"] for s in row["sentences"]]), kind="stable")


def features(row: dict) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's features (columns in `FEATURE_SETS`' order of first use) and label."""
    question = row["question"]
    wanted = content_terms(question)
    asked = {w.lower() for w in re.findall(r"[\w'-]+", question)}
    numbers_asked = set(_NUMBER.findall(question))
    named = _HEAD.search(question)
    head = content_terms(named.group(1)) if named else set()
    sentences = row["sentences"]
    scores = np.array([s["score"] for s in sentences])
    best, low = _best(row), scores[scores > FLOOR].min(initial=0.0)
    table = []
    for i, s in enumerate(sentences):
        text, terms = s["text"], content_terms(s["text"])
        before = sentences[i - 1]["score"] if i else low
        after = sentences[i + 1]["score"] if i + 1 < len(sentences) else low
        pronoun = float(bool(_PRONOUN.match(text)))
        with_prev = s["with_prev"] if s["with_prev"] is not None else s["raw_cosine"]
        with_next = s["with_next"] if s["with_next"] is not None else s["raw_cosine"]
        values = {
            **{name: float(s[name]) for name in LEGS},
            "coverage": len(terms & wanted) / len(wanted) if wanted else 0.0,
            "new_terms": math.log1p(len(terms - wanted)),
            "new_caps": math.log1p(sum(w.lower() not in asked for w in _CAPITAL.findall(text)[1:])),
            "new_numbers": math.log1p(sum(n not in numbers_asked for n in _NUMBER.findall(text))),
            "words": math.log1p(len(text.split())),
            "first": float(i == 0),
            "pronoun": pronoun,
            "prev_best": float(i - 1 == best),
            "prev_best_pronoun": float(i - 1 == best) * pronoun,
            "prev_score": max(before, low) - low,
            "next_score": max(after, low) - low,
            "with_prev": with_prev,
            "with_next": with_next,
            "prev_gain": with_prev - s["raw_cosine"],
            "next_gain": with_next - s["raw_cosine"],
            "head": float(bool(head & terms)),
        }
        table.append([values[name] for name in NAMES])
    return np.array(table, dtype=float).reshape(-1, len(NAMES)), np.array(
        [s["label"] for s in sentences], dtype=bool
    )


def load(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        row["X"], row["y"] = features(row)
        row["floor"] = np.array([s["score"] <= FLOOR for s in row["sentences"]], dtype=bool)
    return rows


def fit_ranker(rows: list[dict], columns: list[int]) -> np.ndarray:
    """Weights of a pairwise logistic ranker (RankNet's loss with a linear scorer; Burges et
    al., ICML 2005): every pair of a sentence holding the answer and one not, within a
    question's top passage, each question weighing 1 in all."""
    from sklearn.linear_model import LogisticRegression

    differences, weights = [], []
    for row in rows:
        right, wrong = row["y"], ~row["y"] & ~row["floor"]
        if not right.any() or not wrong.any():
            continue
        for good in row["X"][right][:, columns]:
            for bad in row["X"][wrong][:, columns]:
                differences.append(good - bad)
                weights.append(1.0 / (right.sum() * wrong.sum()))
    pairs, weights = np.array(differences), np.array(weights)
    model = LogisticRegression(fit_intercept=False, max_iter=2000)
    model.fit(
        np.vstack([pairs, -pairs]),
        np.r_[np.ones(len(pairs)), np.zeros(len(pairs))],
        sample_weight=np.r_[weights, weights],
    )
    return model.coef_[0]


def right(rows: list[dict], choose) -> np.ndarray:
    """Per question: whether the chosen sentence of the top passage holds a gold answer."""
    return np.array([bool(len(row["y"]) and row["y"][choose(row)]) for row in rows])


def ranked_by(columns: list[int], weights: np.ndarray):
    def choose(row: dict) -> int:
        return int(np.argmax(np.where(row["floor"], -np.inf, row["X"][:, columns] @ weights)))

    return choose


def switch(fit_rows: list[dict]):
    """A gradient-boosted classifier of whether the second-best sentence holds the answer
    when exactly one of the two best does, on both sentences' features and their
    differences; the chooser switches when it says more likely than not."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    def pair(row: dict) -> tuple[int, int, np.ndarray] | None:
        scores = np.where(row["floor"], -np.inf, row["X"][:, NAMES.index("score")])
        if np.isfinite(scores).sum() < 2:
            return None
        first, second = np.argsort(-scores, kind="stable")[:2]
        x = row["X"]
        return first, second, np.r_[x[first] - x[second], x[first], x[second], second - first]

    table, labels = [], []
    for row in fit_rows:
        found = pair(row)
        if found and row["y"][found[0]] != row["y"][found[1]]:
            table.append(found[2])
            labels.append(row["y"][found[1]])
    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0)
    model.fit(np.array(table), np.array(labels))

    def choose(row: dict) -> int:
        found = pair(row)
        if found is None:
            return _best(row)
        first, second, x = found
        return int(second if model.predict_proba(x[None])[0, 1] > 0.5 else first)

    return choose


def report(squad: Path, tweets: Path | None) -> int:
    rows = load(squad)
    fit_rows = [row for row in rows if row["half"] == "fit"]
    report_rows = [row for row in rows if row["half"] == "report"]
    tweet_rows = load(tweets) if tweets else []
    today = right(report_rows, _best)
    held = np.mean([bool(row["y"].any()) for row in report_rows])
    print(f"SQuAD report half: {len(report_rows)} questions (fit half {len(fit_rows)}); ")
    print(f"the top passage holds a gold answer for {held:.3f}")
    lost = [row for row in rows if row["y"].any() and not row["y"][_best(row)]]
    second = sum(bool(row["y"][_ranks(row)[1]]) for row in lost)
    after = sum(bool(_best(row) + 1 < len(row["y"]) and row["y"][_best(row) + 1]) for row in lost)
    print(
        f"all halves: {len(lost)} lost with a gold answer in the top passage, {second} of them "
        f"in the second-best sentence, {after} in the sentence after the best\n"
    )
    print("| sentence choice | report half | won / lost against today | fit half | tweets |")
    print("|---|---|---|---|---|")

    def line(label: str, choose) -> None:
        got = right(report_rows, choose)
        won, lost = int((got & ~today).sum()), int((~got & today).sum())
        tweet = f"{right(tweet_rows, choose).mean():.3f}" if tweet_rows else "—"
        on_fit = right(fit_rows, choose).mean()
        print(f"| {label} | {got.mean():.3f} | +{won} / −{lost} | {on_fit:.3f} | {tweet} |")

    line("today's rule: the best fused score (answer type 6)", _best)
    fitted = []
    for label, chosen in FEATURE_SETS.items():
        columns = [NAMES.index(name) for name in chosen]
        weights = fit_ranker(fit_rows, columns)
        line(f"ranker: {label}", ranked_by(columns, weights))
        fitted.append(f"{label}: " + ", ".join(f"{n} {w:+.2f}" for n, w in zip(chosen, weights)))
    line("gradient-boosted switch between the two best, everything", switch(fit_rows))
    print("\nThe rankers' weights:\n" + "\n".join(fitted))
    return 0


if __name__ == "__main__":
    sys.exit(main())
