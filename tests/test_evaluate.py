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


def test_questions_without_answers_are_scored_by_not_found(tmp_path, seed_index, capsys):
    lines = [
        {"q": "What is the primary goal of the CSTO?", "a": ["collective security"]},
        {"q": "When was the Collective Security Treaty signed?", "a": [1992]},  # a number
        {"q": "What is the capital of Australia?", "a": []},  # the articles do not say
        {"q": "qwertz asdfgh yxcvbn", "a": ""},
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert main(["eval", str(path), "--index", str(seed_index), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 2 and report["hit_at_1"] == 1.0  # over those with answers
    assert report["right_found"] == 1.0
    assert report["unanswerable"] == 2 and report["not_found"] == 1.0
    assert report["answered"] == []
    assert main(["eval", str(path), "--index", str(seed_index)]) == 0
    printed = capsys.readouterr().out
    assert "2 questions the articles should not answer" in printed
    assert "not found        1.000  (2/2)" in printed


def test_an_answer_that_is_neither_text_nor_a_number_is_named(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text('{"q": "x", "a": ["y"]}\n{"q": "z", "a": [{"text": "w"}]}\n')
    with pytest.raises(ValueError, match=r"odd.jsonl:2: each answer is a string"):
        read_questions(path)
