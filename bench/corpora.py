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

from qa.search.confidence import Model


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
    model = Model.load()
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
        rows = [r for r in data[retrieval] if r["kind"] == sets.ANSWERABLE]
        m = trust.measure(data[confidence], model)
        seconds = np.median([r["seconds"] for r in data[retrieval]])
        print(
            f"| {label} | {len(rows)} | {_share(rows, 'hit1')} | {_share(rows, 'hit3')} | "
            f"{_share(rows, 'sentence')} | {_share(rows, 'doc1')} | {m['cannot']} | "
            f"{m['auroc_fused']:.3f} | {m['auroc']:.3f} | {m['flagged_90']:.3f} | "
            f"{m['flagged_95']:.3f} | {m['ece']:.3f} | {1000 * seconds:.0f} ms |"
        )
    if args.whole_tweets:
        every = trust.load(args.work, None, ["tweetqa"], sample=False)["tweetqa"]
        rows = [r for r in every if r["kind"] == sets.ANSWERABLE]
        seconds = np.median([r["seconds"] for r in every])
        print(
            f"| TweetQA train, every question ({len(every)}) | {len(rows)} | "
            f"{_share(rows, 'hit1')} | {_share(rows, 'hit3')} | {_share(rows, 'sentence')} | "
            f"{_share(rows, 'doc1')} | | | | | | | {1000 * seconds:.0f} ms |"
        )
    names = [f"tweetqa-500-{seed}" for seed in range(args.tweet_samples)]
    figures = []
    for name, rows in trust.load(args.work, None, names).items():
        answerable = [r for r in rows if r["kind"] == sets.ANSWERABLE]
        m = trust.measure(rows, model)
        seconds = np.median([r["seconds"] for r in rows])
        figures.append(
            [_mean(answerable, key) for key in ("hit1", "hit3", "sentence", "doc1")]
            + [m["auroc_fused"], m["auroc"], m["flagged_90"], m["flagged_95"], m["ece"]]
        )
        print(
            f"| TweetQA train, 500 tweets (seed {name.rsplit('-', 1)[1]}) | {len(answerable)} | "
            + " | ".join(f"{x:.3f}" for x in figures[-1][:4])
            + f" | {m['cannot']} | "
            + " | ".join(f"{x:.3f}" for x in figures[-1][4:])
            + f" | {1000 * seconds:.0f} ms |"
        )
    if len(figures) > 1:
        medians = np.median(np.array(figures), axis=0)
        print(
            f"| TweetQA train, 500 tweets, median of {len(figures)} | | "
            + " | ".join(f"{x:.3f}" for x in medians[:4])
            + " | | "
            + " | ".join(f"{x:.3f}" for x in medians[4:])
            + " | |"
        )


def _share(rows: list[dict], key: str) -> str:
    return f"{_mean(rows, key):.3f}"


def _mean(rows: list[dict], key: str) -> float:
    return sum(r[key] for r in rows) / len(rows)


if __name__ == "__main__":
    main()
