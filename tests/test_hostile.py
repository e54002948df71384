"""Hostile input and faults: each bad file or fault gets one clear line, the rest is indexed.

One corpus of generated files, good and bad, is indexed once through `qa index`; each test
then checks what a user would see for one kind of trouble (the CLI, the Python API, the web
form and `/ask`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from tests.conftest import ROOT
from tests.pdfs import pdf_bytes

from qa import Engine, IndexUnusable
from qa.cli import main
from qa.index.build import build_index
from qa.index.generations import current_generation
from qa.index.lexical import split_compounds
from qa.ingest.chunking import split_sentences
from qa.ingest.corpus import parse_document
from qa.web import render

BAD_NAME = b"bad\xff\xfename.md"
GOOD_QUESTION = "Who led the survey of the northern walrus herd?"
FILES = {
    "good.md": "---\ntitle: Harbour notes\npublisher: Coast Gazette\ndate: 2023-05-04\n---\n"
    "The walrus census of the northern bay counted 412 animals in May.\n",
    "new\nline.md": "The otter compact was signed by the river councils.\n",
    "stamp.md": "---\ndate: 2024-11-28T10:00:00Z\n---\n"
    "The kestrel treaty was sealed on the last Thursday of November.\n",
    "basic.md": "---\ndate: 20241128\n---\nThe plover charter was adopted by the dune wardens.\n",
    "impossible.md": "---\ndate: 2024-13-45\n---\nThe ibis accord was sealed on a Friday.\n",
    "wrapped-title.md": "The Collective Gull Protection Board\nmet in the old lighthouse to agree "
    "on nesting rules. The rules take effect in June.\n",
    "long-first.md": "The board of the northern lagoon, which had met every spring since the "
    "founding of the harbour town and its fishing guilds, agreed on new rules for the eel "
    "traps. Nothing else was decided.\n",
}
WRAPPED_PDF_LINES = [
    "In the spring the survey of the northern walrus herd was led by Dr. Ilse",
    "Marheim. The herd had grown since the last count.",
]
INDEXED = {
    "good.md",
    "new\nline.md",
    "stamp.md",
    "basic.md",
    "impossible.md",
    "wrapped-title.md",
    "long-first.md",
    "utf16.md",
    "wrapped.pdf",
    "open-encrypted.pdf",
    "warned.pdf",
}
SKIPPED = [
    r"skipped 'bad\xff\xfename.md': the file name is not valid UTF-8: rename the file to index it",
    "skipped locked.pdf: encrypted PDF: needs a password",
    "skipped loop-a.md: a symbolic link loop: not followed",
    "skipped loop-b.md: a symbolic link loop: not followed",
]
NOTES = [
    "note impossible.md: date '2024-13-45' is not a date; indexed without one",
    "note utf16.md: not UTF-8: decoded as utf-16",
    "note warned.pdf: PDF reader: incorrect startxref pointer(1); parsing for Object Streams",
]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}


def _encrypted_pdf(password: str, line: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes([[line]]))))
    writer.encrypt(password, "owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _write_corpus(corpus: Path) -> None:
    corpus.mkdir()
    for name, text in FILES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "utf16.md").write_bytes(
        "The pelican charter was adopted by the lagoon board.\n".encode("utf-16")
    )
    (corpus / "wrapped.pdf").write_bytes(pdf_bytes([WRAPPED_PDF_LINES], title="Walrus count"))
    (corpus / "open-encrypted.pdf").write_bytes(
        _encrypted_pdf("", "The heron accord was signed in Tromso by nine harbour towns.")
    )
    (corpus / "locked.pdf").write_bytes(_encrypted_pdf("secret", "The locked accord."))
    warned = pdf_bytes([["The cormorant pact was renewed by the fishing guilds."]])
    (corpus / "warned.pdf").write_bytes(
        warned[: warned.rindex(b"startxref")] + b"startxref\n12\n%%EOF\n"
    )
    os.symlink("loop-b.md", corpus / "loop-a.md")
    os.symlink("loop-a.md", corpus / "loop-b.md")
    with open(os.fsencode(corpus) + b"/" + BAD_NAME, "wb") as handle:
        handle.write(b"The marmoset pact.\n")


def _run(argv: list[str]) -> tuple[int, str, str]:
    """`qa ARGV` in this process (the model is loaded once): exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _messages(err: str) -> list[str]:
    """stderr without the progress bars."""
    return [line for line in err.splitlines() if line.strip() and "Embedding" not in line]


