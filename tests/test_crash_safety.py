"""Builds in other processes: SIGKILL at several moments, the build lock, live pick-up, --watch."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest
from tests.conftest import ROOT

from qa import Engine
from qa.index.build import build_index
from qa.index.generations import LiveGeneration, build_lock, current_generation, publish

EDITED = "2024-astana-council-narrow-format.md"
# Deleting a file rebuilds without the model, so a child that only deletes starts fast.
DELETED = "2023-minsk-tokayev-chairmanship-priorities.md"
NEW_FACT = "The delegates also planted a cedar in Astana."
QUESTIONS = ("Who is the Secretary-General of the CSTO?", "What did the delegates plant?")
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}

# Runs `qa index` in a child that SIGKILLs itself at one moment of writing the generation.
_KILLER = """
import os, signal, sys
from qa.index import generations
from qa.cli import main

moment = sys.argv[1]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if moment == "staged":  # every file of the new generation written, not yet renamed
    generations.fsync_dir = lambda path: die()
if moment == "renamed":  # generation renamed into place, CURRENT not yet switched
    replace = os.replace
    def switch(src, dst):
        if str(dst).endswith("CURRENT"):
            die()
        replace(src, dst)
    generations.os.replace = switch
if moment == "switched":  # CURRENT switched, older generations not yet removed
    generations._remove_stale = lambda *args, **kwargs: die()
sys.exit(main(["index", "--corpus", sys.argv[2], "--index", sys.argv[3]]))
"""


def _answers(corpus, index):
    engine = Engine(corpus, index, build_if_missing=False)
    return [engine.answer(question, k=3) for question in QUESTIONS]


def _edit(corpus):
    path = corpus / EDITED
    path.write_text(path.read_text() + f"\n{NEW_FACT}\n")


def _sources(corpus, index) -> set[str]:
    engine = Engine(corpus, index, build_if_missing=False)
    return {p.source for p in engine.answer(QUESTIONS[0], k=1000).passages}


def _wait_for(stream, text: str, seconds: float = 120) -> str:
    """Read `stream` line by line (it may end in a progress bar) until `text` shows."""
    seen, deadline = "", time.monotonic() + seconds
    while text not in seen:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"{text!r} did not show in {seconds} s; got {seen!r}")
        chunk = os.read(stream.fileno(), 4096).decode(errors="replace")
        if not chunk:
            raise AssertionError(f"the stream ended before {text!r}; got {seen!r}")
        seen += chunk
    return seen


@pytest.mark.parametrize("moment", ["loading", "embedding", "staged", "renamed", "switched"])
def test_a_build_killed_at_any_moment_leaves_a_working_index(corpus_copy, index_copy, moment):
    before = _answers(corpus_copy, index_copy)
    embeds = moment in ("loading", "embedding")
    if embeds:
        _edit(corpus_copy)
    else:
        (corpus_copy / DELETED).unlink()
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLER, moment, str(corpus_copy), str(index_copy)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if moment == "loading":  # importing torch, loading the model
        time.sleep(1.0)
        child.send_signal(signal.SIGKILL)
    elif moment == "embedding":
        _wait_for(child.stderr, "Embedding")
        child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=120) == -signal.SIGKILL
    child.stderr.close()

    if moment == "switched":  # the new generation was complete and live
        assert DELETED not in _sources(corpus_copy, index_copy)
    else:
        assert _answers(corpus_copy, index_copy) == before
    report = build_index(corpus_copy, index_copy)
    leftovers = [p.name for p in index_copy.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    if moment in ("staged", "renamed"):
        assert report.cleaned  # the killed build's staging folder or unused generation
    generations = [p for p in index_copy.iterdir() if p.name.startswith("gen-")]
    assert max(generations) == current_generation(index_copy)
    if embeds:
        assert NEW_FACT in _answers(corpus_copy, index_copy)[1].passages[0].text
    else:
        assert DELETED not in _sources(corpus_copy, index_copy)


def test_a_second_build_waits_for_the_first_and_says_so(corpus_copy, index_copy):
    with build_lock(index_copy):
        child = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "index"]
            + ["--corpus", str(corpus_copy), "--index", str(index_copy)],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        message = _wait_for(child.stderr, "waiting", seconds=60)
        assert f"another build (pid {os.getpid()}) is writing {index_copy}/" in message
        time.sleep(0.2)
        assert child.poll() is None  # still waiting while the lock is held
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0 and b"(no changes)" in out


def test_a_running_engine_picks_up_a_build_made_by_another_process(corpus_copy, index_copy):
    engine = Engine(corpus_copy, index_copy, build_if_missing=False)
    assert DELETED in {p.source for p in engine.answer(QUESTIONS[0], k=1000).passages}
    (corpus_copy / DELETED).unlink()
    subprocess.run(
        [sys.executable, "-m", "qa.cli", "index"]
        + ["--corpus", str(corpus_copy), "--index", str(index_copy)],
        env=ENV,
        check=True,
        capture_output=True,
    )
    result = engine.answer(QUESTIONS[0], k=1000)
    assert engine.index.path == current_generation(index_copy)
    for passage in result.passages:  # every passage from the new generation
        assert passage.source != DELETED
        assert passage.text in (corpus_copy / passage.source).read_text()


def test_watch_follows_changes_and_stops_on_ctrl_c(corpus_copy, index_copy):
    child = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "index", "--watch", "--interval", "0.2"]
        + ["--corpus", str(corpus_copy), "--index", str(index_copy)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(child.stdout, "(no changes)", seconds=60)
        (corpus_copy / DELETED).unlink()
        out = _wait_for(child.stdout, f"removed  {DELETED}", seconds=60)
        assert "removed 1 · unchanged 4" in out
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 0
    assert b"stopped watching" in err and b"Traceback" not in err


def test_the_live_generation_is_read_anew_after_every_switch(tmp_path):
    live = LiveGeneration(tmp_path)
    assert live() is None
    for _ in range(3):  # switches in quick succession, as fast as publish goes
        with build_lock(tmp_path):
            made = publish(tmp_path, lambda folder: (folder / "rows").write_text("x"))
        assert live() == made == current_generation(tmp_path)
