"""Main-text extraction from saved web pages: the project's HTML reader beside the libraries.

Usage: PYTHONPATH=src python bench/html.py [--data ../shared/bench/article-extraction]
       [--only qa,trafilatura]

The Scrapinghub (Zyte) article extraction benchmark: 181 real news and blog pages with the
gold article text of each, scored by the benchmark's own metric (see the data's README):
shingles of 4 `\\w+` tokens; per page true positives, false positives and false negatives
normalised to sum to 1; precision and recall averaged over the pages where each is defined;
F1 from the two averages. Also: the share of pages with F1 >= 0.9, pages where extraction
failed (raised, or returned nothing) and the median milliseconds per page (one run, one page
at a time, parse included).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on sys.path and this file would shadow the
# standard library's `html` module, which lxml and BeautifulSoup import.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
DATA = ROOT.parent / "shared" / "bench" / "article-extraction"
_TOKEN = re.compile(r"\w+")
SHINGLE = 4


def qa_reader(html: bytes) -> str:
    """The project's reader, as a corpus file is read (`qa.ingest.webpage.read_html`)."""
    from qa.ingest.webpage import read_html

    return read_html(html).text


def trafilatura_default(html: bytes) -> str:
    import trafilatura

    return trafilatura.extract(html.decode("utf-8"), include_comments=False) or ""


def trafilatura_precision(html: bytes) -> str:
    import trafilatura

    return (
        trafilatura.extract(html.decode("utf-8"), include_comments=False, favor_precision=True)
        or ""
    )


def readability(html: bytes) -> str:
    """readability-lxml's summary, its text read by lxml."""
    import lxml.html
    from readability import Document

    summary = Document(html.decode("utf-8")).summary(html_partial=True)
    return " ".join(lxml.html.fromstring(summary).itertext())


def whole_page(html: bytes) -> str:
    """Every text node of the page outside scripts and styles: the floor."""
    import lxml.html

    tree = lxml.html.fromstring(html.decode("utf-8"))
    for element in tree.xpath("//script|//style|//noscript"):
        element.drop_tree()
    return " ".join(tree.itertext())


EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    "qa": qa_reader,
    "trafilatura": trafilatura_default,
    "trafilatura-precision": trafilatura_precision,
    "readability-lxml": readability,
    "whole-page": whole_page,
}


@dataclass(frozen=True)
class Score:
    """One extractor's figures over the benchmark."""

    name: str
    f1: float
    precision: float
    recall: float
    good: float  # share of pages with F1 >= 0.9
    failures: int
    median_ms: float


def shingles(text: str) -> Counter:
    """Runs of `SHINGLE` consecutive tokens (a shorter text is one shingle)."""
    tokens = _TOKEN.findall(text or "")
    return Counter(
        tuple(tokens[i : i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1))
    ) - Counter({(): 1})


def page_counts(gold: str, extracted: str) -> tuple[float, float, float]:
    """True positives, false positives, false negatives of one page, normalised to sum 1."""
    truth, found = shingles(gold), shingles(extracted)
    tp = sum((truth & found).values())
    fp = sum((found - truth).values())
    fn = sum((truth - found).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else tp / (tp + fn)


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def evaluate(name: str, pages: dict[str, bytes], gold: dict[str, str]) -> Score:
    """Run one extractor over every page and score it."""
    extract = EXTRACTORS[name]
    counts, times, failures = [], [], 0
    for key, html in pages.items():
        started = time.perf_counter()
        try:
            text = extract(html)
        except Exception:  # noqa: BLE001 - a failure is a figure here
            text = ""
        times.append(time.perf_counter() - started)
        failures += not text.strip()
        counts.append(page_counts(gold[key], text))
    # As the benchmark's evaluate.py: each average over the pages where it is defined.
    precision = statistics.mean(_precision(*c) for c in counts if c[0] + c[1] > 0)
    recall = statistics.mean(_recall(*c) for c in counts if c[0] + c[2] > 0)
    good = sum(c[0] > 0 and _f1(_precision(*c), _recall(*c)) >= 0.9 for c in counts)
    return Score(
        name,
        _f1(precision, recall),
        precision,
        recall,
        good / len(counts),
        failures,
        1000 * statistics.median(times),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--only", default=",".join(EXTRACTORS), help="extractors, by name")
    args = parser.parse_args(argv)
    truth = json.loads((args.data / "ground-truth.json").read_text(encoding="utf-8"))
    gold = {key: item.get("articleBody", "") for key, item in truth.items()}
    pages = {
        key: gzip.decompress((args.data / "html" / f"{key}.html.gz").read_bytes())
        for key in sorted(gold)
    }
    print("| extractor | F1 | precision | recall | pages F1 ≥ 0.9 | failed | ms per page |")
    print("|---|---|---|---|---|---|---|")
    for name in args.only.split(","):
        score = evaluate(name, pages, gold)
        print(
            f"| {score.name} | {score.f1:.3f} | {score.precision:.3f} | {score.recall:.3f} | "
            f"{score.good:.3f} | {score.failures} | {score.median_ms:.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
