from __future__ import annotations

import json

import numpy as np
import pytest
from tests.conftest import CORPUS

from qa import Engine, IndexUnusable
from qa.cli import main
from qa.engine import build_index
from qa.index.generation import read_index
from qa.index.generations import current_generation
from qa.index.manifest import FORMAT_VERSION

QUESTION = "Who chaired the 2020 CSTO Council videoconference?"


def test_save_then_load_gives_identical_results(engine, index_copy):
    again = Engine(CORPUS, index_copy, build_if_missing=False)
    assert again.answer(QUESTION, k=5) == engine.answer(QUESTION, k=5)


def test_manifest_records_what_built_the_index(engine):
    manifest = engine.index.manifest
    assert manifest.model == "all-MiniLM-L6-v2"
    assert manifest.dimension == 384
    assert manifest.passage_count == len(engine.index.passages)
    assert manifest.passage_chars == engine.index.passage_chars > 0
    assert set(manifest.settings.to_dict()) == {
        "model",
        "chunk_size",
        "chunk_overlap",
        "chunk_unit",
    }
    assert len(manifest.documents) == 5
    assert all(len(d.sha256) == 64 for d in manifest.documents.values())
    assert {"sentence-transformers", "faiss-cpu", "numpy"} <= set(manifest.versions)
    assert manifest.built_at


def test_another_configured_model_is_refused_with_what_to_run(index_copy):
    with pytest.raises(IndexUnusable, match=r"built with the model 'all-MiniLM-L6-v2'.*qa index"):
        Engine(CORPUS, index_copy, model="paraphrase-MiniLM-L3-v2", build_if_missing=False)


def test_the_default_model_has_two_spellings(index_copy):
    Engine(CORPUS, index_copy, model="sentence-transformers/all-MiniLM-L6-v2")


def test_vector_count_mismatch_is_refused(index_copy):
    passages = current_generation(index_copy) / "passages.jsonl"
    lines = passages.read_text().splitlines(keepends=True)
    passages.write_text("".join(lines[:-1]))
    with pytest.raises(
        IndexUnusable, match=rf"{len(lines)} vectors but {len(lines) - 1} passages.*qa index"
    ):
        Engine(CORPUS, index_copy, build_if_missing=False)


def test_corrupt_parts_are_refused(index_copy):
    (current_generation(index_copy) / "vectors.faiss").write_bytes(b"not an index")
    with pytest.raises(IndexUnusable, match=r"damaged.*qa index --full"):
        Engine(CORPUS, index_copy, build_if_missing=False)


def test_dimension_mismatch_is_refused(index_copy):
    manifest = current_generation(index_copy) / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "dimension": 768}))
    with pytest.raises(IndexUnusable, match="768"):
        Engine(CORPUS, index_copy, build_if_missing=False)


def test_missing_index_says_to_build_it(tmp_path):
    with pytest.raises(IndexUnusable, match=r"no index.*qa index"):
        Engine(CORPUS, tmp_path / "none", build_if_missing=False)


def test_a_rebuild_switches_generation_and_clears_old_ones(index_copy):
    first = current_generation(index_copy)
    engine = Engine(CORPUS, index_copy, build_if_missing=False)
    engine.build(full=True)
    second = current_generation(index_copy)
    engine.build(full=True)
    third = current_generation(index_copy)
    assert len({first, second, third}) == 3
    generations = sorted(p.name for p in index_copy.iterdir() if p.name.startswith("gen-"))
    assert generations == sorted([second.name, third.name])  # the one before stays for readers


def test_word_pieces_line_up_with_their_passages(seed_index):
    index = read_index(seed_index)
    assert len(index.pieces) == len(index.passages)
    for number, passage in enumerate(index.passages):
        offsets = index.pieces.offsets[index.pieces.first[number] : index.pieces.first[number + 1]]
        inside = offsets[offsets >= 0]
        assert len(inside) and inside.min() >= passage.start and inside.max() < passage.end


def test_an_index_of_the_previous_format_is_refused_until_rebuilt(index_copy, capsys):
    # Format 2 kept every word piece as float16 in tokens*.npy.
    generation = current_generation(index_copy)
    for name in ("pieces.npy", "pieces-first.npy", "pieces-offsets.npy"):
        (generation / name).unlink()
    np.save(generation / "tokens.npy", np.zeros((3, 384), dtype=np.float16))
    manifest = generation / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format_version": 2}))
    message = (
        f"the index in {index_copy}/ has format 2, this qa reads format {FORMAT_VERSION}: "
        "run `qa index --full` to rebuild it"
    )
    with pytest.raises(IndexUnusable) as refused:
        Engine(CORPUS, index_copy, build_if_missing=False)
    assert str(refused.value) == message
    assert main(["ask", "--corpus", str(CORPUS), "--index", str(index_copy), "Who?"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [f"qa: {message}"]
    build_index(CORPUS, index_copy, full=True)
    assert Engine(CORPUS, index_copy, build_if_missing=False).answer("Who chaired?").passages
