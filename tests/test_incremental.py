from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from tests.conftest import ROOT
from tests.pdfs import pdf_bytes

from qa import Engine, IndexUnusable, Settings
from qa.cli import main
from qa.embed import Embedder
from qa.index.build import build_index
from qa.index.generation import read_index
from qa.index.generations import current_generation
from qa.index.rows import DocumentRows, split_by_document
from qa.ingest import corpus as corpus_module

EDITED = "2024-astana-council-narrow-format.md"
DELETED = "2023-minsk-tokayev-chairmanship-priorities.md"


def _rows_by_document(index_dir) -> dict[str, DocumentRows]:
    return {rows.document.source: rows for rows in split_by_document(read_index(index_dir))}


@pytest.fixture
def encoded(monkeypatch) -> list[str]:
    """Every text the model embeds during a test, in order (the real model still runs)."""
    texts: list[str] = []
    for name in ("encode", "encode_passages"):
        real = getattr(Embedder, name)

        def spy(self, batch, *args, real=real, **kwargs):
            texts.extend(batch)
            return real(self, batch, *args, **kwargs)

        monkeypatch.setattr(Embedder, name, spy)
    return texts


def test_editing_one_file_embeds_only_its_passages_and_sentences(corpus_copy, index_copy, encoded):
    before = _rows_by_document(index_copy)
    path = corpus_copy / EDITED
    path.write_text(path.read_text() + "\nThe delegates also planted a cedar in Astana.\n")
    report = build_index(corpus_copy, index_copy)
    assert report.changed == [EDITED] and report.added == report.removed == []
    assert len(report.unchanged) == 4 and report.full_reason is None
    after = _rows_by_document(index_copy)
    edited = after[EDITED]
    text, heading = edited.document.text, edited.document.heading
    # Only its passages are read; their sentences' vectors come from the same pass.
    assert encoded == [heading + text[a:b] for a, b in edited.passages.tolist()]
    assert (report.embedded, report.embedded_sentences) == (
        len(edited.passages),
        len(edited.sentences),
    )
    assert read_index(index_copy).manifest.documents[EDITED].passages == report.embedded
    for source, rows in after.items():
        if source != EDITED:  # reused row for row, not re-embedded
            old = before[source]
            assert np.array_equal(rows.passages, old.passages)
            assert np.array_equal(rows.passage_vectors, old.passage_vectors)
            assert np.array_equal(rows.sentences, old.sentences)
            assert np.array_equal(rows.sentence_vectors, old.sentence_vectors)
            assert np.array_equal(rows.titled_sentence_vectors, old.titled_sentence_vectors)
            assert np.array_equal(rows.pieces.codes, old.pieces.codes)
            assert np.array_equal(rows.pieces.offsets, old.pieces.offsets)
    result = Engine(corpus_copy, index_copy).answer("What did the delegates plant?", k=1)
    assert result.text == "The delegates also planted a cedar in Astana."
    assert result.passages[0].source == EDITED


def test_an_incremental_build_equals_a_full_one(corpus_copy, index_copy, tmp_path):
    path = corpus_copy / EDITED
    path.write_text(path.read_text() + "\nThe delegates also planted a cedar in Astana.\n")
    (corpus_copy / DELETED).unlink()
    (corpus_copy / "new.md").write_text("---\ntitle: New\n---\nA new park opened in Osh.")
    build_index(corpus_copy, index_copy)
    build_index(corpus_copy, tmp_path / "full")
    incremental, full = read_index(index_copy), read_index(tmp_path / "full")
    assert incremental.documents == full.documents
    assert incremental.passages == full.passages
    assert np.array_equal(incremental.sentences, full.sentences)
    for name in ("vectors", "sentence_vectors"):
        ours, theirs = getattr(incremental, name), getattr(full, name)
        # One float16 step (under 0.001 for unit vectors): a passage embedded in another
        # batch can round the other way.
        assert np.allclose(ours.all(), theirs.all(), atol=1e-3)
    question = "Who is the Secretary-General of the CSTO?"
    for lexical in ("lexical", "lexical_sentences"):
        assert np.array_equal(
            getattr(incremental, lexical).scores(question), getattr(full, lexical).scores(question)
        )
    ours = Engine(corpus_copy, index_copy).answer(question, k=5)
    theirs = Engine(corpus_copy, tmp_path / "full").answer(question, k=5)
    assert [p.chunk_id for p in ours.passages] == [p.chunk_id for p in theirs.passages]
    assert ours.text == theirs.text