@pytest.fixture(scope="module")
def built(tmp_path_factory, embedder):
    """The hostile corpus indexed by `qa index`: (corpus, index, exit code, stdout, stderr)."""
    root = tmp_path_factory.mktemp("hostile")
    corpus, index = root / "corpus", root / "index"
    _write_corpus(corpus)
    code, out, err = _run(["index", "--corpus", str(corpus), "--index", str(index)])
    return corpus, index, code, out, err


@pytest.fixture(scope="module")
def hostile_engine(built):
    corpus, index, *_ = built
    return Engine(corpus, index, build_if_missing=False)


@pytest.fixture
def copies(built, tmp_path) -> tuple[Path, Path]:
    """Private copies of the hostile corpus and its index that a test may change."""
    corpus, index, *_ = built
    shutil.copytree(corpus, tmp_path / "corpus", symlinks=True)
    shutil.copytree(index, tmp_path / "index")
    return tmp_path / "corpus", tmp_path / "index"


def test_each_bad_file_gets_one_line_and_every_other_file_is_indexed(built, hostile_engine):
    _, index, code, out, err = built
    assert code == 1  # files were skipped
    assert "Traceback" not in err + out
    assert _messages(err) == NOTES + SKIPPED
    assert set(hostile_engine.info().sources) == INDEXED
    assert not [p.name for p in index.iterdir() if p.name.endswith(".tmp")]


def test_a_file_name_with_a_line_break_keeps_its_summary_on_one_line(built):
    *_, out, _ = built
    assert r"  added    'new\nline.md'" in out.splitlines()
    assert all(line.startswith(("Indexed ", "  ")) for line in out.splitlines())


def test_an_encrypted_pdf_with_an_empty_password_is_indexed_and_answers(hostile_engine):
    result = hostile_engine.answer("Where was the heron accord signed?", k=1)
    assert result.passages[0].source == "open-encrypted.pdf"
    assert "Tromso" in result.text


def test_a_wrapped_pdf_line_and_an_abbreviation_do_not_end_a_sentence(hostile_engine):
    text = hostile_engine.document("wrapped.pdf").text
    sentences = [" ".join(text[a:b].split()) for a, b in split_sentences(text)]
    assert sentences == [
        "In the spring the survey of the northern walrus herd was led by Dr. Ilse Marheim.",
        "The herd had grown since the last count.",
    ]
    result = hostile_engine.answer(GOOD_QUESTION, k=1)
    assert "Marheim" in result.text and "Dr. Ilse" in result.text


@pytest.mark.parametrize(
    "run",
    [
        "." * 300_000,
        "!" * 300_000,
        " " * 300_000,
        "0f3a9c" * 50_000,
        "acgt" * 75_000,
        ". " * 150_000 + "(@x)",  # where a post's signature might be glued, at every mark
        "— " * 150_000 + "Jane Roe (@janeroe) May 1, 2015",
    ],
)
def test_a_long_run_of_marks_or_spaces_or_one_word_is_read_in_one_pass(run):
    # Each was read once from every character in it (a million dots: hours); now once.
    text = f"A line before.\n\n{run}\n\nA line after."
    document = parse_document("run.txt", text.encode())
    sentences = [text[a:b] for a, b in split_sentences(document.text)]
    assert sentences[0] == "A line before." and sentences[-1] == "A line after."
    assert split_compounds(run) == run


