"""Fit the confidence models on the odd halves of the three sets; write their file.

Two logistic regressions over `qa.search.confidence.Signals`, one per kind of corpus: short
posts (the fit half of TweetQA train) and longer passages (the fit halves of SQuAD v1.1 dev
with articles and paragraphs withheld and of the SQuAD 2.0 dev articles 13-35, pooled). The
same signals mean a right answer at different rates on the two kinds, so one model for both
is calibrated on neither. Each kind is known by its corpora's median passage length, which
`Engine` measures from any index (`StoredIndex.passage_chars`) to choose or mix the two
(`Models.for_corpus`). The target is "the top passage holds a gold answer" (0 for every
question the corpus cannot answer). A weight that comes out against its signal's direction
(`qa.search.confidence.DIRECTIONS`) drops that signal and the fit is repeated, so the
confidence stays monotone in every signal. The default threshold is the confidence that
keeps KEPT of the right answers of all fit halves found, each scored by its kind's model.
Prints the report halves' figures; writes src/qa/search/confidence.json unless --dry-run.

    python bench/fit_confidence.py --work DIR --squad-source DIR
    python bench/fit_confidence.py --work DIR --squad-source DIR --without margin --dry-run
    python bench/fit_confidence.py --work DIR --squad-source DIR --one-model --dry-run
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import trust

from qa.search.confidence import DIRECTIONS, MODEL_FILE, Model, Models, signal_names

KEPT = 0.95  # share of right answers (fit halves) that the default threshold keeps found
C = 1.0  # inverse L2 strength on standardised signals (scikit-learn's default)
COMMAND = "python bench/fit_confidence.py --work DIR --squad-source DIR"
KINDS = {"short_posts": ("tweetqa",), "longer_passages": ("squad-abstain", "squad2")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="corpora, indexes and caches")
    parser.add_argument("--squad-source", type=Path, help="a built SQuAD v1.1 dev corpus+index")
    parser.add_argument("--without", default="", help="signals to leave out, comma-separated")
    parser.add_argument("--balance", action="store_true", help="weigh the sets of a kind equally")
    parser.add_argument(
        "--one-model", action="store_true", help="one model for both kinds (as before)"
    )
    parser.add_argument("--dry-run", action="store_true", help="do not write the model file")
    args = parser.parse_args()

    data = trust.load(args.work, args.squad_source)
    chars = {name: trust.passage_chars(args.work, name) for name in data}
    names = [n for n in signal_names() if n not in set(filter(None, args.without.split(",")))]
    fit_rows = {name: [r for r in rows if r["half"] == "fit"] for name, rows in data.items()}
    models = fit_kinds(fit_rows, chars, names, args.balance, args.one_model)
    print(f"threshold (keeps {KEPT:.0%} of right answers of the fit halves): {models.threshold}")
    report(data, chars, models)
    if not args.dry_run:
        write(models, fit_rows, args)
    return 0


def fit_kinds(
    rows_by_set: dict[str, list[dict]],
    chars: dict[str, int],
    names: list[str],
    balance: bool,
    one_model: bool = False,
) -> Models:
    """A model per kind of corpus (or one for both), each at its corpora's median passage
    length, and the threshold that keeps `KEPT` of the right answers found."""

    def fitted(kind: str, members) -> Model:
        model, dropped = fit({m: rows_by_set[m] for m in members}, names, balance)
        print(f"{kind}: {', '.join(model.weights)}; dropped for their sign: {dropped or 'none'}")
        return model

    if one_model:  # fitted once, on every set
        short_model = long_model = fitted("both kinds", rows_by_set)
    else:
        short_model = fitted("short_posts", KINDS["short_posts"])
        long_model = fitted("longer_passages", KINDS["longer_passages"])
    short = max(chars[m] for m in KINDS["short_posts"])
    long = min(chars[m] for m in KINDS["longer_passages"])
    models = Models(short_model, long_model, short, long, 0.0)
    right = np.concatenate(
        [
            trust.confidences([r for r in rows if trust.right(r)], models.for_corpus(chars[name]))
            for name, rows in rows_by_set.items()
        ]
    )
    threshold = round(trust.cut_keeping(right, KEPT), 4)
    return Models(
        replace(short_model, threshold=threshold),
        replace(long_model, threshold=threshold),
        short,
        long,
        threshold,
    )


def fit(
    rows_by_set: dict[str, list[dict]], names: list[str], balance: bool
) -> tuple[Model, list[str]]:
    """The logistic model on the pooled rows, dropping signals whose weight has the wrong
    sign; returns it (threshold 0) and the dropped names."""
    from sklearn.linear_model import LogisticRegression

    rows = [r for set_rows in rows_by_set.values() for r in set_rows if r["signals"]]
    labels = np.array([trust.right(r) for r in rows], dtype=float)
    weights = None
    if balance:
        sizes = {name: sum(1 for r in rs if r["signals"]) for name, rs in rows_by_set.items()}
        weights = np.concatenate(
            [np.full(sizes[name], len(rows) / (len(sizes) * sizes[name])) for name in sizes]
        )
    dropped: list[str] = []
    names = list(names)
    while True:
        matrix = np.array([[r["signals"][n] for n in names] for r in rows])
        mean, scale = matrix.mean(axis=0), matrix.std(axis=0)
        scale[scale == 0] = 1.0
        regression = LogisticRegression(C=C, max_iter=1000)
        regression.fit((matrix - mean) / scale, labels, sample_weight=weights)
        coefficients = regression.coef_[0] / scale
        wrong = [(abs(c), n) for c, n in zip(coefficients, names) if np.sign(c) == -DIRECTIONS[n]]
        if not wrong:
            break
        name = max(wrong)[1]
        dropped.append(name)
        names.remove(name)
    intercept = float(regression.intercept_[0] - (coefficients * mean).sum())
    model = Model(
        weights={n: round(float(c), 6) for n, c in zip(names, coefficients)},
        intercept=round(intercept, 6),
        threshold=0.0,
    )
    return model, dropped


def report(data: dict[str, list[dict]], chars: dict[str, int], models: Models) -> None:
    """AUROC, flagged at 90% / 95% kept, and ECE on each set's report half, each with the
    model `Engine` uses on its corpus."""
    print(
        "\n| set (report half) | median passage | right | cannot answer | AUROC | "
        "flagged at 90% kept | at 95% kept | flagged at the default threshold | right found "
        "| ECE |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, rows in data.items():
        m = trust.measure(rows, models.for_corpus(chars[name]))
        print(
            f"| {name} | {chars[name]} characters | {m['right']} | {m['cannot']} | "
            f"{m['auroc']:.3f} | {m['flagged_90']:.3f} | {m['flagged_95']:.3f} | "
            f"{m['flagged_default']:.3f} | {m['kept_default']:.3f} | {m['ece']:.3f} |"
        )


def write(models: Models, fit_rows: dict[str, list[dict]], args: argparse.Namespace) -> None:
    def counts(kind: str) -> dict[str, dict[str, int]]:
        members = fit_rows if args.one_model else {m: fit_rows[m] for m in KINDS[kind]}
        return {
            name: {"questions": len(rows), "right": sum(trust.right(r) for r in rows)}
            for name, rows in members.items()
        }

    def entry(kind: str, model: Model, chars: float) -> dict:
        return {
            "passage_chars": chars,
            "fitted_on": counts(kind),
            "weights": model.weights,
            "intercept": model.intercept,
        }

    data = {
        "comment": (
            f"Logistic models of qa.search.confidence, fitted by `{COMMAND}` (BENCHMARKS.md, "
            "'Confidence and not found'): short_posts on the fit half of TweetQA train, "
            "longer_passages on the fit halves of SQuAD v1.1 dev with 12 articles and 15% of "
            "the other paragraphs withheld and of SQuAD 2.0 dev articles 13-35. passage_chars "
            "is the median passage length of those corpora (the longest of short posts, the "
            "shortest of longer passages); a corpus between gets the two mixed. threshold "
            f"keeps {KEPT:.0%} of the right answers of the fit halves found."
        ),
        "command": COMMAND
        + (" --balance" if args.balance else "")
        + (" --one-model" if args.one_model else "")
        + (f" --without {args.without}" if args.without else ""),
        "short_posts": entry("short_posts", models.short, models.short_chars),
        "longer_passages": entry("longer_passages", models.long, models.long_chars),
        "threshold": models.threshold,
    }
    MODEL_FILE.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    sys.exit(main())
