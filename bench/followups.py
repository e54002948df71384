"""Follow-up questions: each answered with its earlier question as history and without it.

`bench/followups.jsonl` holds pairs about the seed corpus, one JSON object a line:
`{"history": [earlier questions], "q": follow-up, "a": [answer strings]}`. A passage hits
when it contains an answer string (as in `qa eval`). Prints hit@1, hit@5 and the answer
sentence for both ways of asking.

    python bench/followups.py --corpus corpus --index index
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
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.pairs.read_text().splitlines() if line.strip()]
    engine = Engine(args.corpus, args.index, build_if_missing=False)
    print(f"{len(rows)} follow-up questions\n")
    print("| asked | hit@1 | hit@5 | answer sentence |")
    print("|---|---|---|---|")
    for label, with_history in (("with the earlier question", True), ("alone", False)):
        tally = Tally()
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


if __name__ == "__main__":
    main()
