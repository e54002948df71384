"""Shared by the confidence benchmarks: the sets' cached answers, and the measures.

`load` asks each set's questions once through the pipeline with default settings (see
`sets.collect`) and keeps the answers and signals under `--work`, so refitting and
reporting take seconds. The measures follow ../shared/bench/README.md: AUROC of the
confidence between right answers and questions the corpus cannot answer, the share of those
flagged at the threshold that keeps a share of right answers found, and the expected
calibration error.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import sets  # noqa: E402

from qa import threads  # noqa: E402
from qa.search.confidence import Model, Models, Signals  # noqa: E402

SETS = ("squad-abstain", "squad2", "tweetqa")
SQUAD_SAMPLE = 2000  # SQuAD v1.1 questions for the retrieval columns (the README's sample)
# Questions asked per set, drawn with random.Random(0) (None: all), so that one pass over the
# three sets takes minutes on a shared 2-core machine.
SAMPLES = {"squad-abstain": 4000, "squad2": None, "tweetqa": 3000}
ECE_BINS = 10
TWEET_SAMPLE = 500  # tweets in a corpus the size of the held-out set of its kind


def load(
    work: Path, squad_source: Path | None, names=SETS, sample: bool = True
) -> dict[str, list[dict]]:
    """Each set's cached rows, asking the questions first where there is no cache.

    Args:
        work: the folder that holds each set's corpus, index and cache.
        squad_source: a folder with SQuAD v1.1 dev's corpus (one file per paragraph, as
            bench/squad.py writes it) and its built index; None builds one under `work`.
        sample: ask the `SAMPLES` of each set (cached as NAME.jsonl); False asks every
            question of the protocol (cached as NAME-all.jsonl).
    """
    from qa.engine import Engine

    threads.settle()
    found = {}
    for name in names:
        cache = work / "cache" / (f"{name}.jsonl" if sample else f"{name}-all.jsonl")
        folder = work / name
        if name == "squad-full":
            source = _squad_source(work, squad_source)
            questions, contains = sets.squad_full(SQUAD_SAMPLE), sets.squad_contains
            folder = source
        elif name == "squad-abstain":
            source = _squad_source(work, squad_source)
            questions, contains = sets.squad_abstain(folder, source), sets.squad_contains
        elif name == "squad2":
            questions, contains = sets.squad2(folder / "corpus"), sets.squad_contains
        elif name == "tweetqa":
            questions, contains = sets.tweetqa(folder / "corpus"), sets.tweet_contains
        elif name.startswith("tweetqa-500-"):  # a held-out-sized sample; its seed follows
            seed = int(name.rsplit("-", 1)[1])
            questions = sets.tweetqa(folder / "corpus", TWEET_SAMPLE, seed)
            contains = sets.tweet_contains
        else:
            raise ValueError(
                f"unknown set {name!r}; choose from {', '.join(SETS)}, squad-full, tweetqa-500-SEED"
            )
        if sample and SAMPLES.get(name) and SAMPLES[name] < len(questions):
            questions = random.Random(0).sample(questions, SAMPLES[name])
        if not _cached(cache, len(questions)):
            if name != "squad-full":  # its index is built already, and must not change
                sets.build(folder / "corpus", folder / "index")
            engine = Engine(folder / "corpus", folder / "index", build_if_missing=False)
            print(f"{name}: asking {len(questions)} questions", flush=True)
        else:
            engine = None
        found[name] = sets.collect(engine, questions, cache, contains)
    return found


def _cached(cache: Path, count: int) -> bool:
    return cache.exists() and sum(1 for _ in cache.open()) == count


def _squad_source(work: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    source = work / "squad-full"
    import squad

    squad.write_corpus(squad.SQUAD, source / "corpus")
    if not (source / "index" / "CURRENT").exists():
        sets.build(source / "corpus", source / "index")
    return source


def passage_chars(work: Path, name: str) -> int:
    """The median passage length of set `name`'s index under `work` (what the confidence
    reads as the corpus's kind)."""
    from qa.index.generation import read_index

    return read_index(work / name / "index").passage_chars


def model_for(work: Path, name: str) -> Model:
    """The confidence model `Engine` uses on set `name`'s corpus."""
    return Models.load().for_corpus(passage_chars(work, name))


def right(row: dict) -> bool:
    """The answer is right: the question has an answer in the corpus and the top passage
    holds it."""
    return row["kind"] == sets.ANSWERABLE and row["hit1"]


def confidences(rows: list[dict], model: Model) -> np.ndarray:
    return np.array(
        [model.confidence(Signals(**r["signals"])) if r["signals"] else 0.0 for r in rows]
    )


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    from sklearn.metrics import roc_auc_score

    if not len(positive) or not len(negative):
        return float("nan")
    labels = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    return float(roc_auc_score(labels, np.r_[positive, negative]))


def cut_keeping(positive: np.ndarray, kept: float) -> float:
    """The highest threshold at which a share `kept` of `positive` stays at or above it."""
    return float(np.quantile(positive, 1 - kept, method="lower"))


def flagged(negative: np.ndarray, threshold: float) -> float:
    return float((negative < threshold).mean()) if len(negative) else float("nan")


def ece(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error (Naeini, Cooper and Hauskrecht, AAAI 2015; Guo et al.,
    ICML 2017): over equal-width bins of the confidence, the gap between mean confidence
    and accuracy, weighted by the bin's share of the questions."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap = abs(probabilities[inside].mean() - labels[inside].mean())
            total += inside.mean() * gap
    return float(total)


def measure(rows: list[dict], model: Model, kinds: set[str] | None = None) -> dict[str, float]:
    """The confidence measures on the report half of `rows`.

    Right answers are set against the questions of `kinds` (default: every kind the corpus
    cannot answer); calibration is measured over the answerable questions and those.
    """
    rows = [r for r in rows if r["half"] == "report"]
    p = confidences(rows, model)
    kind = np.array([r["kind"] for r in rows])
    good = np.array([right(r) for r in rows])
    bad = np.isin(kind, list(kinds)) if kinds else kind != sets.ANSWERABLE
    scored = (kind == sets.ANSWERABLE) | bad
    fused = np.array([r["score"] if r["score"] is not None else -np.inf for r in rows])
    return {
        "right": int(good.sum()),
        "cannot": int(bad.sum()),
        "auroc": auroc(p[good], p[bad]),
        "auroc_fused": auroc(fused[good], fused[bad]),
        "flagged_90": flagged(p[bad], cut_keeping(p[good], 0.90)),
        "flagged_95": flagged(p[bad], cut_keeping(p[good], 0.95)),
        "flagged_default": flagged(p[bad], model.threshold),
        "kept_default": float((p[good] >= model.threshold).mean()),
        "ece": ece(p[scored], good[scored].astype(float)),
    }
