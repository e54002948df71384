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
from qa.engine import build_index
from qa.store import current_generation, read_index

EDITED = "2024-astana-council-narrow-format.md"
DELETED = "2023-minsk-tokayev-chairmanship-priorities.md"


def _vectors_by_chunk(index_dir) -> dict[str, np.ndarray]:
    index = read_index(index_dir)
    rows = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    return {p.chunk_id: rows[i] for i, p in enumerate(index.passages)}


def test_editing_one_file_re_embeds_only_its_passages(corpus_copy, index_copy):
    before = _vectors_by_chunk(index_copy)
    path = corpus_copy / EDITED
    path.write_text(path.read_text() + "\nThe delegates also planted a cedar in Astana.\n")
    report = build_index(corpus_copy, index_copy)
    manifest = read_index(index_copy).manifest
    assert report.changed == [EDITED] and report.added == report.removed == []
    assert len(report.unchanged) == 4 and report.full_reason is None
    assert report.embedded == manifest["documents"][EDITED]["passages"]
    after = _vectors_by_chunk(index_copy)
    for chunk_id, vector in after.items():
        if not chunk_id.startswith(EDITED):
            assert np.array_equal(vector, before[chunk_id])  # reused, not re-embedded
    result = Engine(corpus_copy, index_copy).answer("What did the delegates plant?", k=1)
    assert "cedar" in result.passages[0].text


def test_a_deleted_file_is_never_returned(corpus_copy, index_copy):
    (corpus_copy / DELETED).unlink()
    report = build_index(corpus_copy, index_copy)
    assert report.removed == [DELETED] and report.embedded == 0
    engine = Engine(corpus_copy, index_copy)
    everything = engine.answer("Minsk chairmanship priorities", k=1000)
    assert everything.passages and DELETED not in {p.source for p in everything.passages}
    assert DELETED not in read_index(index_copy).manifest["documents"]


def test_no_change_writes_nothing_and_never_loads_the_model(index_copy):
    generation = current_generation(index_copy)
    code = (
        "import sys, time; started = time.perf_counter(); from qa.cli import main; "
        f"code = main(['index', '--corpus', {str(ROOT / 'corpus')!r}, '--index', "
        f"{str(index_copy)!r}]); "
        "print('SECONDS', time.perf_counter() - started); "
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
    assert float(run.stdout.split("SECONDS ")[1].split()[0]) < 2.0
    assert current_generation(index_copy) == generation


def test_full_rebuilds_everything(corpus_copy, index_copy):
    report = build_index(corpus_copy, index_copy, full=True)
    assert report.full_reason == "--full asked for"
    assert report.embedded == report.passages == read_index(index_copy).vectors.ntotal
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
