"""Which approximate FAISS index: HNSW or IVF, with float or 8-bit codes, measured at one size.

For each candidate: build time, index size on disk (what a load maps), and for each search
setting the p50/p95 of one question's search (k=10 and k=100, the depth the answer path
asks for) and recall@10 against exact search. Vectors are `synthetic.clustered_vectors`,
queries are real all-MiniLM-L6-v2 embeddings of SQuAD questions.

    PYTHONPATH=src:bench python bench/ann.py --n 200000
    PYTHONPATH=src:bench python bench/ann.py --n 1000000 --kinds IVF2048,SQ8
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
from synthetic import base_embeddings, clustered_vectors

SETTINGS = {"IVF": [8, 16, 32, 64], "HNSW": [16, 32, 64, 128]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kinds", default="HNSW32,Flat;HNSW32,SQ8;IVF{nlist},Flat;IVF{nlist},SQ8")
    args = parser.parse_args()

    rows = clustered_vectors(args.n)
    _, asked = base_embeddings()
    queries = np.ascontiguousarray(asked[: args.queries])
    exact = faiss.IndexFlatIP(rows.shape[1])
    exact.add(rows)
    _, truth = exact.search(queries, 10)
    flat_p50 = _latency(exact, queries, 10)[0]
    nlist = 2 ** round(np.log2(2 * np.sqrt(args.n)))
    print(f"n={args.n:,}  exact flat search p50 {flat_p50:.2f} ms (k=10)  load: {_load()}")
    print(
        "| index | build s | size MB | setting | p50 k=10 ms | p95 k=10 ms | p50 k=100 ms "
        "| recall@10 |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for kind in args.kinds.split(";"):
        kind = kind.format(nlist=nlist)
        index = faiss.index_factory(rows.shape[1], kind, faiss.METRIC_INNER_PRODUCT)
        started = time.perf_counter()
        if not index.is_trained:
            sample = np.random.default_rng(0).choice(args.n, min(args.n, 40 * nlist), replace=False)
            index.train(rows[np.sort(sample)])
        index.add(rows)
        build = time.perf_counter() - started
        size = _size(index)
        family = "IVF" if kind.startswith("IVF") else "HNSW"
        for value in SETTINGS[family]:
            if family == "IVF":
                faiss.extract_index_ivf(index).nprobe = value
                setting = f"nprobe {value}"
            else:
                index.hnsw.efSearch = value
                setting = f"efSearch {value}"
            p50, p95 = _latency(index, queries, 10)
            p50_100, _ = _latency(index, queries, 100)
            _, found = index.search(queries, 10)
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found)])
            print(
                f"| {kind} | {build:.0f} | {size:.0f} | {setting} | {p50:.2f} | {p95:.2f} "
                f"| {p50_100:.2f} | {recall:.3f} |",
                flush=True,
            )
        del index


def _latency(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[float, float]:
    """p50 and p95 in ms of searching one question at a time, as the answer path does."""
    times = []
    for query in queries:
        started = time.perf_counter()
        index.search(query[None, :], k)
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times), float(np.percentile(times, 95))


def _size(index: faiss.Index) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "index.faiss"
        faiss.write_index(index, str(path))
        return path.stat().st_size / 2**20


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
