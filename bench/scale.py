"""Time and memory against corpus size: exact vs the shipped approximate index, and BM25.

For each size n the parent builds, and writes to a scratch folder:
- an exact `IndexFlatIP` and the index `qa.index.vectors.build` makes when the threshold is 0
  (IVF + SQ8), over `synthetic.clustered_vectors(n)`: real MiniLM sentence embeddings
  mixed two by two plus noise;
- a `qa.index.lexical.Lexical` BM25 index over `synthetic.synthetic_texts(n)`: passages of 3-6
  random SQuAD sentences.
Then a fresh child process per index loads it (memory-mapped, as `qa` does) and answers
real SQuAD questions one at a time: p50/p95 of a search at k=10 and at k=100 (the depth
the answer path asks for), recall@10 against exact search, and RSS after loading and
after searching. BM25 is timed as the answer path uses it: `scores()` plus the top 100.

    PYTHONPATH=src:bench python bench/scale.py --sizes 10000,100000,1000000
    PYTHONPATH=src:bench python bench/scale.py --plot-only   # redraw from the JSON

Writes bench/results/scale.json and docs/scale.png (needs the `bench` extra: matplotlib).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "scale.json"
PLOT = ROOT / "docs" / "scale.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-lexical", action="store_true")
    parser.add_argument("--plot-only", action="store_true")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the JSON to write/read")
    parser.add_argument("--plot", type=Path, default=PLOT, help="the PNG to draw")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(*args.child[:2], int(args.child[2]), args.queries)))
        return
    if not args.plot_only:
        rows = [_size(int(n), args.queries, not args.no_lexical) for n in args.sizes.split(",")]
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(rows, indent=1) + "\n")
    rows = json.loads(args.results.read_text())
    _table(rows)
    _plot(rows, args.plot)


def _size(n: int, queries: int, lexical: bool) -> dict:
    """Build the indexes for n, measure each in a fresh process."""
    import faiss
    from synthetic import base_embeddings, clustered_vectors, synthetic_texts

    from qa.index import vectors

    folder = Path(tempfile.mkdtemp(prefix=f"qa-scale-{n}-"))
    row: dict = {"n": n, "load_before": os.getloadavg()[0]}
    rows = clustered_vectors(n)
    _, asked = base_embeddings()
    exact = faiss.IndexFlatIP(rows.shape[1])
    started = time.perf_counter()
    exact.add(rows)
    row["exact_build_s"] = time.perf_counter() - started
    np.save(folder / "truth.npy", exact.search(asked[:queries], 10)[1])
    vectors.write(exact, folder / "exact.faiss")
    del exact
    started = time.perf_counter()
    approximate = vectors.build(rows, exact_up_to=0)
    row["approximate_build_s"] = time.perf_counter() - started
    row["nlist"], row["nprobe"] = approximate.nlist, approximate.nprobe
    vectors.write(approximate, folder / "approximate.faiss")
    del approximate, rows
    for kind in ("exact", "approximate"):
        row[kind] = _child(kind, folder / f"{kind}.faiss", n, queries)
        row[kind]["file_mb"] = (folder / f"{kind}.faiss").stat().st_size / 2**20
    if lexical:
        from qa.index.lexical import Lexical

        texts = synthetic_texts(n)
        started = time.perf_counter()
        bm25 = Lexical.build(texts)
        row["lexical_build_s"] = time.perf_counter() - started
        del texts
        bm25.save(folder / "bm25")
        del bm25
        row["lexical"] = _child("lexical", folder / "bm25", n, queries)
        row["lexical"]["file_mb"] = (
            sum(f.stat().st_size for f in (folder / "bm25").iterdir()) / 2**20
        )
    row["load_after"] = os.getloadavg()[0]
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def _child(kind: str, path: Path, n: int, queries: int) -> dict:
    command = [sys.executable, __file__, "--child", kind, str(path), str(n)]
    command += ["--queries", str(queries)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=os.environ)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(kind: str, path: str, n: int, queries: int) -> dict:
    """In a fresh process: load one index, search with real questions, report."""
    import bm25s  # noqa: F401  (libraries load before the first RSS reading)
    import faiss  # noqa: F401
    from synthetic import base_embeddings, squad_sentences

    from qa.index import vectors
    from qa.index.lexical import Lexical

    rss_start = _rss()
    started = time.perf_counter()
    if kind == "lexical":
        index = Lexical.load(Path(path), n)
        asked = squad_sentences()[1][:queries]
    else:
        index = vectors.read(Path(path))
        asked = base_embeddings()[1][:queries]
    load_s = time.perf_counter() - started
    rss_loaded = _rss()
    result = {"load_s": load_s, "rss_load_mb": rss_loaded - rss_start}
    if kind == "lexical":
        times = []
        for question in list(asked) * 2:
            started = time.perf_counter()
            scores = index.scores(question)
            top = np.argpartition(-scores, 99)[:100]
            times.append((time.perf_counter() - started) * 1e3)
            del scores, top
        times = times[len(asked) :]  # the first pass warms the page cache
        result |= {"p50_k100_ms": statistics.median(times), "p95_k100_ms": _p95(times)}
    else:
        truth = np.load(Path(path).parent / "truth.npy")
        found = np.vstack([vectors.search(index, q[None, :], 10)[1] for q in asked])
        for k in (10, 100):
            times = []
            for query in asked:
                started = time.perf_counter()
                vectors.search(index, query[None, :], k)
                times.append((time.perf_counter() - started) * 1e3)
            result |= {f"p50_k{k}_ms": statistics.median(times), f"p95_k{k}_ms": _p95(times)}
        result["recall_at_10"] = float(
            np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found)])
        )
    result["rss_search_mb"] = _rss() - rss_start
    return result


def _table(rows: list[dict]) -> None:
    print(
        "| n | index | build s | file MB | RSS loaded MB | RSS after search MB "
        "| p50 k=10 ms | p95 k=10 ms | p50 k=100 ms | recall@10 |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        for kind in ("exact", "approximate", "lexical"):
            if kind not in row:
                continue
            m = row[kind]
            name = {"exact": "flat (exact)", "lexical": "BM25 (top 100)"}.get(
                kind, f"IVF{row['nlist']},SQ8 nprobe {row['nprobe']}"
            )
            build = row.get(f"{kind}_build_s", 0.0)
            print(
                f"| {row['n']:,} | {name} | {build:.1f} | {m['file_mb']:.0f} "
                f"| {m['rss_load_mb']:.0f} | {m['rss_search_mb']:.0f} "
                f"| {m.get('p50_k10_ms', float('nan')):.2f} "
                f"| {m.get('p95_k10_ms', float('nan')):.2f} | {m['p50_k100_ms']:.2f} "
                f"| {m.get('recall_at_10', float('nan')):.3f} |"
            )


def _plot(rows: list[dict], path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        print("no plot: pip install -e '.[bench]' for matplotlib", file=sys.stderr)
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [row["n"] for row in rows]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for kind, label in [
        ("exact", "flat, exact"),
        ("approximate", "IVF + SQ8 (qa.index.vectors)"),
        ("lexical", "BM25 scores + top 100"),
    ]:
        kept = [row for row in rows if kind in row]
        if not kept:
            continue
        n = [row["n"] for row in kept]
        left.plot(n, [row[kind]["p50_k100_ms"] for row in kept], "o-", label=label)
        right.plot(n, [row[kind]["rss_search_mb"] for row in kept], "o-", label=label)
    left.axhline(20, color="grey", linestyle=":", label="target: 20 ms")
    right.axhline(2048, color="grey", linestyle=":", label="target: 2 GB")
    left.set(
        xscale="log",
        yscale="log",
        xlabel="vectors / passages",
        ylabel="p50 of one search, k=100 (ms)",
        title="Search time",
    )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="vectors / passages",
        ylabel="RSS after loading and searching (MB)",
        title="Memory",
    )
    for axes in (left, right):
        axes.set_xticks(sizes, [f"{n:,}" for n in sizes])
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle("384-dimensional vectors on 2 CPU cores (bench/scale.py)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    print(f"plot: {path}", file=sys.stderr)


def _rss() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _p95(times: list[float]) -> float:
    return float(np.percentile(times, 95))


if __name__ == "__main__":
    main()
