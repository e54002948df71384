"""Time incremental `qa index`: no-change runs, adding one article, and a full rebuild.

Usage: PYTHONPATH=src python bench/incremental.py [--articles 1000] [--repeat 5]

Every figure is the wall time of a `python -m qa.cli index` process (start-up included),
the median of `--repeat` runs (full rebuilds: of 3). The synthetic articles are made here,
deterministically: short news-style reports (~600 characters, YAML front matter with a
title and a date) whose sentences combine made-up cities, bodies and topics.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITIES = "Astana Minsk Yerevan Bishkek Dushanbe Moscow Tashkent Baku Almaty Osh".split()
BODIES = ["the council", "the ministers", "the secretariat", "the delegations", "the envoys"]
TOPICS = [
    "border security",
    "drug trafficking",
    "cyber threats",
    "peacekeeping training",
    "disaster relief",
    "arms control",
    "military logistics",
    "information security",
]
VERBS = ["discussed", "reviewed", "approved a plan on", "agreed to study", "debated"]


def article(number: int) -> str:
    """One synthetic article of about 600 characters, the same for the same number."""
    rng = random.Random(number)
    city, topic = rng.choice(CITIES), rng.choice(TOPICS)
    weather = rng.choice(["cold", "warm", "rainy"])
    sentences = [f"Meeting number {number} took place in {city} on a {weather} day."]
    while sum(map(len, sentences)) < 560:
        sentences.append(
            f"{rng.choice(BODIES).capitalize()} {rng.choice(VERBS)} {rng.choice(TOPICS)} "
            f"with {rng.randint(2, 40)} experts from {rng.choice(CITIES)}."
        )
    date = f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    title = f"Talks in {city} on {topic} ({number})"
    return f"---\ntitle: {title}\ndate: {date}\n---\n" + " ".join(sentences) + "\n"


def qa_index(corpus: Path, index: Path, *extra: str) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "qa.cli", "index", "--corpus", str(corpus), "--index", str(index)]
        + list(extra),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return time.perf_counter() - started, run.stdout


def median_of(repeat: int, step) -> tuple[float, str]:
    results = [step(i) for i in range(repeat)]
    return statistics.median(t for t, _ in results), results[-1][1]


def counts(stdout: str) -> str:
    return re.search(r"added .*sentences", stdout).group(0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    try:
        seed_corpus, seed_index = work / "seed", work / "seed-index"
        shutil.copytree(ROOT / "corpus", seed_corpus)
        qa_index(seed_corpus, seed_index)
        seed, out = median_of(args.repeat, lambda _: qa_index(seed_corpus, seed_index))
        print(f"seed corpus, no change: {seed:.2f} s  [{counts(out)}]")

        corpus, index = work / "synthetic", work / "synthetic-index"
        corpus.mkdir()
        for number in range(args.articles):
            (corpus / f"article-{number:04d}.md").write_text(article(number))
        first, out = qa_index(corpus, index)
        print(f"{args.articles} articles, first build: {first:.1f} s  [{counts(out)}]")
        unchanged, out = median_of(args.repeat, lambda _: qa_index(corpus, index))
        print(f"{args.articles} articles, no change: {unchanged:.2f} s  [{counts(out)}]")

        def add_one(i: int) -> tuple[float, str]:
            number = args.articles + i
            (corpus / f"article-{number:04d}.md").write_text(article(number))
            return qa_index(corpus, index)

        added, out = median_of(args.repeat, add_one)
        print(f"{args.articles} articles, add one: {added:.2f} s  [{counts(out)}]")
        full, out = median_of(3, lambda _: qa_index(corpus, index, "--full"))
        print(f"{args.articles} articles, full rebuild: {full:.1f} s  [{counts(out)}]")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
