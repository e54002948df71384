from __future__ import annotations

import faiss
import numpy as np
import pytest

from qa.index import vectors
from qa.index.vectors import Kind


def _clustered(n: int, dimension: int = 32, clusters: int = 50, seed: int = 0) -> np.ndarray:
    """Unit vectors around `clusters` random centres, like embeddings of related texts."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dimension)).astype(np.float32)
    rows = centres[rng.integers(clusters, size=n)] + 0.3 * rng.standard_normal(
        (n, dimension), dtype=np.float32
    )
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    return _clustered(5000)


@pytest.fixture(scope="module")
def exact(rows) -> faiss.Index:
    return vectors.build(rows)


@pytest.fixture(scope="module")
def approximate(rows) -> faiss.Index:
    return vectors.build(rows, exact_up_to=100)


@pytest.fixture(scope="module")
def queries(rows) -> np.ndarray:
    # Near-copies of stored rows: each has one clear nearest neighbour, its own row.
    rng = np.random.default_rng(1)
    picked = rows[::100] + 0.05 * rng.standard_normal(rows[::100].shape, dtype=np.float32)
    return picked / np.linalg.norm(picked, axis=1, keepdims=True)


def test_the_kind_switches_at_the_threshold():
    assert vectors.kind_for(10_000) is Kind.EXACT
    assert vectors.kind_for(10_001) is Kind.IVF_SQ8
    assert vectors.kind_for(1000, exact_up_to=999) is Kind.IVF_SQ8
    assert vectors.kind_for(999, exact_up_to=999) is Kind.EXACT


def test_build_makes_the_kind_its_size_calls_for(rows, approximate):
    assert vectors.Kind.of(vectors.build(rows[:100], exact_up_to=100)) is vectors.Kind.EXACT
    assert isinstance(approximate, faiss.IndexIVFScalarQuantizer)
    assert Kind.of(approximate) is Kind.IVF_SQ8
    assert approximate.ntotal == len(rows)
    assert approximate.nlist == vectors.lists_for(len(rows)) == 128
    assert approximate.nprobe == vectors.probes_for(128) == 16


def test_cluster_counts_follow_the_square_root():
    assert vectors.lists_for(1_000_000) == 2048
    assert vectors.lists_for(200_001) == 1024
    assert vectors.probes_for(2048) == 32


def test_approximate_top_1_is_the_exact_top_1(rows, queries, exact, approximate):
    _, expected = exact.search(queries, 1)
    _, found = vectors.search(approximate, queries, 1)
    assert (expected[:, 0] == np.arange(0, len(rows), 100)).all()  # each finds its own row
    assert (found == expected).all()


def test_approximate_recall_at_10_is_at_least_095(queries, exact, approximate):
    _, expected = exact.search(queries, 10)
    _, found = vectors.search(approximate, queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(expected, found)])
    assert recall >= 0.95


def test_reconstruct_batch_works_on_both_kinds(rows, exact, approximate):
    ids = np.array([3, 4000, 17], dtype=np.int64)
    halved = rows[ids].astype(np.float16).astype(np.float32)  # the exact kind keeps float16
    assert np.array_equal(exact.reconstruct_batch(ids), halved)
    assert np.abs(approximate.reconstruct_batch(ids) - rows[ids]).max() < 0.02  # 8-bit codes


def test_exact_rows_read_back_build_the_same_index(rows):
    """What lets an unchanged document's vectors pass to the next generation bit for bit."""
    first = vectors.VectorIndex.build(rows[:500], rows.shape[1])
    again = vectors.VectorIndex.build(first.all(), rows.shape[1])
    assert np.array_equal(again.all(), first.all())


