"""Follow-up questions: each answered with its earlier question as history and without it.

`bench/followups.jsonl` holds pairs about the seed corpus, one JSON object a line:
`{"history": [earlier questions], "q": follow-up, "a": [answer strings]}`
(`bench/followups-chains.jsonl`: conversations of three questions, also asked with the
latest earlier question alone as history). A passage hits
when it contains an answer string (as in `qa eval`). Prints hit@1, hit@5, the answer
sentence and the median time of an answer for both ways of asking; `--each` lists every
pair with the rank of its first hit (with history / alone, "-" when not in the top 5) and a
"*" when the answer sentence holds the answer. `--switch FILE` (lines of `{"q", "a"}`, as
for `qa eval`) asks each of its questions after the one before it, a change of subject,
and alone: a question that stands alone should keep its answer. `--asked 0 --topic 0`
searches a follow-up by its reading in context alone, with no article preference
(`SearchParams`).

    python bench/followups.py --corpus corpus --index index [--each]
    python bench/followups.py --switch ../shared/bench/seed_dev_qa.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from qa.engine import Engine  # noqa: E402
from qa.evaluate import Tally, contains_answer  # noqa: E402
from qa.search.query import ASKED, TOPIC, SearchParams  # noqa: E402

PAIRS = Path(__file__).resolve().parent / "followups.jsonl"


def _ask(
    engine: Engine, rows: list[dict], ways: list[list[list[str] | None]]
) -> list[tuple[Tally, float]]:
    """Ask every row's question once per way of asking (a history for each row); per way,
    the tally and the median milliseconds. The ways take turns on each row, so a change of
    the machine's load falls on all of them alike."""
    tallies, times = [Tally() for _ in ways], [[] for _ in ways]
    for number, row in enumerate(rows):
        for tally, spent, histories in zip(tallies, times, ways):
            start = time.perf_counter()
            result = engine.answer(row["q"], k=5, history=histories[number])
            spent.append(1000 * (time.perf_counter() - start))
            hits = [contains_answer(p.text, row["a"]) for p in result.passages]
            tally.add(hits, contains_answer(result.text, row["a"]))
    return [(tally, statistics.median(spent)) for tally, spent in zip(tallies, times)]


def _line(label: str, tally: Tally, milliseconds: float) -> str:
    n = len(tally.ranks)
    return (
        f"| {label} | {round(tally.hit_at(1) * n)}/{n} | {round(tally.hit_at(5) * n)}/{n} | "
        f"{sum(tally.sentences)}/{n} | {milliseconds:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="corpus")
    parser.add_argument("--index", default="index")
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--each", action="store_true", help="list every pair's ranks")
    parser.add_argument("--switch", type=Path, help="questions asked after the one before")
    parser.add_argument("--asked", type=float, default=ASKED, help="SearchParams.asked")
    parser.add_argument("--topic", type=float, default=TOPIC, help="SearchParams.topic")
    args = parser.parse_args()
    params = SearchParams(asked=args.asked, topic=args.topic)
    engine = Engine(args.corpus, args.index, build_if_missing=False, params=params)
    if args.switch:
        rows = [json.loads(line) for line in args.switch.read_text().splitlines() if line.strip()]
        histories = [[rows[i - 1]["q"]] for i in range(len(rows))]
        title = f"{len(rows)} questions, each asked after the one before it"
        ways = (("after the question before", histories), ("alone", [None] * len(rows)))
    else:
        rows = [json.loads(line) for line in args.pairs.read_text().splitlines() if line.strip()]
        title = f"{len(rows)} follow-up questions"
        ways = (
            ("with the earlier questions", [r["history"] for r in rows]),
            ("alone", [None] * len(rows)),
        )
        if any(len(r["history"]) > 1 for r in rows):  # conversations of three turns or more
            ways += (("with the latest earlier question only", [r["history"][-1:] for r in rows]),)
    print(f"{title} (asked {args.asked}, topic {args.topic})\n")
    print("| asked | hit@1 | hit@5 | answer sentence | median ms |")
    print("|---|---|---|---|---|")
    results = _ask(engine, rows, [histories for _, histories in ways])
    for (label, _), (tally, milliseconds) in zip(ways, results):
        print(_line(label, tally, milliseconds))
    tallies = [tally for tally, _ in results]
    if args.each:
        labels = ["with history", "alone", "latest only"][: len(ways)]
        print(f"\n| earlier question | question | {' | '.join(labels)} |")
        print("|---|---|" + "---|" * len(labels))
        for row, history, *both in zip(
            rows, ways[0][1], *(zip(t.ranks, t.sentences) for t in tallies)
        ):
            cells = [f"{'-' if r is None else r}{'*' if s else ''}" for r, s in both]
            print(f"| {history[-1] if history else ''} | {row['q']} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
