"""Retrieval benchmark on SQuAD v1.1 dev through the project's own pipeline.

Every paragraph becomes one corpus file (its article's title as front matter); `Engine`
builds the index and answers each question once per retrieval mode. Prints one Markdown
table row per mode (and for the hybrid without its MaxSim rerank): R@1, R@5, R@20 (distinct
paragraphs among the top 20 passages), MRR over the top 20, answer-sentence accuracy, how often
`Answer.exact` is given and its token F1 against the gold answers where it is (SQuAD's
official F1: best over the gold answers, after lowercasing and dropping punctuation and
articles), build time, and query p50/p95.

    python bench/squad.py                  # all 10,570 questions
    python bench/squad.py --sample 2000    # the README's 2,000-question sample (seed 0)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import string
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from qa import threads  # noqa: E402
from qa.engine import Engine, build_index  # noqa: E402
from qa.evaluate import Tally, contains_answer  # noqa: E402
from qa.search.query import SearchParams  # noqa: E402

SQUAD = Path(__file__).resolve().parents[2] / "shared" / "bench" / "squad-dev-v1.1.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--sample", type=int, help="questions to sample (random.seed(0))")
    parser.add_argument("--work", type=Path, help="folder for corpus and index (kept)")
    parser.add_argument(
        "--modes",
        default="lexical,dense,hybrid:no-rerank,hybrid",
        help="retrieval modes; ':no-rerank' turns the MaxSim rerank off",
    )
    args = parser.parse_args()
    threads.settle()  # as the `qa` command does, before torch and faiss load

    work = args.work or Path(tempfile.mkdtemp(prefix="qa-squad-"))
    questions = write_corpus(args.squad, work / "corpus")
    if args.sample:
        random.seed(0)
        questions = random.sample(questions, args.sample)

    started = time.perf_counter()
    if not (work / "index" / "CURRENT").exists():
        build_index(work / "corpus", work / "index", progress=True)
    build_seconds = time.perf_counter() - started

    print(f"\n{len(questions)} questions, build {build_seconds:.0f} s, work folder {work}\n")
    print(
        "| method | R@1 | R@5 | R@20 | MRR | answer sentence | exact given | exact F1 | "
        "query p50 | query p95 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for method in args.modes.split(","):
        mode, _, variant = method.partition(":")
        params = SearchParams(mode, rerank=0) if variant == "no-rerank" else SearchParams(mode)
        engine = Engine(work / "corpus", work / "index", params=params, build_if_missing=False)
        row = run(engine, questions)
        print(
            f"| {method} | {row['R@1']:.3f} | {row['R@5']:.3f} | {row['R@20']:.3f} | "
            f"{row['MRR']:.3f} | {row['sentence']:.3f} | {row['given']:.3f} | "
            f"{row['exact F1']:.3f} | {row['p50']:.1f} ms | "
            f"{row['p95']:.1f} ms |",
            flush=True,
        )


def write_corpus(squad: Path, corpus: Path) -> list[tuple[str, str, list[str]]]:
    """One file per paragraph; returns (question, gold file, answers) triples."""
    corpus.mkdir(parents=True, exist_ok=True)
    questions = []
    number = 0
    for article in json.loads(squad.read_text())["data"]:
        title = article["title"].replace("_", " ")
        for paragraph in article["paragraphs"]:
            name = f"{number:05d}.md"
            path = corpus / name
            if not path.exists():
                path.write_text(f"---\ntitle: {json.dumps(title)}\n---\n{paragraph['context']}\n")
            for qa in paragraph["qas"]:
                questions.append((qa["question"], name, [a["text"] for a in qa["answers"]]))
            number += 1
    return questions


def run(engine: Engine, questions: list[tuple[str, str, list[str]]]) -> dict[str, float]:
    tally, seconds, f1s = Tally(), [], []
    for question, gold, answers in questions:
        started = time.perf_counter()
        result = engine.answer(question, k=20)
        seconds.append(time.perf_counter() - started)
        files = list(dict.fromkeys(p.source for p in result.passages))  # distinct paragraphs
        tally.add([file == gold for file in files], contains_answer(result.text, answers))
        if result.exact is not None:
            f1s.append(max(token_f1(result.exact, answer) for answer in answers))
    seconds.sort()
    n = len(seconds)
    return {
        "R@1": tally.hit_at(1),
        "R@5": tally.hit_at(5),
        "R@20": tally.hit_at(20),
        "MRR": tally.mrr,
        "sentence": tally.answer_sentence,
        "given": len(f1s) / n,
        "exact F1": statistics.fmean(f1s) if f1s else 0.0,
        "p50": 1000 * statistics.median(seconds),
        "p95": 1000 * seconds[int(0.95 * (n - 1))],
    }


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD v1.1's token F1 (its official evaluate-v1.1.py): words after lowercasing and
    dropping punctuation and the articles a, an, the."""
    predicted, wanted = _tokens(prediction), _tokens(gold)
    common = sum((Counter(predicted) & Counter(wanted)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def _tokens(text: str) -> list[str]:
    text = "".join(ch for ch in text.lower() if ch not in string.punctuation)
    return re.sub(r"\b(a|an|the)\b", " ", text).split()


if __name__ == "__main__":
    main()