def test_titles_come_from_the_first_sentence_or_the_file_name(hostile_engine):
    wrapped = hostile_engine.document("wrapped-title.md")
    assert wrapped.title == (
        "The Collective Gull Protection Board met in the old lighthouse to agree on nesting rules."
    )
    assert hostile_engine.document("long-first.md").title == "long-first"


def test_utf16_with_a_byte_order_mark_is_decoded(hostile_engine):
    document = hostile_engine.document("utf16.md")
    assert document.text.startswith("The pelican charter") and document.encoding == "utf-16"


def test_timestamps_and_basic_dates_keep_their_day_and_pass_the_day_filter(hostile_engine):
    assert hostile_engine.document("stamp.md").date == "2024-11-28"
    assert hostile_engine.document("basic.md").date == "2024-11-28"
    assert hostile_engine.document("impossible.md").date is None
    result = hostile_engine.answer(
        "Which treaty was sealed?", k=10, date_from="2024-11-28", date_to="2024-11-28"
    )
    assert {p.source for p in result.passages} == {"stamp.md", "basic.md"}


@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [
        ("2024-13-45", None, "'2024-13-45' is not a date"),
        ("2024-02-30", None, "'2024-02-30' is not a date"),
        (None, "28.11.2024", "'28.11.2024' is not a date"),
        ("2024-12", "2024-11", r"date_from is after date_to \(2024-12 > 2024-11\)"),
    ],
)
def test_a_malformed_or_reversed_date_filter_is_refused(
    hostile_engine, date_from, date_to, message
):
    with pytest.raises(ValueError, match=message):
        hostile_engine.answer("Which treaty?", date_from=date_from, date_to=date_to)


def test_the_web_form_names_a_bad_date_and_a_reversed_range():
    assert render.date_range(" 2024 ", "") == ("2024", None)
    with pytest.raises(ValueError, match="From: '2024-02-30' is not a date"):
        render.date_range("2024-02-30", None)
    with pytest.raises(ValueError, match="From is after To"):
        render.date_range("2024-12-01", "2024-11")


def test_a_question_with_lone_surrogates_is_cleaned(hostile_engine):
    result = hostile_engine.answer("Who led the \ud800 walrus survey?", k=1)
    assert result.question == "Who led the \ufffd walrus survey?"
    assert result.passages[0].source == "wrapped.pdf"
    json.loads(result.to_json())  # it serialises
    with pytest.raises(ValueError, match="no readable text"):
        hostile_engine.answer("\ud800 \udfff")


def test_answer_cleans_lone_surrogates_too(built, monkeypatch):
    from qa import answer
    from qa.engine import default_engine

    corpus, index, *_ = built
    monkeypatch.setenv("QA_CORPUS", str(corpus))
    monkeypatch.setenv("QA_INDEX", str(index))
    default_engine.cache_clear()
    try:
        assert answer("Who led the \udcff walrus survey?", k=1).passages[0].source == "wrapped.pdf"
        with pytest.raises(ValueError, match="no readable text"):
            answer("\udcff")
    finally:
        default_engine.cache_clear()


def test_qa_ask_with_bytes_that_are_not_utf8(built):
    corpus, index, *_ = built
    where = ["--corpus", str(corpus), "--index", str(index)]
    # A shell passes $'\xff' to Python as the lone surrogate U+DCFF.
    code, out, err = _run(["ask", "Who led the walrus \udcff survey?", "-k", "1", "--json", *where])
    assert code == 0 and err == ""
    assert json.loads(out)["passages"][0]["source"] == "wrapped.pdf"
    code, out, err = _run(["ask", "\udcff", *where])
    assert code == 2 and out == "" and err.count("\n") == 1 and "no readable text" in err


