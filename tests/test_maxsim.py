from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from qa.index.wordpieces import WordPieces
from qa.search.maxsim import maxsim
from qa.search.query import Query
from qa.search.retrieval import search


def _unit(*rows: list[float]) -> np.ndarray:
    array = np.array(rows, dtype=np.float32)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


@pytest.fixture
def store() -> WordPieces:
    # Passage 0: a title piece and two sentences, [0, 10) and [10, 20); passage 1: one piece.
    # Sign vectors are stored as they are: each component ±1/2.
    pieces = [_unit([1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1]), _unit([1, 1, 1, -1])]
    offsets = [np.array([-1, 2, 12]), np.array([30])]
    return WordPieces.from_pieces(pieces, offsets, dimension=4)


def test_maxsim_by_hand(store):
    question = _unit([1, 1, 1, 1], [1, -1, 1, -1])
    sentences = np.array([[0, 0, 10], [0, 10, 20], [1, 25, 40]])
    passages, per_sentence = maxsim(question, store, np.array([0, 1]), sentences)
    # Passage 0: each question piece finds itself (1 and 1); passage 1: 2/4 twice.
    assert passages == pytest.approx([1.0, 0.5], abs=1e-6)
    # Sentence [0, 10) holds only the second piece: maxima 0 and 1. The title piece
    # belongs to no sentence. Sentence [10, 20) holds the third: maxima 0 and 0.
    assert per_sentence == pytest.approx([0.5, 0.0, 0.5], abs=1e-6)


def test_a_piece_is_kept_as_its_signs(store):
    pieces = WordPieces.from_pieces([_unit([0.9, 0.1, -0.3, 0.0])], [np.array([0])], 4)
    assert pieces.codes.shape == (1, 1) and pieces.codes.dtype == np.uint8  # 4 bits
    vectors, offsets, counts = pieces.gather(np.array([0]))
    assert vectors.tolist() == [[0.5, 0.5, -0.5, 0.5]]  # a zero counts as positive
    assert offsets.tolist() == [0] and counts.tolist() == [1]


def test_a_question_without_content_pieces_scores_zero(store):
    passages, sentences = maxsim(np.zeros((0, 3)), store, np.array([0]), np.array([[0, 0, 10]]))
    assert passages.tolist() == [0.0] and sentences.tolist() == [0.0]


def test_store_round_trip_memory_maps_the_codes(store, tmp_path):
    store.save(tmp_path)
    loaded = WordPieces.load(tmp_path, 4)
    assert isinstance(loaded.codes, np.memmap)
    assert np.array_equal(loaded.codes, store.codes)
    assert loaded.first.tolist() == [0, 3, 4] and loaded.offsets.tolist() == [-1, 2, 12, 30]
    with pytest.raises(ValueError, match=r"pieces.npy has the shape \(4, 1\), not \(n, 2\)"):
        WordPieces.load(tmp_path, 16)


def test_content_word_pieces_come_from_the_same_pass_as_the_vector(embedder):
    text = "Leaders signed documents at the summit."
    found = embedder.encode_passages([text])
    vectors, pieces, offsets = found.vectors, found.pieces, found.offsets
    assert float(vectors[0] @ embedder.encode([text])[0]) == pytest.approx(1.0, abs=1e-4)
    assert len(pieces[0]) == len(offsets[0]) < embedder.count_tokens(text)
    assert np.linalg.norm(pieces[0], axis=1) == pytest.approx(1.0, abs=1e-5)
    # "at", "the" and the full stop are left out, as on the question side.
    assert [text[a:].split()[0] for a in offsets[0]] == [
        "Leaders",
        "signed",
        "documents",
        "summit.",
    ]


