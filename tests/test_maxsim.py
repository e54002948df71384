from __future__ import annotations

import numpy as np
import pytest

from qa.index.wordpieces import WordPieces
from qa.search.maxsim import maxsim


def _unit(*rows: list[float]) -> np.ndarray:
    array = np.array(rows, dtype=np.float32)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


@pytest.fixture
def store() -> WordPieces:
    # Passage 0: a title piece and two sentences, [0, 10) and [10, 20); passage 1: one piece.
    pieces = [_unit([1, 0, 0], [0, 1, 0], [0, 0, 1]), _unit([1, 1, 0])]
    offsets = [np.array([-1, 2, 12]), np.array([30])]
    return WordPieces.from_pieces(pieces, offsets, dimension=3)


def test_maxsim_by_hand(store):
    question = _unit([1, 0, 0], [0, 1, 0])
    sentences = np.array([[0, 0, 10], [0, 10, 20], [1, 25, 40]])
    passages, per_sentence = maxsim(question, store, np.array([0, 1]), sentences)
    # Passage 0: each question piece finds itself (1 and 1); passage 1: cos 45° twice.
    assert passages == pytest.approx([1.0, np.sqrt(0.5)], abs=1e-3)
    # Sentence [0, 10) holds only the piece (0, 1, 0): maxima 0 and 1. The title piece
    # belongs to no sentence. Sentence [10, 20) holds (0, 0, 1): maxima 0 and 0.
    assert per_sentence == pytest.approx([0.5, 0.0, np.sqrt(0.5)], abs=1e-3)


def test_a_question_without_content_pieces_scores_zero(store):
    passages, sentences = maxsim(np.zeros((0, 3)), store, np.array([0]), np.array([[0, 0, 10]]))
    assert passages.tolist() == [0.0] and sentences.tolist() == [0.0]


def test_store_round_trip_memory_maps_the_vectors(store, tmp_path):
    store.save(tmp_path)
    loaded = WordPieces.load(tmp_path)
    assert isinstance(loaded.vectors, np.memmap)
    assert np.array_equal(loaded.vectors, store.vectors)
    assert loaded.first.tolist() == [0, 3, 4] and loaded.offsets.tolist() == [-1, 2, 12, 30]


def test_word_pieces_come_from_the_same_pass_as_the_vector(embedder):
    text = "Astana hosted the summit. Leaders signed documents."
    vectors, pieces, offsets = embedder.encode_with_tokens([text])
    assert float(vectors[0] @ embedder.encode([text])[0]) == pytest.approx(1.0, abs=1e-4)
    assert len(pieces[0]) == len(offsets[0]) == embedder.count_tokens(text)
    assert np.linalg.norm(pieces[0].astype(np.float32), axis=1) == pytest.approx(1.0, abs=1e-2)
    assert text[offsets[0][0] :].startswith("Astana")
    assert text[offsets[0][-1]] == "."


def test_question_pieces_leave_out_stopwords_and_punctuation(embedder):
    vector, pieces = embedder.encode_question("What is the capital of France?")
    assert vector.shape == (1, embedder.dimension)
    assert pieces.shape == (2, embedder.dimension)  # "capital", "france"
