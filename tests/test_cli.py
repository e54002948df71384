from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from tests.conftest import CORPUS

from qa.cli import main


def test_ask_prints_json(seed_index, capsys):
    code = main(
        [
            "ask",
            "Who is the President of Tajikistan?",
            "-k",
            "2",
            "--json",
            "--corpus",
            str(CORPUS),
            "--index",
            str(seed_index),
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert len(data["passages"]) == 2
    assert {
        "text",
        "score",
        "source",
        "title",
        "publisher",
        "date",
        "start",
        "end",
        "chunk_id",
    } <= set(data["passages"][0])
    assert 0 <= data["confidence"] <= 1 and isinstance(data["found"], bool)


def test_ask_prints_sources_for_people(seed_index, capsys):
    assert main(["ask", "Who is the President of Tajikistan?", "--index", str(seed_index)]) == 0
    out = capsys.readouterr().out
    assert "[1]" in out and "[5]" in out and ".md" in out


def test_ask_marks_the_answer_words_and_says_as_of(seed_index, capsys):
    index = ["--corpus", str(CORPUS), "--index", str(seed_index)]
    assert main(["ask", "How many documents did the CSTO leaders sign?", *index]) == 0
    assert "**14**" in capsys.readouterr().out.splitlines()[0]
    assert main(["ask", "Who is the Secretary-General of the CSTO?", *index]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("(as of 2024-11-28)")
    assert "(older: 2020-12-02)" in out
    assert main(["ask", "How many documents did the CSTO leaders sign?", "--json", *index]) == 0
    assert json.loads(capsys.readouterr().out)["exact"] == "14"


def test_an_unanswerable_question_is_not_found_then_the_closest_passages(seed_index, capsys):
    question = "What is the capital of Australia?"
    assert main(["ask", question, "-k", "2", "--index", str(seed_index)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Not found in these articles."
    assert "closest passages" in "\n".join(lines[1:5]) and "[2]" in "\n".join(lines)


def test_ask_keeps_to_dates_and_files_and_follows_up(seed_index, capsys):
    index = ["--corpus", str(CORPUS), "--index", str(seed_index), "--json"]
    question = "Who chaired the session?"
    assert main(["ask", question, "--from", "2024", "--to", "2024-12", *index]) == 0
    dates = [p["date"] for p in json.loads(capsys.readouterr().out)["passages"]]
    assert dates and all(date.startswith("2024") for date in dates)
    minsk = "2023-minsk-tokayev-chairmanship-priorities.md"
    assert main(["ask", question, "--file", minsk, *index]) == 0
    assert {p["source"] for p in json.loads(capsys.readouterr().out)["passages"]} == {minsk}
    follow_up = ["What did Tokayev thank him for?", "-k", "1", *index]
    assert main(["ask", *follow_up, "--after", "Who chaired the 2020 videoconference?"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert main(["ask", *follow_up]) == 0
    assert after["passages"] != json.loads(capsys.readouterr().out)["passages"]
    assert main(["ask", question, "--from", "2030", "--index", str(seed_index)]) == 0
    assert capsys.readouterr().out.startswith("No passages: no indexed article matches --from")


def test_ask_with_a_file_or_date_it_cannot_use_exits_2_with_one_line(seed_index, capsys):
    index = ["--corpus", str(CORPUS), "--index", str(seed_index)]
    assert main(["ask", "Who chaired it?", "--file", "nothere.md", *index]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no indexed file 'nothere.md'" in err
    assert main(["ask", "Who chaired it?", "--to", "2024-02-30", *index]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'2024-02-30' is not a date" in err


def test_empty_question_exits_2_with_one_line(seed_index, capsys):
    assert main(["ask", "  ", "--index", str(seed_index)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "empty" in err


def test_missing_index_says_run_qa_index(tmp_path, capsys):
    assert main(["ask", "Anything?", "--index", str(tmp_path / "none")]) == 1
    assert "qa index" in capsys.readouterr().err


def test_a_file_where_a_folder_or_a_question_file_belongs_is_one_line(tmp_path, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    for command, code, says in [
        (["ask", "Anything?", "--index", str(a_file)], 1, "is a file, not an index folder"),
        (["index", "--corpus", str(a_file), "--index", str(tmp_path / "i")], 1, "--corpus"),
        (["eval", str(tmp_path), "--index", str(tmp_path / "i")], 2, "cannot read"),
        (["eval", str(tmp_path / "none.jsonl")], 2, "give a JSON-lines file"),
    ]:
        assert main(command) == code
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("qa: ") and says in err


def test_a_reader_that_leaves_early_gets_no_traceback(seed_index):
    # `qa ask ... | head -1`: the pipe is closed before the answer is written.
    ask = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "ask", "Where was the 2023 session held?", "--json"]
        + ["--index", str(seed_index), "--corpus", str(CORPUS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    ask.stdout.close()
    error = ask.stderr.read().decode()
    assert ask.wait(timeout=120) == 141  # 128 + SIGPIPE, as a shell expects
    assert "Traceback" not in error and "BrokenPipe" not in error


def test_ctrl_c_while_asking_is_one_line(seed_index):
    ask = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "ask", "Where was the 2023 session held?"]
        + ["--index", str(seed_index), "--corpus", str(CORPUS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(2)  # loading the model takes longer than this
    # Pressed again if a library's import swallowed it (some catch everything).
    for _ in range(20):
        ask.send_signal(signal.SIGINT)
        try:
            _, error = ask.communicate(timeout=3)
            break
        except subprocess.TimeoutExpired:
            continue
    # 130 (128 + SIGINT); or killed by SIGINT, which a shell reports as 130 too: CPython exits
    # that way when the interrupt landed in code a library ran through eval().
    assert ask.returncode in (130, -signal.SIGINT)
    assert error.decode().strip() == "qa: interrupted"


def test_the_command_starts_without_the_model_libraries():
    # They load inside the command, where a Ctrl-C while they load is one line.
    code = "import sys, qa, qa.cli; print(sorted({'numpy', 'torch', 'faiss'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr


def test_index_command_builds_and_summarises(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("The summit was held in Astana. Leaders signed 14 documents.")
    (corpus / "b.txt").write_bytes(b"")
    (corpus / "c.docx").write_bytes(b"PK")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "index",
            "--corpus",
            str(corpus),
            "--index",
            str(tmp_path / "index"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1  # a file was skipped
    assert "Indexed 1 documents, 1 passages" in run.stdout
    assert "skipped b.txt: empty file" in run.stderr
    assert "not read: 1 file of another type (.docx); qa reads .md, .txt," in run.stderr


def test_serve_listens_on_localhost_7860_unless_told_otherwise(monkeypatch):
    from qa.cli import _parser

    monkeypatch.delenv("QA_HOST", raising=False)
    monkeypatch.delenv("QA_PORT", raising=False)
    args = _parser().parse_args(["serve"])
    assert (args.host, args.port, args.corpus) == ("127.0.0.1", 7860, "corpus")
    monkeypatch.setenv("QA_HOST", "0.0.0.0")
    monkeypatch.setenv("QA_PORT", "8123")
    args = _parser().parse_args(["serve", "--port", "9000"])
    assert (args.host, args.port) == ("0.0.0.0", 9000)


def test_qa_port_is_read_as_a_port_and_a_bad_one_fails_serve_only(monkeypatch, capsys):
    import pytest

    from qa.cli import _parser

    monkeypatch.setenv("QA_PORT", "8123")
    assert _parser().parse_args(["serve"]).port == 8123
    monkeypatch.setenv("QA_PORT", "web")
    assert _parser().parse_args(["ask", "Who?"]).question == "Who?"
    with pytest.raises(SystemExit) as exit:
        _parser().parse_args(["serve"])
    assert exit.value.code == 2
    assert "--port: invalid int value: 'web'" in capsys.readouterr().err