def test_a_deleted_file_is_never_returned(corpus_copy, index_copy):
    (corpus_copy / DELETED).unlink()
    report = build_index(corpus_copy, index_copy)
    assert report.removed == [DELETED] and report.embedded == report.embedded_sentences == 0
    engine = Engine(corpus_copy, index_copy)
    everything = engine.answer("Minsk chairmanship priorities", k=1000)
    assert everything.passages and DELETED not in {p.source for p in everything.passages}
    assert DELETED not in read_index(index_copy).manifest.documents


def test_no_change_writes_nothing_and_never_loads_the_model(index_copy):
    generation = current_generation(index_copy)
    code = (
        "import sys; from qa.cli import main; "
        f"code = main(['index', '--corpus', {str(ROOT / 'corpus')!r}, '--index', "
        f"{str(index_copy)!r}]); "
        "print('HEAVY', sorted({'torch', 'sentence_transformers'} & set(sys.modules))); "
        "sys.exit(code)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert run.returncode == 0, run.stderr
    assert "(no changes)" in run.stdout and "embedded 0 passages" in run.stdout
    assert "HEAVY []" in run.stdout
    assert current_generation(index_copy) == generation


def test_full_rebuilds_everything(corpus_copy, index_copy):
    report = build_index(corpus_copy, index_copy, full=True)
    assert report.full_reason == "--full asked for"
    index = read_index(index_copy)
    assert report.embedded == report.passages == len(index.vectors)
    assert report.embedded_sentences == len(index.sentences) == len(index.sentence_vectors)
    assert len(report.changed) == 5 and report.unchanged == []


def test_other_chunk_settings_rebuild_everything(corpus_copy, index_copy):
    report = build_index(corpus_copy, index_copy, Settings(chunk_size=300))
    assert report.full_reason == "the chunking settings changed"
    assert report.embedded == report.passages


def test_a_corrupt_index_is_refused_then_rebuilt_by_qa_index(corpus_copy, index_copy, capsys):
    (current_generation(index_copy) / "passages.jsonl").write_text('{"chunk_id": "trunc')
    with pytest.raises(IndexUnusable, match="qa index --full"):
        Engine(corpus_copy, index_copy, build_if_missing=False)
    assert main(["ask", "Who?", "--corpus", str(corpus_copy), "--index", str(index_copy)]) == 1
    assert "qa index --full" in capsys.readouterr().err
    report = build_index(corpus_copy, index_copy)
    assert report.full_reason.startswith("the index was unusable")
    assert report.embedded == report.passages > 0
    Engine(corpus_copy, index_copy, build_if_missing=False)


def _bad_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_text("A secret kept outside the corpus.")
    (corpus / "good.md").write_text("---\ntitle: Good\n---\nThe summit was held in Astana.")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (corpus / "old.txt").write_bytes("The caf\u00e9 hosted the talks in Minsk.".encode("cp1252"))
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    (corpus / "yaml.md").write_text("---\ntitle: [unclosed\n---\nText.")
    (corpus / "link.md").symlink_to(outside)
    (corpus / "big.txt").write_text("Words. " * 2000)
    (corpus / "report.pdf").write_bytes(
        pdf_bytes([["Page one is about the weather."], ["The treaty was signed in Tashkent."]])
    )
    return corpus


def test_each_bad_file_is_skipped_with_its_reason_and_the_rest_indexed(tmp_path):
    corpus = _bad_corpus(tmp_path)
    report = build_index(corpus, tmp_path / "index", max_bytes=10_000)
    reasons = {s.source: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "image.md", "broken.pdf", "yaml.md", "link.md", "big.txt"}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["image.md"] == "binary data, not text"
    assert reasons["broken.pdf"].startswith("not a readable PDF")
    assert "YAML" in reasons["yaml.md"]
    assert "outside the corpus folder: not followed" in reasons["link.md"]
    assert "over the 10,000-byte limit" in reasons["big.txt"]
    assert report.added == ["good.md", "old.txt", "report.pdf"]
    assert [(n.source, n.reason) for n in report.notes] == [
        ("old.txt", "not UTF-8: decoded as cp1252")
    ]
    engine = Engine(corpus, tmp_path / "index")
    top = engine.answer("Where was the treaty signed?", k=1).passages[0]
    assert (top.source, top.page, top.text) == (
        "report.pdf",
        2,
        "The treaty was signed in Tashkent.",
    )
    texts = [p.text for p in engine.answer("secret", k=100).passages]
    assert len(texts) == 4 and not any("secret" in text for text in texts)


def test_the_cli_lists_skips_and_exits_1(tmp_path, capsys):
    corpus = _bad_corpus(tmp_path)
    args = ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    assert main([*args, "--max-size", "0.01"]) == 1
    out, err = capsys.readouterr()
    assert "added 3 · changed 0 · removed 0 · unchanged 0 · skipped 6" in out
    assert "skipped empty.txt: empty file" in err
    assert "skipped big.txt: 14,000 bytes, over the 10,000-byte limit (--max-size)" in err
    assert "note old.txt: not UTF-8: decoded as cp1252" in err
    for bad in ("empty.txt", "image.md", "broken.pdf", "yaml.md", "link.md"):
        (corpus / bad).unlink()
    assert main([*args, "--max-size", "1"]) == 0
    out, _ = capsys.readouterr()
    assert "added 1 · changed 0 · removed 0 · unchanged 3 · skipped 0" in out
    assert main(["ask", "Where was the treaty signed?", "-k", "1", "--index", args[-1]]) == 0
    assert "report.pdf · p. 2 · chars" in capsys.readouterr().out


def test_a_file_that_turns_bad_loses_its_passages(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("The summit was held in Astana.")
    (corpus / "b.md").write_text("The treaty was signed in Tashkent.")
    build_index(corpus, tmp_path / "index")
    (corpus / "b.md").write_bytes(b"\x00" * 64)
    time.sleep(0.01)
    report = build_index(corpus, tmp_path / "index")
    assert report.removed == ["b.md"] and [s.source for s in report.skipped] == ["b.md"]
    sources = {p.source for p in Engine(corpus, tmp_path / "index").answer("treaty", k=9).passages}
    assert sources == {"a.md"}


def test_a_file_that_gave_no_passage_is_read_again_when_it_now_reads_otherwise(
    tmp_path, monkeypatch
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text("Buy milk and eggs\n")
    (corpus / "news.md").write_text("The council met in Minsk. It approved the budget.\n")

    # A reader that took a line not ending like a sentence for a headline, however alone.
    def headline_end(text: str, title: str | None) -> int:
        return 0 if text.rstrip().endswith(".") else len(text)

    with monkeypatch.context() as older:
        older.setattr(corpus_module, "_headline_end", headline_end)
        first = build_index(corpus, tmp_path / "index")
    assert first.passages == 1 and [n.source for n in first.notes] == ["note.md"]
    again = build_index(corpus, tmp_path / "index")  # the file itself did not change
    assert again.changed == ["note.md"] and again.passages == 2 and not again.notes
    assert build_index(corpus, tmp_path / "index").generation is None  # and then it rests


def test_a_post_that_reads_like_a_caption_keeps_its_passage_and_an_empty_one_is_named(
    tmp_path,
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "post.md").write_text("Photo: the new bridge over the Ural river opened at dawn.\n")
    (corpus / "headline.md").write_text("# Only a headline\n")
    (corpus / "news.md").write_text("The council met in Minsk. It approved the budget.\n")
    report = build_index(corpus, tmp_path / "index")
    assert report.passages == 2
    assert [(n.source, n.reason) for n in report.notes] == [
        ("headline.md", "no passage: no text after its title")
    ]
    top = Engine(corpus, tmp_path / "index").answer("When did the Ural bridge open?").passages[0]
    assert (top.source, top.text) == (
        "post.md",
        "Photo: the new bridge over the Ural river opened at dawn.",
    )
    again = build_index(corpus, tmp_path / "index")  # nothing changed: the note stays
    assert again.generation is None and again.notes == report.notes
