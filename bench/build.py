"""Build throughput: `qa index --full` against raw `model.encode` of the same texts, one run.

The corpus is the first `--docs` SQuAD dev paragraphs, one file each. Alternately, `--repeats`
times: a full build through `build_index` (what `qa index --full` runs), and a raw
`SentenceTransformer.encode` of exactly the texts that build embedded: its passages, read with
their heading (their word pieces and their sentences' vectors come from the same pass, so
there are no other texts). The build's phases are timed by wrapping the functions
`qa.index.build` calls (corpus reading, embedding, FAISS, BM25, writing); chunking and
sentence splitting are what remains.

    PYTHONPATH=src:bench python bench/build.py --docs 300 --repeats 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from synthetic import squad_paragraphs

import qa.index.build
import qa.index.rows
import qa.index.vectors
import qa.threads
from qa.embed import BATCH, load_embedder
from qa.settings import Settings

# build phase -> (module, attribute) wrapped to time it
PHASES = {
    "read corpus": (qa.index.build, "plan_build"),
    "FAISS": (qa.index.vectors, "build"),
    "BM25": (qa.index.rows, "Lexical"),
    "write": (qa.index.build, "write_index"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    qa.threads.settle()  # as `qa index` does, before torch loads

    work = Path(tempfile.mkdtemp(prefix="qa-build-"))
    corpus = work / "corpus"
    corpus.mkdir()
    for number, (title, text) in enumerate(squad_paragraphs()[: args.docs]):
        (corpus / f"p{number:05d}.md").write_text(f"---\ntitle: {title}\n---\n{text}\n")
    embedder = load_embedder(Settings().model)  # the instance build_index uses
    embedder.model.encode(["warm up"] * 64, batch_size=BATCH)

    runs: dict[str, list[float]] = {}
    texts: list[str] = []
    passages = 0
    for _ in range(args.repeats):
        spent, texts, passages = _timed_build(corpus, work / "index", embedder)
        for name, seconds in spent.items():
            runs.setdefault(name, []).append(seconds)
        started = time.perf_counter()
        embedder.model.encode(texts, batch_size=BATCH, normalize_embeddings=True)
        runs.setdefault("raw, same texts", []).append(time.perf_counter() - started)
    shutil.rmtree(work, ignore_errors=True)

    median = {name: statistics.median(values) for name, values in runs.items()}
    total = median["build"]
    print(
        f"{args.docs} documents, {passages} passages, {len(texts)} texts embedded; "
        f"medians of {args.repeats} runs; load average {_load()}\n"
    )
    print("| what | s | passages/s | vs raw encode of the same texts |")
    print("|---|---:|---:|---:|")
    same = median["raw, same texts"]
    for name in ("build", "raw, same texts"):
        seconds = median[name]
        print(f"| {name} | {seconds:.2f} | {passages / seconds:.1f} | {same / seconds:.2f} |")
    print("\n| build phase | s | share of build |")
    print("|---|---:|---:|")
    chunking = total - sum(median[name] for name in ["embed", *PHASES])
    for name in ["embed", *PHASES]:
        print(f"| {name} | {median[name]:.2f} | {median[name] / total:.1%} |")
    rest = "chunking, sentence splits, token counts (the rest)"
    print(f"| {rest} | {chunking:.2f} | {chunking / total:.1%} |")


def _timed_build(corpus: Path, index: Path, embedder) -> tuple[dict[str, float], list[str], int]:
    """One full build, with the time of each phase and the texts it embedded."""
    spent: dict[str, float] = {}
    embedded: list[str] = []
    patched = {}

    def timed(name: str, function):
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - started

        return run

    for name, (module, attribute) in PHASES.items():
        original = getattr(module, attribute)
        patched[module, attribute] = original
        if attribute == "Lexical":
            wrapped = type("TimedLexical", (original,), {})
            wrapped.build = classmethod(
                lambda cls, texts, o=original: timed("BM25", o.build)(texts)
            )
            setattr(module, attribute, wrapped)
        else:
            setattr(module, attribute, timed(name, original))
    encode_passages = embedder.encode_passages  # what a build embeds with, and nothing else

    def recording_encode_passages(texts, *args, **kwargs):
        embedded.extend(texts)
        return timed("embed", encode_passages)(texts, *args, **kwargs)

    embedder.encode_passages = recording_encode_passages
    shutil.rmtree(index, ignore_errors=True)
    try:
        started = time.perf_counter()
        report = qa.index.build.build_index(corpus, index)
        spent["build"] = time.perf_counter() - started
    finally:
        del embedder.encode_passages
        for (module, attribute), original in patched.items():
            setattr(module, attribute, original)
    return spent, embedded, report.passages


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
