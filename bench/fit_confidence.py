"""Fit the confidence model on the pooled odd halves of the three sets; write its file.

One logistic regression over `qa.search.confidence.Signals`, for every corpus: fitted on the
fit halves (odd-numbered articles and tweets) of SQuAD v1.1 dev with articles and
paragraphs withheld, the SQuAD 2.0 dev articles 13-35 and TweetQA train, pooled; the target
is "the top passage holds a gold answer" (0 for every question the corpus cannot answer).
A weight that comes out against its signal's direction (`qa.search.confidence.DIRECTIONS`) drops
that signal and the fit is repeated, so the confidence stays monotone in every signal. The
default threshold is the confidence that keeps KEPT of the right answers of the fit halves
found. Prints the report halves' figures; writes src/qa/search/confidence.json unless --dry-run.

    python bench/fit_confidence.py --work DIR --squad-source DIR
    python bench/fit_confidence.py --work DIR --squad-source DIR --without margin --dry-run
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import trust

from qa.search.confidence import DIRECTIONS, MODEL_FILE, Model, signal_names

KEPT = 0.95  # share of right answers (fit halves) that the default threshold keeps found
C = 1.0  # inverse L2 strength on standardised signals (scikit-learn's default)
COMMAND = "python bench/fit_confidence.py --work DIR --squad-source DIR"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="corpora, indexes and caches")
    parser.add_argument("--squad-source", type=Path, help="a built SQuAD v1.1 dev corpus+index")
    parser.add_argument("--without", default="", help="signals to leave out, comma-separated")
    parser.add_argument("--balance", action="store_true", help="weigh the three sets equally")
    parser.add_argument("--dry-run", action="store_true", help="do not write the model file")
    args = parser.parse_args()

    data = trust.load(args.work, args.squad_source)
    names = [n for n in signal_names() if n not in set(filter(None, args.without.split(",")))]
    fit_rows = {name: [r for r in rows if r["half"] == "fit"] for name, rows in data.items()}
    model, dropped = fit(fit_rows, names, args.balance)
    print(f"signals: {', '.join(model.weights)}; dropped for their sign: {dropped or 'none'}")
    print(f"threshold (keeps {KEPT:.0%} of right answers of the fit halves): {model.threshold}")
    report(data, model)
    if not args.dry_run:
        write(model, fit_rows, args)
    return 0


def fit(
    rows_by_set: dict[str, list[dict]], names: list[str], balance: bool
) -> tuple[Model, list[str]]:
    """The logistic model on the pooled rows, dropping signals whose weight has the wrong
    sign; returns it and the dropped names."""
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
    right = trust.confidences([r for r, y in zip(rows, labels) if y], model)
    threshold = round(trust.cut_keeping(right, KEPT), 4)
    return Model(model.weights, model.intercept, threshold), dropped


def report(data: dict[str, list[dict]], model: Model) -> None:
    """AUROC, flagged at 90% / 95% kept, and ECE on each set's report half."""
    print(
        "\n| set (report half) | right | cannot answer | AUROC | flagged at 90% kept | "
        "at 95% kept | flagged at the default threshold | right found | ECE |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, rows in data.items():
        rows = [r for r in rows if r["half"] == "report"]
        p = trust.confidences(rows, model)
        good = np.array([trust.right(r) for r in rows])
        bad = np.array([r["kind"] != "answerable" for r in rows])
        print(
            f"| {name} | {good.sum()} | {bad.sum()} | {trust.auroc(p[good], p[bad]):.3f} | "
            f"{trust.flagged(p[bad], trust.cut_keeping(p[good], 0.90)):.3f} | "
            f"{trust.flagged(p[bad], trust.cut_keeping(p[good], 0.95)):.3f} | "
            f"{trust.flagged(p[bad], model.threshold):.3f} | "
            f"{(p[good] >= model.threshold).mean():.3f} | "
            f"{trust.ece(p, good.astype(float)):.3f} |"
        )


def write(model: Model, fit_rows: dict[str, list[dict]], args: argparse.Namespace) -> None:
    counts = {
        name: {"questions": len(rows), "right": sum(trust.right(r) for r in rows)}
        for name, rows in fit_rows.items()
    }
    data = {
        "comment": (
            f"Logistic model of qa.search.confidence, fitted by `{COMMAND}` (BENCHMARKS.md, "
            "'Confidence and not found'): the fit halves of SQuAD v1.1 dev with 12 articles "
            "and 15% of the other paragraphs withheld, SQuAD 2.0 dev articles 13-35 and "
            f"TweetQA train. threshold keeps {KEPT:.0%} of the right answers of the fit "
            "halves found."
        ),
        "command": COMMAND
        + (" --balance" if args.balance else "")
        + (f" --without {args.without}" if args.without else ""),
        "fitted_on": counts,
        "weights": model.weights,
        "intercept": model.intercept,
        "threshold": model.threshold,
    }
    MODEL_FILE.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    sys.exit(main())
