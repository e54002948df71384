"""Ray on simulated clusters: build throughput on 1 and 2 nodes, and answers per second at
8 concurrent clients for one plain process against 1 and 2 Ray Serve replicas, in one run.

Each simulated node is a `ray.cluster_utils.Cluster` node with one CPU, all on this machine:
on a shared 2-core machine this measures Ray's overheads, not what more machines would add.

- Build: `--docs` SQuAD dev paragraphs, one file each; a full `build_index` without Ray, then
  with `ray=` the address of a 1-node and of a 2-node cluster, `--repeats` times each,
  alternating. Texts per second counts every embedded text (the passages: their sentences'
  vectors are pooled from the same pass) over the whole build's time.
- Answering: the seed corpus's index; `--clients` clients, each asking `--questions`
  questions by HTTP POST {"question", "k"} in a bounded loop, to 127.0.0.1 only: (a) one
  plain process (a standard-library HTTP server around one `Engine`), (b) `qa api` with 1
  replica, (c) with 2 replicas, each on the 2-node cluster. The per-call overhead is the
  median of paired differences: one client asks Serve (1 replica), then the plain process,
  the same question, 40 times.

    PYTHONPATH=src:bench nice -n 10 python bench/cluster.py --docs 200 --repeats 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from concurrency import QUESTIONS
from synthetic import squad_paragraphs

from qa.index.build import build_index

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "cluster.json"
for _name, _value in {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DEDUP_LOGS": "0"}.items():
    os.environ.setdefault(_name, _value)


@contextlib.contextmanager
def simulated(nodes: int):
    """A local Ray cluster of `nodes` one-CPU nodes; shut down on leaving, whatever happens."""
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "object_store_memory": 200 * 2**20}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    try:
        for _ in range(nodes - 1):
            cluster.add_node(**node)
        cluster.wait_for_nodes()
        yield cluster.address
    finally:
        cluster.shutdown()


def write_corpus(folder: Path, docs: int) -> None:
    folder.mkdir(parents=True)
    for number, (title, text) in enumerate(squad_paragraphs()[:docs]):
        (folder / f"{number:05d}.md").write_text(f"---\ntitle: {title}\n---\n{text}\n")


def one_build(corpus: Path, ray: str | None) -> dict:
    with tempfile.TemporaryDirectory() as index:
        report = build_index(corpus, Path(index) / "index", full=True, ray=ray)
    texts = report.embedded  # passages: their sentences' vectors come from the same pass
    return {"seconds": report.seconds, "texts": texts, "texts_per_s": texts / report.seconds}


def bench_builds(docs: int, repeats: int) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {"local (no Ray)": [], "Ray, 1 node": [], "Ray, 2 nodes": []}
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        write_corpus(corpus, docs)
        one_build(corpus, None)  # loads the model in this process once, untimed
        for _ in range(repeats):
            runs["local (no Ray)"].append(one_build(corpus, None))
            for nodes in (1, 2):
                with simulated(nodes) as address:
                    runs[f"Ray, {nodes} node{'s' if nodes > 1 else ''}"].append(
                        one_build(corpus, address)
                    )
            print({name: [round(r["texts_per_s"], 1) for r in rs] for name, rs in runs.items()})
    return runs


def post(url: str, question: str, k: int = 5) -> float:
    """Ask once; the latency in seconds."""
    body = json.dumps({"question": question, "k": k}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:
        json.loads(response.read())
    return time.perf_counter() - started


def load(url: str, clients: int, questions: int) -> dict:
    """`clients` threads, each asking `questions` questions one after another."""
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        start.wait()
        for i in range(questions):
            took = post(url, QUESTIONS[(number + i) % len(QUESTIONS)])
            with lock:
                latencies.append(took)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    alone = [post(url, QUESTIONS[i % len(QUESTIONS)]) for i in range(2 * len(QUESTIONS))]
    return {
        "answers_per_s": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "alone_p50_ms": 1000 * statistics.median(alone),
    }


@contextlib.contextmanager
def plain_server(corpus: Path, index: Path, port: int):
    """One `Engine` behind a standard-library HTTP server, in its own process."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--plain-server", str(port), str(corpus), str(index)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        yield f"http://127.0.0.1:{port}/ask"
    finally:
        child.terminate()
        child.wait(timeout=60)


def run_plain_server(port: int, corpus: str, index: str) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from qa.api import parse_request
    from qa.engine import Engine
    from qa.threads import settle

    settle()
    engine = Engine(corpus, index, build_if_missing=False)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            question, k, options = parse_request(body)
            reply = json.dumps(engine.answer(question, k, **options).to_dict()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


def bench_answers(clients: int, questions: int, port: int) -> dict:
    from qa.api import running_api

    results: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        corpus, index = ROOT / "corpus", Path(folder) / "index"
        build_index(corpus, index)
        with plain_server(corpus, index, port + 1) as plain:
            post(plain, QUESTIONS[0])  # warm
            results["1 plain process"] = load(plain, clients, questions)
            print(results)
            with simulated(2) as address:
                for replicas in (1, 2):
                    with running_api(
                        corpus, index, replicas=replicas, port=port, address=address
                    ) as url:
                        post(url, QUESTIONS[0])
                        name = f"Ray Serve, {replicas} replica{'s' if replicas > 1 else ''}"
                        results[name] = load(url, clients, questions)
                        if replicas == 1:
                            results["overhead_ms_per_call"] = overhead(plain, url)
                    print(results)
    return results


def overhead(plain: str, served: str, pairs: int = 40) -> float:
    """Median of paired differences: one client asks the plain process, then Serve, the
    same question, alternately, so the machine's load drifts out of the difference."""
    differences = []
    for i in range(pairs):
        question = QUESTIONS[i % len(QUESTIONS)]
        differences.append(post(served, question) - post(plain, question))
    return 1000 * statistics.median(differences)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--questions", type=int, default=10, help="per client")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--plain-server", nargs=3, metavar=("PORT", "CORPUS", "INDEX"))
    args = parser.parse_args()
    if args.plain_server:
        port, corpus, index = args.plain_server
        run_plain_server(int(port), corpus, index)
        return
    import qa.threads

    qa.threads.settle()
    before = os.getloadavg()[0]
    builds = bench_builds(args.docs, args.repeats)
    answers = bench_answers(args.clients, args.questions, args.port)
    summary = {
        "docs": args.docs,
        "repeats": args.repeats,
        "clients": args.clients,
        "questions_per_client": args.questions,
        "build": {
            name: {
                "texts": runs[0]["texts"],
                "median_seconds": statistics.median(r["seconds"] for r in runs),
                "median_texts_per_s": statistics.median(r["texts_per_s"] for r in runs),
            }
            for name, runs in builds.items()
        },
        "answers": answers,
        "load_average": [round(before, 1), round(os.getloadavg()[0], 1)],
    }
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
