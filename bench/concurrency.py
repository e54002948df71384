"""Load a running web app: N concurrent gradio_client clients, each asking M questions on /ask.

    python app.py &                                   # or: qa serve
    python bench/concurrency.py --url http://127.0.0.1:7860/ --clients 8 --questions 25

Prints errors, latency percentiles (each call, as one client sees it) and throughput.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

QUESTIONS = (
    "Who is the Secretary-General of the CSTO?",
    "Which city hosted the 2024 session?",
    "When was the Collective Security Treaty signed?",
    "Who chaired the 2020 videoconference?",
    "Which countries are members of the CSTO?",
    "What did the Declaration say about military cooperation?",
    "What were the priorities of Kazakhstan's chairmanship?",
    "Which documents were signed at the Astana summit?",
    "Did Armenia take part in the session?",
    "What anniversary was mentioned for 2025?",
)


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (the smallest value with at least q% of values at or below)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return ordered[int(rank) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860/")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--questions", type=int, default=25, help="per client")
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args()

    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(args.clients)

    def client(number: int) -> None:
        try:
            connection = Client(args.url, verbose=False)
        except Exception as error:  # noqa: BLE001 - every failure counts as an error
            with lock:
                errors.extend([f"connect: {error}"] * args.questions)
            start.wait()
            return
        start.wait()
        for i in range(args.questions):
            question = QUESTIONS[(number + i) % len(QUESTIONS)]
            began = time.perf_counter()
            try:
                result = connection.predict(question, args.k, api_name="/ask")
                if not result["passages"] or not result["text"]:
                    raise ValueError(f"no answer for {question!r}")
            except Exception as error:  # noqa: BLE001
                with lock:
                    errors.append(f"{question!r}: {error}")
                continue
            with lock:
                latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began

    total = args.clients * args.questions
    print(f"{args.clients} clients x {args.questions} questions = {total} calls to /ask")
    print(f"errors: {len(errors)}")
    for error in errors[:5]:
        print(f"  {error}")
    if latencies:
        print(
            f"latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {_percentile(latencies, 95) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms"
        )
    print(f"wall {wall:.1f} s, {len(latencies) / wall:.1f} answers/s")


if __name__ == "__main__":
    main()
