"""Follow-up questions: each answered with its earlier question as history and without it.

`bench/followups.jsonl` holds pairs about the seed corpus, one JSON object a line:
`{"history": [earlier questions], "q": follow-up, "a": [answer strings]}`. A passage hits
when it contains an answer string (as in `qa eval`). Prints hit@1, hit@5 and the answer
sentence for both ways of asking; `--each` lists every pair with the rank of its first hit
(with history / alone, "-" when not in the top 5) and a "*" when the answer sentence holds
the answer.

    python bench/followups.py --corpus corpus --index index [--each]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from qa.engine import Engine  # noqa: E402
from qa.evaluate import Tally, contains_answer  # noqa: E402

PAIRS = Path(__file__).resolve().parent / "followups.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="corpus")
    parser.add_argument("--index", default="index")
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--each", action="store_true", help="list every pair's ranks")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.pairs.read_text().splitlines() if line.strip()]
    engine = Engine(args.corpus, args.index, build_if_missing=False)
    print(f"{len(rows)} follow-up questions\n")
    print("| asked | hit@1 | hit@5 | answer sentence |")
    print("|---|---|---|---|")
    tallies = {}
    for label, with_history in (("with the earlier question", True), ("alone", False)):
        tally = tallies[label] = Tally()
        for row in rows:
            history = row["history"] if with_history else None
            result = engine.answer(row["q"], k=5, history=history)
            hits = [contains_answer(p.text, row["a"]) for p in result.passages]
            tally.add(hits, contains_answer(result.text, row["a"]))
        n = len(rows)
        print(
            f"| {label} | {round(tally.hit_at(1) * n)}/{n} | {round(tally.hit_at(5) * n)}/{n} | "
            f"{round(tally.answer_sentence * n)}/{n} |"
        )
    if args.each:
        print("\n| earlier question | follow-up | with history | alone |\n|---|---|---|---|")
        both = zip(rows, *(zip(t.ranks, t.sentences) for t in tallies.values()))
        for row, *ways in both:
            cells = [f"{'-' if r is None else r}{'*' if s else ''}" for r, s in ways]
            print(f"| {row['history'][-1]} | {row['q']} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
