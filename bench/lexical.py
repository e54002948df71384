"""The BM25 leg alone on SQuAD v1.1 dev: does its tokenisation hold up on ordinary prose?

Usage: PYTHONPATH=src python bench/lexical.py [--squad ../shared/bench/squad-dev-v1.1.json]

Each of the 2,067 paragraphs is one text, read as the lexical leg reads a passage: with its
article's title in front ("Super Bowl 50. Super Bowl 50 was an American football game…").
`qa.index.lexical.Lexical` indexes them and scores all 10,570 questions; R@k counts the question's
own paragraph among the k best. No model is loaded.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "bench" / "squad-dev-v1.1.json"


def main(argv: list[str] | None = None) -> int:
    from qa.index.lexical import Lexical

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    args = parser.parse_args(argv)
    data = json.loads(args.squad.read_text(encoding="utf-8"))["data"]
    texts, questions = [], []
    for article in data:
        title = article["title"].replace("_", " ")
        for paragraph in article["paragraphs"]:
            questions += [(qa["question"], len(texts)) for qa in paragraph["qas"]]
            texts.append(f"{title}. {paragraph['context']}")
    started = time.perf_counter()
    lexical = Lexical.build(texts)
    built = time.perf_counter() - started
    ranks = []
    for question, gold in questions:
        scores = lexical.scores(question)
        # ties are broken by position, as a stable sort of the scores would
        ranks.append(int((scores > scores[gold]).sum() + (scores[:gold] == scores[gold]).sum()))
    ranks = np.array(ranks)
    print(f"{len(texts)} paragraphs, {len(questions)} questions, indexed in {built:.1f} s")
    print("| R@1 | R@5 | R@20 |")
    print("|---|---|---|")
    cells = (f"{(ranks < k).mean():.4f} ({(ranks < k).sum():,})" for k in (1, 5, 20))
    print(" | ".join(["", *cells, ""]).strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