def test_sentence_vectors_are_pooled_from_the_passage_pass(embedder):
    heading = "Leaders meet in Astana (2024-11-28). "
    first, second = "Leaders signed documents.", "The next summit is in Moscow."
    text = f"{heading}{first} {second}"
    spans = np.array(
        [[len(heading), len(heading) + len(first)], [len(text) - len(second), len(text)]]
    )
    found = embedder.encode_passages(
        [text, heading + first], [spans, spans[:1]], [len(heading)] * 2
    )
    assert found.sentence_vectors.shape == found.titled_vectors.shape == (3, embedder.dimension)
    assert np.linalg.norm(found.sentence_vectors, axis=1) == pytest.approx(1.0, abs=1e-5)
    # A passage of one sentence: with the heading, its sentence's pieces are all of it, so
    # the titled vector is the passage's own (the model's pooling, [CLS] and [SEP] included).
    assert float(found.titled_vectors[2] @ found.vectors[1]) == pytest.approx(1.0, abs=1e-5)
    # Each sentence is nearer its words read alone than the other sentence's.
    alone = embedder.encode([first, second])
    similarity = found.sentence_vectors[:2] @ alone.T
    assert similarity[0, 0] > similarity[0, 1] and similarity[1, 1] > similarity[1, 0]


def test_question_pieces_leave_out_stopwords_and_punctuation(embedder):
    vector, pieces = embedder.encode_question("What is the capital of France?")
    assert vector.shape == (1, embedder.dimension)
    assert pieces.shape == (2, embedder.dimension)  # "capital", "france"


def test_sign_codes_rank_as_float_pieces_do(engine, embedder):
    """The engine's sign codes against the same passages' float32 pieces, re-embedded.

    The tolerance: every question's top 5 shares at least 3 passages with the float one,
    and the top passage differs for two questions at most (measured on the 23 seed
    questions with 8-bit passage vectors: the same set of 5 for 18, 4 of 5 for the other 5,
    one top passage swapped with the second).
    BENCHMARKS.md, "A lean index", measures the difference on all SQuAD dev questions.
    """
    index = engine.index
    texts = [index.documents[p.doc].headed(p.start, p.end) for p in index.passages]
    found = embedder.encode_passages(texts)
    pieces, offsets = found.pieces, found.offsets
    heading = [len(index.documents[p.doc].heading) for p in index.passages]
    offsets = [
        np.where(o >= h, o - h + p.start, -1) for o, h, p in zip(offsets, heading, index.passages)
    ]
    stored = index.pieces.gather(np.arange(len(index.passages)))[1]
    assert np.array_equal(stored, np.concatenate(offsets))  # the same pieces, coded
    with_floats = dataclasses.replace(index, pieces=_FloatPieces(pieces, offsets))
    other_top = 0
    for question in _seed_questions():
        query = Query.read(question, embedder)
        coded = [hit.passage for hit in search(index, query, 5, engine.params)]
        exact = [hit.passage for hit in search(with_floats, query, 5, engine.params)]
        assert len(set(coded) & set(exact)) >= 3, question
        other_top += coded[0] != exact[0]
    assert other_top <= 2


class _FloatPieces:
    """Word pieces kept as float32, for the reference ranking."""

    def __init__(self, pieces: list[np.ndarray], offsets: list[np.ndarray]) -> None:
        self.pieces, self.offsets = pieces, offsets

    def gather(self, passages: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        chosen = passages.tolist()
        return (
            np.concatenate([self.pieces[p] for p in chosen]),
            np.concatenate([self.offsets[p] for p in chosen]),
            np.array([len(self.pieces[p]) for p in chosen]),
        )


def _seed_questions() -> list[str]:
    """Questions about the seed articles, as the other tests ask them."""
    return [
        "Who is the Secretary-General of the CSTO?",
        "When and where was the Collective Security Treaty signed in 1992?",
        "What did the Declaration say about military cooperation?",
        "Which city hosted the 2024 session?",
        "Who chaired the session?",
        "Where was the meeting held?",
        "Who is the President of Tajikistan?",
        "Who chaired the 2020 videoconference?",
    ]


def test_gathered_pieces_are_the_signs_of_the_stored_ones_at_unit_length():
    rng = np.random.default_rng(0)
    pieces = [rng.standard_normal((n, 20)).astype(np.float32) for n in (3, 0, 5)]
    offsets = [np.arange(len(p), dtype=np.int32) for p in pieces]
    store = WordPieces.from_pieces(pieces, offsets, 20)
    decoded, _, counts = store.gather(np.array([2, 0], dtype=np.int64))
    expected = np.sign(np.concatenate([pieces[2], pieces[0]])) / np.sqrt(20)
    assert counts.tolist() == [5, 3]
    np.testing.assert_allclose(decoded, expected, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(decoded, axis=1), 1.0, rtol=1e-6)
