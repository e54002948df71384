from __future__ import annotations

import numpy as np

from qa.index.generation import read_index
from qa.index.rows import join_documents, split_by_document

QUESTION = "Who is the Secretary-General of the CSTO?"


def _vectors(index) -> np.ndarray:
    return index.all()


def test_split_then_join_gives_the_same_index(seed_index):
    stored = read_index(seed_index)
    parts = split_by_document(stored)
    assert [p.document for p in parts] == stored.documents
    assert sum(len(p.passages) for p in parts) == len(stored.passages)
    assert sum(len(p.sentences) for p in parts) == len(stored.sentences)
    joined = join_documents(parts, stored.vectors.dimension)
    assert joined.documents == stored.documents and joined.passages == stored.passages
    assert np.array_equal(joined.sentences, stored.sentences)
    assert np.array_equal(_vectors(joined.vectors), _vectors(stored.vectors))
    assert np.array_equal(_vectors(joined.sentence_vectors), _vectors(stored.sentence_vectors))
    assert np.array_equal(
        _vectors(joined.titled_sentence_vectors), _vectors(stored.titled_sentence_vectors)
    )
    for name in ("codes", "first", "offsets"):
        assert np.array_equal(getattr(joined.pieces, name), getattr(stored.pieces, name))
    assert np.array_equal(joined.lexical.scores(QUESTION), stored.lexical.scores(QUESTION))
    assert np.array_equal(
        joined.lexical_sentences.scores(QUESTION), stored.lexical_sentences.scores(QUESTION)
    )


def test_each_document_gets_its_own_rows_numbered_from_zero(seed_index):
    stored = read_index(seed_index)
    for number, part in enumerate(split_by_document(stored)):
        mine = [i for i, p in enumerate(stored.passages) if p.doc == number]
        spans = [[stored.passages[i].start, stored.passages[i].end] for i in mine]
        assert part.passages.tolist() == spans
        assert np.array_equal(part.passage_vectors, _vectors(stored.vectors)[mine])
        rows = np.flatnonzero(np.isin(stored.sentences[:, 0], mine))
        assert part.sentences[:, 0].min() == 0 and part.sentences[:, 0].max() == len(mine) - 1
        assert np.array_equal(part.sentences[:, 1:], stored.sentences[rows, 1:])
        assert np.array_equal(part.sentence_vectors, _vectors(stored.sentence_vectors)[rows])


def test_joining_a_subset_in_another_order_renumbers_passages_and_sentences(seed_index):
    stored = read_index(seed_index)
    last, first = split_by_document(stored)[-1], split_by_document(stored)[0]
    joined = join_documents([last, first], stored.vectors.dimension)
    assert [d.source for d in joined.documents] == [last.document.source, first.document.source]
    assert [p.doc for p in joined.passages] == [0] * len(last.passages) + [1] * len(first.passages)
    assert joined.passages[len(last.passages)].chunk_id == f"{first.document.source}#0"
    for p, start, end in joined.sentences.tolist():
        passage = joined.passages[p]
        assert passage.start <= start < end <= passage.end
    assert len(joined.vectors) == len(joined.passages)
    assert len(joined.sentence_vectors) == len(joined.sentences) == joined.lexical_sentences.size
    assert len(joined.pieces) == len(joined.passages)
    assert np.array_equal(joined.pieces.codes[: len(last.pieces.codes)], last.pieces.codes)
