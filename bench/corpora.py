"""The pipeline with default settings on three public sets, by ../shared/bench/README.md.

SQuAD v1.1 dev (one file per paragraph; the retrieval columns on the 2,000 questions that
bench/squad.py samples, the confidence columns from bench/abstain.py's split of it), SQuAD
2.0 dev articles 13-35 (one file per article; its unanswerable questions) and TweetQA train
(one file per tweet, 767 tweets withheld). Retrieval columns over every answerable question:
hit@1 and hit@3 (a gold answer in the top 1 / 3 passages), the answer sentence, doc R@1 (the
top passage is from the question's own file). Confidence columns on the report halves (even-
numbered articles and tweets): AUROC between right answers and the questions the corpus
cannot answer, the share of those flagged at the thresholds that keep 90% and 95% of right
answers found, and the expected calibration error. Then TweetQA again on corpora the size of
the held-out set of its kind: 500 tweets of the report half and their share of withheld
tweets, one row per sample (`--tweet-samples`, seeds 0, 1, ...) and their medians. Answers
and signals are cached under --work (see bench/trust.py).

    python bench/corpora.py --work DIR --squad-source DIR
    python bench/corpora.py --work DIR --squad-source DIR --whole-tweets  # and every tweet question
    python bench/corpora.py --work DIR --squad-source DIR --tweet-samples 0  # none of 500 tweets
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import sets
import trust


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="corpora, indexes and caches")
    parser.add_argument("--squad-source", type=Path, help="a built SQuAD v1.1 dev corpus+index")
    parser.add_argument(
        "--whole-tweets",
        action="store_true",
        help="also the retrieval columns over every TweetQA question, not the sample",
    )
    parser.add_argument(
        "--tweet-samples",
        type=int,
        default=5,
        help="corpora of 500 tweets to measure, each its own sample (default: 5)",
    )
    args = parser.parse_args()
    data = trust.load(args.work, args.squad_source, ["squad-full", *trust.SETS])
    print(
        "\n| corpus | answerable | hit@1 | hit@3 | answer sentence | doc R@1 | cannot answer "
        "(report half) | AUROC (fused score) | AUROC | flagged at 90% kept | at 95% kept "
        "| ECE | query p50 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, retrieval, confidence in (
        ("SQuAD v1.1 dev (2,067 paragraphs; 2,000 questions)", "squad-full", "squad-abstain"),
        ("SQuAD 2.0 dev articles 13-35 (23 articles)", "squad2", "squad2"),
        ("TweetQA train (4,349 tweets)", "tweetqa", "tweetqa"),
    ):
        model = trust.model_for(args.work, confidence)  # the one Engine uses on that corpus
        print(_row(label, data[retrieval], data[confidence], model)[0])
    if args.whole_tweets:
        every = trust.load(args.work, None, ["tweetqa"], sample=False)["tweetqa"]
        print(_row(f"TweetQA train, every question ({len(every)})", every)[0])
    names = [f"tweetqa-500-{seed}" for seed in range(args.tweet_samples)]
    figures = []
    for name, rows in trust.load(args.work, None, names).items():
        seed = name.rsplit("-", 1)[1]
        model = trust.model_for(args.work, name)
        line, numbers = _row(f"TweetQA train, 500 tweets (seed {seed})", rows, rows, model)
        print(line)
        figures.append(numbers)
    if len(figures) > 1:
        medians = np.median(np.array(figures), axis=0)
        cells = [f"{x:.3f}" for x in medians]
        label = f"TweetQA train, 500 tweets, median of {len(figures)}"
        print(_line([label, "", *cells[:4], "", *cells[4:], ""]))


def _row(
    label: str, retrieval: list[dict], confidence: list[dict] | None = None, model=None
) -> tuple[str, list[float]]:
    """One line of the table, and its figures: the retrieval columns over the answerable
    questions of `retrieval`, the confidence columns over `confidence`'s report half (left
    blank without it), and the median seconds of a question."""
    answerable = [r for r in retrieval if r["kind"] == sets.ANSWERABLE]
    numbers = [_mean(answerable, key) for key in ("hit1", "hit3", "sentence", "doc1")]
    cells = [label, str(len(answerable)), *(f"{x:.3f}" for x in numbers)]
    if confidence is None:
        cells += [""] * 6
    else:
        m = trust.measure(confidence, model)
        shown = [m["auroc_fused"], m["auroc"], m["flagged_90"], m["flagged_95"], m["ece"]]
        numbers += shown
        cells += [str(m["cannot"]), *(f"{x:.3f}" for x in shown)]
    seconds = np.median([r["seconds"] for r in retrieval])
    return _line([*cells, f"{1000 * seconds:.0f} ms"]), numbers


def _line(cells: list[str]) -> str:
    """A Markdown table row; an empty cell is one space."""
    return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"


def _mean(rows: list[dict], key: str) -> float:
    return sum(r[key] for r in rows) / len(rows)


if __name__ == "__main__":
    main()