def _call_ask(url: str, question: str) -> tuple[str, str]:
    """POST /ask as raw JSON (lone surrogates escaped, as a browser or curl may send them);
    returns the event ("complete" or "error") and its data."""
    body = json.dumps({"data": [question, 1]}).encode("ascii")
    request = urllib.request.Request(
        f"{url}gradio_api/call/ask", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/ask/{event_id}", timeout=120) as response:
        lines = response.read().decode("utf-8").splitlines()
    event = next(line for line in lines if line.startswith("event:")).split(":", 1)[1].strip()
    data = next(line for line in lines if line.startswith("data:")).split(":", 1)[1].strip()
    return event, data


def test_web_ask_answers_a_question_with_lone_surrogates_and_says_why_it_refuses(built):
    from qa.web.app import ChatService, build_app

    corpus, index, *_ = built
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = build_app(ChatService(corpus, index))
    app.queue().launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
    )
    try:
        event, data = _call_ask(app.local_url, "Who led the walrus \ud800 survey?")
        assert event == "complete"
        assert json.loads(data)[0]["passages"][0]["source"] == "wrapped.pdf"
        event, data = _call_ask(app.local_url, "\ud800")
        assert event == "error" and "no readable text" in data
    finally:
        app.close()


NPY_FILES = [
    "sentences.npy",
    "pieces.npy",
    "pieces-first.npy",
    "pieces-offsets.npy",
    "bm25/data.csc.index.npy",
    "bm25/indices.csc.index.npy",
    "bm25/indptr.csc.index.npy",
    "bm25-sentences/data.csc.index.npy",
    "bm25-sentences/indices.csc.index.npy",
    "bm25-sentences/indptr.csc.index.npy",
]


@pytest.mark.parametrize("name", NPY_FILES)
def test_an_empty_npy_makes_the_index_unusable_naming_the_fix(built, tmp_path, name):
    _, index, *_ = built
    copy = tmp_path / "index"
    shutil.copytree(index, copy)
    (current_generation(copy) / name).write_bytes(b"")
    with pytest.raises(IndexUnusable, match=r"damaged .*: run `qa index --full`"):
        Engine(tmp_path, copy, build_if_missing=False)


def test_qa_ask_and_plain_qa_index_on_an_empty_npy(copies):
    corpus, index = copies
    (current_generation(index) / "pieces.npy").write_bytes(b"")
    where = ["--corpus", str(corpus), "--index", str(index)]
    code, out, err = _run(["ask", GOOD_QUESTION, *where])
    assert code == 1 and out == "" and err.count("\n") == 1 and "qa index --full" in err
    code, out, err = _run(["index", *where])
    assert "rebuilt fully: the index was unusable" in out and "Traceback" not in err
    assert code == 1  # the bad files are still skipped
    result = Engine(corpus, index, build_if_missing=False).answer(GOOD_QUESTION, k=1)
    assert result.passages[0].source == "wrapped.pdf"


def test_a_build_clears_every_generation_that_is_not_live(copies):
    corpus, index = copies
    live = current_generation(index)
    leftovers = ["gen-20000101T000000000000-1", "gen-20000102T000000000000-1"]
    for name in leftovers + ["gen-99991231T000000000000-1"]:  # the last never made live
        shutil.copytree(live, index / name)
    (index / ".gen-20000103T000000000000-1.tmp").mkdir()
    report = build_index(corpus, index)
    assert report.generation is None  # nothing to do, and still cleaned
    assert sorted(p.name for p in index.iterdir() if p.is_dir()) == [live.name]
    # The one before the live one is what a build keeps for readers, not a leftover.
    assert report.cleaned == [
        ".gen-20000103T000000000000-1.tmp",
        "gen-20000101T000000000000-1",
        "gen-99991231T000000000000-1",
    ]


