"""Does the confidence tell answers from questions the articles cannot answer? SQuAD v1.1.

SQuAD v1.1 dev through the pipeline with default settings: 12 whole articles are withheld
from the corpus (their questions are off-topic) and 15% of the paragraphs of every other
article (on-topic questions whose fact is not indexed); the rest are answerable. The
confidence model Engine uses on this corpus (src/qa/search/confidence.json, fitted by
bench/fit_confidence.py on the odd-numbered articles of this and two other sets) is reported
on the even-numbered articles: AUROC between right answers and each kind, the share of each
kind flagged while 95% (and 90%) of right answers stay found, at the default threshold, and
the expected calibration error over the answerable questions and each kind.

    python bench/abstain.py --work DIR --squad-source DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sets
import trust


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="corpora, indexes and caches")
    parser.add_argument("--squad-source", type=Path, help="a built SQuAD v1.1 dev corpus+index")
    args = parser.parse_args()
    rows = trust.load(args.work, args.squad_source, ["squad-abstain"])["squad-abstain"]
    model = trust.model_for(args.work, "squad-abstain")  # the one Engine uses there
    report = [r for r in rows if r["half"] == "report"]
    answerable = [r for r in report if r["kind"] == sets.ANSWERABLE]
    print(
        f"\nreport half: {len(report)} questions, {len(answerable)} answerable "
        f"({sum(map(trust.right, answerable))} answered right); threshold {model.threshold}\n"
    )
    print(
        "| questions | n | AUROC (fused score) | AUROC | flagged at 95% kept | at 90% kept "
        "| at the default threshold | right found | ECE |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for label, kinds in (
        ("off-topic (article withheld)", {sets.OFF_TOPIC}),
        ("on-topic (paragraph withheld)", {sets.ON_TOPIC}),
        ("both", {sets.OFF_TOPIC, sets.ON_TOPIC}),
    ):
        m = trust.measure(rows, model, kinds)
        print(
            f"| {label} | {m['cannot']} | {m['auroc_fused']:.3f} | {m['auroc']:.3f} | "
            f"{m['flagged_95']:.3f} | {m['flagged_90']:.3f} | {m['flagged_default']:.3f} | "
            f"{m['kept_default']:.3f} | {m['ece']:.3f} |"
        )


if __name__ == "__main__":
    main()
