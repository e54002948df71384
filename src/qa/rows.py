"""One document's rows of an index: cut out of a stored index, or joined into a new one.

An index is a list of documents plus arrays with one row per passage and arrays with one
row per sentence. `DocumentRows` holds one document's share of every such array, so a build
can reuse an unchanged document's rows as they are and embed only new text.
`split_by_document` is the one place that slices a stored index by document, and
`join_documents` the one place that concatenates documents' rows into a `StoredIndex`; a new
per-passage or per-sentence array is added to `DocumentRows` and to these two functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qa import vectors
from qa.corpus import Document
from qa.lexical import Lexical
from qa.maxsim import TokenStore
from qa.store import StoredIndex, StoredPassage

if TYPE_CHECKING:
    import faiss


@dataclass(frozen=True)
class DocumentRows:
    """One document with its passages and sentences and their vectors.

    Attributes:
        document: the document.
        passages: per passage, (start, end) in the document's text; shape (p, 2).
        passage_vectors: per passage, its unit-length embedding (read with the document's
            heading); shape (p, dimension).
        tokens: per passage, its word pieces (passages numbered from 0 within this document).
        sentences: per sentence, (passage, start, end) with `passage` counted from 0 within
            this document; in passage order; shape (s, 3).
        sentence_vectors: per sentence, its unit-length embedding; shape (s, dimension).
        titled_sentence_vectors: per sentence, its embedding read with the heading.
    """

    document: Document
    passages: np.ndarray
    passage_vectors: np.ndarray
    tokens: TokenStore
    sentences: np.ndarray
    sentence_vectors: np.ndarray
    titled_sentence_vectors: np.ndarray


def split_by_document(index: StoredIndex) -> list[DocumentRows]:
    """Each document of a stored index with its rows of every per-passage and per-sentence
    array, in the index's order; passage numbers in `sentences` restart at 0 per document.

    Passages are stored grouped by document in document order, and sentences in passage
    order, so each document's rows are one contiguous slice of each array.
    """
    owners = np.fromiter((p.doc for p in index.passages), dtype=np.int64, count=len(index.passages))
    first_passage = np.searchsorted(owners, np.arange(len(index.documents) + 1))
    first_sentence = index.first_sentence[first_passage]
    spans = np.array([(p.start, p.end) for p in index.passages], dtype=np.int64).reshape(-1, 2)
    passage_vectors = _all_vectors(index.vectors)
    sentence_vectors = _all_vectors(index.sentence_vectors)
    titled_sentence_vectors = _all_vectors(index.titled_sentence_vectors)
    rows = []
    for number, document in enumerate(index.documents):
        p0, p1 = first_passage[number], first_passage[number + 1]
        s0, s1 = first_sentence[number], first_sentence[number + 1]
        sentences = index.sentences[s0:s1].copy()
        sentences[:, 0] -= p0
        rows.append(
            DocumentRows(
                document=document,
                passages=spans[p0:p1],
                passage_vectors=passage_vectors[p0:p1],
                tokens=index.tokens.passages(p0, p1),
                sentences=sentences,
                sentence_vectors=sentence_vectors[s0:s1],
                titled_sentence_vectors=titled_sentence_vectors[s0:s1],
            )
        )
    return rows


def join_documents(parts: Sequence[DocumentRows], dimension: int) -> StoredIndex:
    """One index of these documents, in this order: their rows concatenated, passages and
    sentences renumbered, the FAISS indexes filled and the BM25 indexes built from the texts.

    The caller sets `manifest`.
    """
    documents = [part.document for part in parts]
    passages: list[StoredPassage] = []
    sentences = []
    for number, part in enumerate(parts):
        source = part.document.source
        sentences.append(part.sentences + np.array([len(passages), 0, 0]))
        passages += [
            StoredPassage(f"{source}#{n}", number, start, end)
            for n, (start, end) in enumerate(part.passages.tolist())
        ]
    sentence_rows = np.concatenate([np.empty((0, 3), dtype=np.int64), *sentences])
    passage_texts = [documents[p.doc].headed(p.start, p.end) for p in passages]
    sentence_texts = [
        documents[passages[p].doc].headed(start, end) for p, start, end in sentence_rows.tolist()
    ]
    return StoredIndex(
        documents=documents,
        passages=passages,
        vectors=_vector_index(dimension, [part.passage_vectors for part in parts]),
        sentences=sentence_rows,
        sentence_vectors=_vector_index(dimension, [part.sentence_vectors for part in parts]),
        titled_sentence_vectors=_vector_index(
            dimension, [part.titled_sentence_vectors for part in parts]
        ),
        tokens=TokenStore.join([part.tokens for part in parts], dimension),
        lexical=Lexical.build(passage_texts),
        lexical_sentences=Lexical.build(sentence_texts),
    )


def _vector_index(dimension: int, arrays: list[np.ndarray]) -> faiss.Index:
    """An inner-product index holding these rows, in order: exact or approximate by size
    (`qa.vectors.build`)."""
    rows = np.concatenate([np.empty((0, dimension), dtype=np.float32), *arrays])
    return vectors.build(np.ascontiguousarray(rows, dtype=np.float32))


def _all_vectors(index: faiss.Index) -> np.ndarray:
    if index.ntotal == 0:
        return np.empty((0, index.d), dtype=np.float32)
    return index.reconstruct_n(0, index.ntotal)
