"""Query latency of `Engine.answer()` against the time to encode the question alone.

Two corpora, measured in one run:
- seed: the five articles in corpus/, indexed by the real pipeline;
- synthetic: `--passages` passages (default 10,000) of SQuAD dev sentences shuffled into
  articles of 12-18 sentences, indexed by the real pipeline (chunking, BM25, FAISS) except
  that the embeddings are looked up rather than computed: each sentence gets its real
  all-MiniLM-L6-v2 embedding (`synthetic.base_embeddings`), each passage the normalised mean
  of its sentences', and its word pieces for MaxSim random unit vectors (one per content
  piece the tokenizer gives). Questions are SQuAD dev questions, encoded by the real model.

For each corpus: p50 and p95 of encoding the question alone (`Embedder.encode_question`,
the model's forward pass that `answer()` runs) and of the whole `answer()`, their ratio
(targets: p50 at most 1.3x on the seed corpus, 1.5x at 100,000 passages), the difference
(the work besides the model), the same work measured alone (each question encoded
beforehand, so no forward pass runs between answers), and the answer with a date filter.

    PYTHONPATH=src:bench python bench/latency.py
    PYTHONPATH=src:bench python bench/latency.py --passages 10000 --questions 200 --profile
    PYTHONPATH=src:bench python bench/latency.py --passages 100000 --work DIR  # once, reuse DIR
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from synthetic import base_embeddings, squad_sentences

import qa.threads
from qa.embed import PassagePass, load_embedder
from qa.engine import Engine, build_index
from qa.ingest.chunking import split_sentences
from qa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--work", type=Path, help="folder for the synthetic corpus and index")
    parser.add_argument("--profile", action="store_true", help="print the top of a profile")
    parser.add_argument(
        "--unsettled", action="store_true", help="keep the default threads (no qa.threads.settle)"
    )
    args = parser.parse_args()
    if not args.unsettled:
        qa.threads.settle()  # as the `qa` command does, before torch and faiss load

    work = args.work or Path(tempfile.mkdtemp(prefix="qa-latency-"))
    sentences, asked = squad_sentences()
    questions = random.Random(0).sample(asked, args.questions)
    seed_index = work / "seed-index"
    if not (seed_index / "CURRENT").exists():
        build_index(ROOT / "corpus", seed_index)
    corpus, index = work / "corpus", work / "index"
    if not (index / "CURRENT").exists():
        _write_corpus(corpus, sentences, args.passages)
        _build_with_looked_up_embeddings(corpus, index, sentences)

    threads = "default threads" if args.unsettled else "qa.threads.settle()"
    print(f"{threads}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print(
        "| corpus | passages | sentences | vector indexes | encode p50 | answer p50 "
        "| answer p95 | p50 ratio | besides the model | the same, alone | filtered p50 |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, corpus_dir, index_dir in [
        ("seed", ROOT / "corpus", seed_index),
        ("synthetic", corpus, index),
    ]:
        engine = Engine(corpus_dir, index_dir, build_if_missing=False)
        row = _measure(engine, questions)
        alone = _besides_the_model(engine, questions)
        stored = engine.index
        kinds = f"{stored.vectors.kind.value} / {stored.sentence_vectors.kind.value}"
        print(
            f"| {name} | {len(stored.passages):,} | {len(stored.sentences):,} | {kinds} "
            f"| {row['encode'][0]:.1f} ms | {row['answer'][0]:.1f} ms "
            f"| {row['answer'][1]:.1f} ms | {row['answer'][0] / row['encode'][0]:.2f} "
            f"| {row['answer'][0] - row['encode'][0]:.1f} ms | {alone:.1f} ms "
            f"| {row['filtered'][0]:.1f} ms |",
            flush=True,
        )
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(lambda: [engine.answer(q) for q in questions[:50]])
            pstats.Stats(profile).sort_stats("tottime").print_stats(12)


def _measure(engine: Engine, questions: list[str]) -> dict[str, tuple[float, float]]:
    """p50 and p95 (ms) of encoding alone, answering, and answering with a date filter."""
    for question in questions[:10]:  # warm up
        engine.answer(question)
    times: dict[str, list[float]] = {"encode": [], "answer": [], "filtered": []}
    for question in questions:  # interleaved, so that a burst of load hits all three
        for name, call in [
            ("encode", lambda: engine.embedder.encode_question(question)),
            ("answer", lambda: engine.answer(question)),
            ("filtered", lambda: engine.answer(question, date_from="2020")),
        ]:
            started = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - started) * 1e3)
    return {name: (statistics.median(t), float(np.percentile(t, 95))) for name, t in times.items()}


def _besides_the_model(engine: Engine, questions: list[str]) -> float:
    """p50 (ms) of `answer()` with each question encoded beforehand: the work besides the
    model, measured alone (no forward pass in between to evict the index from the caches)."""
    embedder = engine.embedder
    encoded = {question: embedder.encode_question(question) for question in questions}
    embedder.encode_question = encoded.__getitem__  # on this instance only; deleted below
    try:
        for question in questions[:10]:
            engine.answer(question)
        times = []
        for question in questions:
            started = time.perf_counter()
            engine.answer(question)
            times.append((time.perf_counter() - started) * 1e3)
    finally:
        del embedder.encode_question
    return statistics.median(times)


def _write_corpus(folder: Path, sentences: list[str], passages: int) -> None:
    """Articles of 12-18 random SQuAD sentences, dated 2015-2024, about 5 passages each."""
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(round(passages / 5)):
        body = " ".join(rng.choice(sentences) for _ in range(rng.randint(12, 18)))
        date = f"{rng.randint(2015, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        (folder / f"article-{number:06d}.md").write_text(
            f"---\ntitle: Article {number}\ndate: {date}\n---\n{body}\n"
        )


def _build_with_looked_up_embeddings(corpus: Path, index: Path, sentences: list[str]) -> None:
    """Build through the real pipeline, with each text's embedding looked up, not computed."""
    table = dict(zip(sentences, base_embeddings()[0]))
    embedder = load_embedder(Settings().model)  # the instance build_index uses
    dimension = embedder.dimension

    def encode(texts, progress: bool = False) -> np.ndarray:
        rows = np.zeros((len(texts), dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            parts = [text] if text in table else [text[a:b] for a, b in split_sentences(text)]
            found = [table[p] for p in parts if p in table]
            rows[row] = np.mean(found, axis=0) if found else table[sentences[0]]
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    def encode_passages(texts, within=None, headings=None, progress: bool = False):
        # Word pieces: random unit vectors, one per content piece the model's tokenizer
        # gives (the pieces the index keeps), so that MaxSim reads as many rows per passage
        # as it would for real. Sentences: their looked-up embeddings, alone and with the
        # heading.
        rng = np.random.default_rng(0)
        encoded = embedder.model.tokenizer(
            list(texts),
            add_special_tokens=False,
            return_offsets_mapping=True,
            truncation=True,
            max_length=embedder.max_tokens,
        )
        pieces, offsets = [], []
        for ids, piece_spans in zip(encoded["input_ids"], encoded["offset_mapping"]):
            keep = embedder.content(ids)
            rows = rng.standard_normal((len(keep), dimension)).astype(np.float32)
            pieces.append(rows / np.linalg.norm(rows, axis=1, keepdims=True))
            offsets.append(np.array([piece_spans[i][0] for i in keep], dtype=np.int32))
        spans = [
            (text, heading, a, b)
            for text, heading, rows in zip(texts, headings, within)
            for a, b in rows.tolist()
        ]
        alone = encode([text[a:b] for text, _, a, b in spans])
        titled = encode([text[:heading] + text[a:b] for text, heading, a, b in spans])
        return PassagePass(encode(texts), pieces, offsets, alone, titled)

    embedder.encode_passages = encode_passages  # what a build embeds with
    try:
        build_index(corpus, index)
    finally:
        del embedder.encode_passages  # the class's own again


if __name__ == "__main__":
    main()
