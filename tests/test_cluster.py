"""`--ray` builds on a simulated two-node Ray cluster: the same index as a local build."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
from tests.conftest import CORPUS, ROOT
from tests.test_crash_safety import _wait_for

from qa import Engine
from qa.cli import main
from qa.cluster import INSTALL
from qa.index.build import build_index
from qa.index.generation import read_index
from qa.index.generations import current_generation

QUESTIONS = (
    "Who is the Secretary-General of the CSTO?",
    "Which city hosted the 2024 session?",
    "When was the Collective Security Treaty signed?",
)
NEW = "harbour-report.md"


def _article(name: str) -> str:
    """A small generated article: invented facts, so only this file can answer them."""
    return (
        "---\ntitle: Harbour works in Port Ellery\ndate: 2025-03-14\n---\n"
        + " ".join(
            f"Crane number {i} in Port Ellery was painted {colour} by the {team} team."
            for i, (colour, team) in enumerate(
                [("green", "north"), ("orange", "south"), ("blue", "east"), ("red", "west")]
            )
        )
        + f"\n\nThe harbour master of Port Ellery is Ines Varga; the file is {name}.\n"
    )


def _same_index(ray_index, local_index) -> None:
    a, b = read_index(ray_index), read_index(local_index)
    assert a.passages == b.passages
    assert np.array_equal(a.sentences, b.sentences)
    for name in ("vectors", "sentence_vectors", "titled_sentence_vectors"):
        # Stored as float16: the two builds' floats may round to neighbouring steps (< 0.001).
        np.testing.assert_allclose(getattr(a, name).all(), getattr(b, name).all(), atol=1e-3)
    np.testing.assert_array_equal(a.pieces.offsets, b.pieces.offsets)
    np.testing.assert_array_equal(a.pieces.first, b.pieces.first)
    # Sign bits: the two builds' float pieces agree within about 2e-3, so components that
    # close to zero may take the other sign (measured: 0.4% of the bits on the seed corpus).
    bits_a, bits_b = (np.unpackbits(np.asarray(x.pieces.codes), axis=1) for x in (a, b))
    assert bits_a.shape == bits_b.shape and (bits_a != bits_b).mean() < 1e-2


def _answers(corpus, index) -> list[tuple[str, list[tuple[str, int, int]]]]:
    engine = Engine(corpus, index, build_if_missing=False)
    return [
        (a.text, [(p.source, p.start, p.end) for p in a.passages])
        for a in (engine.answer(question, k=3) for question in QUESTIONS)
    ]


@pytest.mark.ray
def test_a_ray_build_makes_the_index_a_local_build_makes(ray_connected, seed_index, tmp_path):
    index = tmp_path / "index"
    report = build_index(CORPUS, index, ray=ray_connected)
    assert report.embedded == len(read_index(seed_index).passages)
    _same_index(index, seed_index)
    assert _answers(CORPUS, index) == _answers(CORPUS, seed_index)


@pytest.mark.ray
def test_an_incremental_ray_build_embeds_only_the_new_file(
    ray_connected, corpus_copy, index_copy, tmp_path
):
    (corpus_copy / NEW).write_text(_article(NEW))
    local = tmp_path / "local"
    shutil.copytree(index_copy, local)
    report = build_index(corpus_copy, index_copy, ray=ray_connected)
    assert (report.added, report.changed, report.removed) == ([NEW], [], [])
    assert len(report.unchanged) == 5
    assert report.embedded == sum(p.doc == 5 for p in read_index(index_copy).passages) > 0
    build_index(corpus_copy, local)
    _same_index(index_copy, local)
    engine = Engine(corpus_copy, index_copy, build_if_missing=False)
    assert engine.answer("Who is the harbour master of Port Ellery?").passages[0].source == NEW


@pytest.mark.ray
def test_a_killed_ray_build_leaves_the_previous_generation_live(
    ray_cluster, corpus_copy, index_copy
):
    before = _answers(corpus_copy, index_copy)
    live = current_generation(index_copy)
    (corpus_copy / NEW).write_text(_article(NEW))
    child = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "index", "--corpus", str(corpus_copy)]
        + ["--index", str(index_copy), "--ray", ray_cluster],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(child.stderr, "Embedding", seconds=180)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        child.kill()
        child.stderr.close()
    assert current_generation(index_copy) == live
    assert _answers(corpus_copy, index_copy) == before
    report = build_index(corpus_copy, index_copy)  # a local build after it finds it all well
    assert report.added == [NEW]


def test_ray_without_the_extra_says_what_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    code = main(["index", "--ray", "--corpus", str(CORPUS), "--index", str(tmp_path / "i")])
    err = capsys.readouterr().err
    assert code == 1
    assert err == f"qa: {INSTALL}\n"
    assert INSTALL == (
        'Ray is not installed: pip install -e ".[ray]" (or pip install "ray[data,serve]")'
    )
    assert not (tmp_path / "i").exists()


def test_a_build_and_an_answer_without_ray_never_import_it(corpus_copy, index_copy):
    (corpus_copy / NEW).write_text(_article(NEW))  # so the build embeds
    where = ["--corpus", str(corpus_copy), "--index", str(index_copy)]
    script = (
        "import sys\n"
        "from qa.cli import main\n"
        f"main(['index', *{where!r}])\n"
        f"main(['ask', 'Who is the harbour master?', *{where!r}])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'ray' or m == 'qa.api'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "added    harbour-report.md" in done.stdout
    assert done.stdout.splitlines()[-1] == "[]"