@pytest.mark.parametrize("kind", ["exact", "approximate"])
def test_a_filter_keeps_only_the_given_ids(request, rows, queries, kind):
    index = request.getfixturevalue(kind)
    allowed = np.arange(1, len(rows), 7, dtype=np.int64)
    scores, found = vectors.search(index, queries, 10, ids=allowed)
    assert (found >= 0).all() and np.isin(found, allowed).all()
    exact = index.reconstruct_batch(allowed) @ queries.T  # the rows as stored
    assert (found[:, 0] == allowed[np.argmax(exact, axis=0)]).all()


@pytest.mark.parametrize("kind", ["exact", "approximate"])
def test_a_memory_mapped_index_gives_identical_results(request, rows, queries, tmp_path, kind):
    index = request.getfixturevalue(kind)
    vectors.write(index, tmp_path / "v.faiss")
    mapped = vectors.read(tmp_path / "v.faiss")
    loaded = vectors.read(tmp_path / "v.faiss", mmap=False)
    ids = np.arange(0, len(rows), 3, dtype=np.int64)
    for other in (mapped, loaded):
        assert type(other) is type(index)
        for a, b in zip(vectors.search(index, queries, 10), vectors.search(other, queries, 10)):
            assert np.array_equal(a, b)
        for a, b in zip(
            vectors.search(index, queries, 10, ids), vectors.search(other, queries, 10, ids)
        ):
            assert np.array_equal(a, b)
        assert np.array_equal(index.reconstruct_batch(ids), other.reconstruct_batch(ids))


def test_a_memory_mapped_ivf_gives_its_rows_as_faiss_decodes_them(approximate, rows, tmp_path):
    vectors.write(approximate, tmp_path / "v.faiss")
    mapped = vectors.VectorIndex.load(tmp_path / "v.faiss")
    in_memory = vectors.VectorIndex.load(tmp_path / "v.faiss", mmap=False)
    assert vectors.IvfCodes.of(mapped.faiss) is not None  # its codes gathered in one batch
    ids = np.random.default_rng(2).integers(len(rows), size=700)  # any order, repeats
    expected = approximate.reconstruct_batch(ids)
    assert np.array_equal(mapped.rows(ids), expected)
    assert np.array_equal(in_memory.rows(ids), expected)
    assert mapped.rows(np.array([], dtype=np.int64)).shape == (0, rows.shape[1])


def test_an_unknown_kind_lists_the_valid_ones():
    with pytest.raises(ValueError, match="flat, ivf-sq8"):
        Kind.from_str("hnsw")


def test_searching_leaves_the_thread_setting_as_it_was(approximate, rows):
    before = faiss.omp_get_max_threads()
    vectors.search(approximate, rows[:1], 5)
    vectors.search(approximate, rows[:3], 5)
    assert faiss.omp_get_max_threads() == before


def test_an_engine_over_approximate_indexes_answers_as_over_exact_ones(engine, tmp_path):
    from tests.conftest import CORPUS

    from qa import Engine
    from qa.index.generation import read_index, write_index
    from qa.index.generations import build_lock
    from qa.index.vectors import VectorIndex

    index = read_index(engine.index_dir, mmap=False)
    for name in ("vectors", "sentence_vectors"):
        exact = getattr(index, name)
        setattr(index, name, VectorIndex.build(exact.all(), exact.dimension, exact_up_to=10))
    with build_lock(tmp_path / "index"):
        write_index(tmp_path / "index", index, index.manifest)
    approximate = Engine(CORPUS, tmp_path / "index", build_if_missing=False)
    assert approximate.index.sentence_vectors.kind is Kind.IVF_SQ8
    for question in [
        "Who is the Secretary-General of the CSTO?",
        "Which city hosted the 2024 session?",
        "Who chaired the 2020 CSTO Council videoconference?",
    ]:
        expected, found = engine.answer(question, k=3), approximate.answer(question, k=3)
        assert found.text == expected.text
        # The same passages; 8-bit codes may swap two that score within a hair of each other.
        assert found.passages[0].chunk_id == expected.passages[0].chunk_id
        assert {p.chunk_id for p in found.passages} == {p.chunk_id for p in expected.passages}
