"""The side-by-side benchmark's judgement and table (`bench/peers.py`); no peer is run."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def peers(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("peers")


def test_a_gold_file_is_judged_among_distinct_files(peers):
    passages = {
        "a.md#0": {"source": "a.md", "text": ""},
        "a.md#1": {"source": "a.md", "text": ""},
        "b.md#0": {"source": "b.md", "text": ""},
        "c.md#0": {"source": "c.md", "text": ""},
    }
    question = peers.Question("q", ["x"], gold="b.md")
    hits = peers.judge(["a.md#0", "a.md#1", "b.md#0", "c.md#0"], question, passages)
    assert hits == [False, True, False]  # a.md twice is one file: b.md is second
    assert peers.recall([hits], 1) == 0.0
    assert peers.recall([hits], 5) == 1.0


def test_answers_are_found_in_passage_text_folded(peers):
    passages = {
        "s.md#0": {"source": "s.md", "text": "Signed in\nMay 1992."},
        "s.md#1": {"source": "s.md", "text": "The Treaty\u2019s  members met."},
    }
    question = peers.Question("q", ["Treaty's members"])
    assert peers.judge(["s.md#0", "s.md#1"], question, passages) == [False, True]
    assert peers.recall([[False, True], [False, False]], 5) == 0.5


def test_table_gives_each_query_time_as_a_ratio_to_qa(peers):
    def measure(system, p50, disk, rss):
        return peers.Measure(system, "1.0", 0.8524, 0.95, 86.4, disk, rss, p50)

    table = peers.table(
        [measure("qa", 20.0, 78_000_000, 1_200_000_000), measure("txtai", 10.0, 4_300_000, 9e8)]
    ).splitlines()
    assert (
        table[2]
        == "| qa (default settings) | 0.852 | 0.950 | 86 | 78.0 MB | 1.20 GB | 20.0 ms | 1.00× |"
    )
    assert (
        table[3] == "| txtai 1.0 hybrid | 0.852 | 0.950 | 86 | 4.3 MB | 900 MB | 10.0 ms | 0.50× |"
    )