def test_every_file_of_a_generation_is_flushed_before_the_switch(copies, monkeypatch):
    corpus, index = copies
    (corpus / "more.md").write_text("The tern agreement was renewed by the islands.\n")
    events: list[str] = []
    fsync, replace = os.fsync, os.replace

    def spy_fsync(fd: int) -> None:
        events.append(os.readlink(f"/proc/self/fd/{fd}"))
        fsync(fd)

    def spy_replace(src, dst) -> None:
        events.append(f"switch {dst}")
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(os, "replace", spy_replace)
    report = build_index(corpus, index)
    switched = events.index(f"switch {index / 'CURRENT'}")
    generation = (index / report.generation).resolve()
    paths = [p for p in generation.rglob("*")] + [generation]
    flushed = {
        path.replace(f".{report.generation}.tmp", report.generation) for path in events[:switched]
    }
    assert {str(p) for p in paths} <= flushed


def _mount(*args: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def _unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_full_disk_gives_one_line_and_leaves_the_index_as_it_was(copies, tmp_path):
    corpus, index = copies
    disk = tmp_path / "disk"
    disk.mkdir()
    # tmpfs counts whole 4 KB pages per file.
    pages = sum(-(-p.stat().st_size // 4096) for p in index.rglob("*") if p.is_file())
    # Room for the live generation and half as much again, not for a second one.
    if not _mount("-t", "tmpfs", "-o", f"size={4 * (pages + pages // 2)}k", "tmpfs", str(disk)):
        pytest.skip("mounting a small tmpfs is not permitted here")
    try:
        shutil.copytree(index, disk / "index")
        before = Engine(corpus, disk / "index", build_if_missing=False).answer(GOOD_QUESTION)
        (corpus / "more.md").write_text("The tern agreement was renewed by the islands.\n")
        code, out, err = _run(["index", "--corpus", str(corpus), "--index", str(disk / "index")])
        assert code == 1 and out == ""
        (line,) = _messages(err)
        assert line.startswith(f"qa: no space left on {disk / 'index'}/ (needed about ")
        assert "MB); the previous index is unchanged" in line
        assert sorted(p.name for p in (disk / "index").iterdir()) == sorted(
            p.name for p in index.iterdir()
        )  # the staging folder is gone at once
        after = Engine(corpus, disk / "index", build_if_missing=False).answer(GOOD_QUESTION)
        assert after == before
    finally:
        _unmount(disk)


def test_a_read_only_index_answers_and_qa_index_says_it_cannot_write(copies, tmp_path):
    corpus, index = copies
    frozen = tmp_path / "frozen"
    frozen.mkdir()
    if not _mount("--bind", str(index), str(frozen)):
        pytest.skip("bind mounts are not permitted here")
    try:
        if not _mount("-o", "remount,bind,ro", str(frozen)):
            pytest.skip("read-only remounts are not permitted here")
        result = Engine(corpus, frozen, build_if_missing=False).answer(GOOD_QUESTION, k=1)
        assert result.passages[0].source == "wrapped.pdf"
        code, out, err = _run(["index", "--corpus", str(corpus), "--index", str(frozen)])
        assert code == 1 and out == ""
        assert _messages(err) == [
            f"qa: cannot write to {frozen}/ (Read-only file system): a build needs a folder it "
            "can write; the index there still answers questions"
        ]
    finally:
        _unmount(frozen)


def test_watch_stops_on_ctrl_c_even_when_started_with_sigint_ignored(copies):
    corpus, index = copies
    child = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "index", "--watch", "--interval", "0.2"]
        + ["--corpus", str(corpus), "--index", str(index)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # What a shell does for a background job (`qa index --watch &`).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        line = child.stdout.readline()  # the first summary: the watch is running
        assert b"no changes" in line
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 0
    assert b"stopped watching" in err and b"Traceback" not in err


def test_skipped_files_keep_their_reasons_in_the_python_report(copies):
    corpus, index = copies
    (corpus / "good.md").write_text(FILES["good.md"] + "The count ended in June.\n")
    report = build_index(corpus, index)
    assert report.changed == ["good.md"]
    assert [f"skipped {s.source}: {s.reason}" for s in report.skipped] == SKIPPED
    assert [f"note {n.source}: {n.reason}" for n in report.notes] == NOTES
