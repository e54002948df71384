from __future__ import annotations

import json

import pytest

from qa.cli import main
from qa.evaluate import read_questions


def test_qa_eval_on_a_three_line_file(tmp_path, seed_index, capsys):
    lines = [
        {"q": "What is the primary goal of the CSTO?", "a": ["collective security"]},
        {"q": "Which humanitarian situation did the Declaration address?", "a": ["Palestinian"]},
        {"q": "Who won the 1966 football World Cup?", "a": ["England national football team"]},
    ]
    path = tmp_path / "three.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert main(["eval", str(path), "--index", str(seed_index), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 3
    assert report["hit_at_1"] == report["hit_at_5"] == pytest.approx(2 / 3)
    assert report["answer_sentence"] == pytest.approx(2 / 3)
    assert report["mrr"] == pytest.approx(2 / 3)
    assert [m["question"] for m in report["misses"]] == [lines[2]["q"]]


def test_folding_white_space_and_curly_apostrophes(tmp_path):
    from qa.evaluate import contains_answer

    assert contains_answer("the country\u2019s  foreign\npolicy", ["country's foreign policy"])


def test_a_malformed_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"q": "x", "a": ["y"]}\nnot json\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        read_questions(path)
