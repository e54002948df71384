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
from dataclasses import dataclass, replace

import numpy as np

from qa.index.generation import StoredIndex, StoredPassage
from qa.index.lexical import Lexical
from qa.index.vectors import VectorIndex
from qa.index.wordpieces import WordPieces
from qa.ingest.corpus import Document


@dataclass(frozen=True)
class DocumentRows:
    """One document with its passages and sentences, and (once embedded) their vectors.

    Both sides of an incremental build are these: a stored document's rows, cut out of the
    live generation, and a new document's rows, cut into passages and sentences and then
    embedded (`texts` gives what to embed, `embedded` takes the results).

    Attributes:
        document: the document.
        passages: per passage, (start, end) in the document's text; shape (p, 2).
        sentences: per sentence, (passage, start, end) with `passage` counted from 0 within
            this document; in passage order; shape (s, 3).
        passage_vectors: per passage, its unit-length embedding (read with the document's
            heading); shape (p, dimension); None until embedded.
        pieces: per passage, its word pieces (passages numbered from 0 within this document).
        sentence_vectors: per sentence, its unit-length vector (pooled from its passage's
            pass, `Embedder.encode_passages`); shape (s, dimension).
        titled_sentence_vectors: per sentence, its vector pooled with the heading.
    """

    document: Document
    passages: np.ndarray
    sentences: np.ndarray
    passage_vectors: np.ndarray | None = None
    pieces: WordPieces | None = None
    sentence_vectors: np.ndarray | None = None
    titled_sentence_vectors: np.ndarray | None = None

    @property
    def is_embedded(self) -> bool:
        return self.passage_vectors is not None

    def texts(self) -> Texts:
        """What the model reads for these rows: each passage with the heading in front, and
        where its sentences lie in that text."""
        document = self.document
        heading = len(document.heading)
        spans = [
            self.sentences[self.sentences[:, 0] == number, 1:] - start + heading
            for number, (start, _) in enumerate(self.passages.tolist())
        ]
        return Texts(
            passages=[document.headed(a, b) for a, b in self.passages.tolist()],
            headings=[heading] * len(self.passages),
            sentences=spans,
        )

    def embedded(
        self,
        passage_vectors: np.ndarray,
        pieces: list[np.ndarray],
        piece_offsets: list[np.ndarray],
        sentence_vectors: np.ndarray,
        titled_sentence_vectors: np.ndarray,
    ) -> DocumentRows:
        """These rows with their vectors; `piece_offsets` count in the headed passage texts
        (as the model read them) and become offsets in the document, -1 for the heading."""
        heading = len(self.document.heading)
        offsets = [
            np.where(piece_offsets >= heading, piece_offsets - heading + start, -1)
            for (start, _), piece_offsets in zip(self.passages.tolist(), piece_offsets)
        ]
        return replace(
            self,
            passage_vectors=passage_vectors,
            pieces=WordPieces.from_pieces(pieces, offsets, passage_vectors.shape[1]),
            sentence_vectors=sentence_vectors,
            titled_sentence_vectors=titled_sentence_vectors,
        )


@dataclass(frozen=True)
class Texts:
    """The texts the model embeds for some rows: the passages, each with its heading in
    front; per passage, the heading's length and its sentences' (start, end) in that text,
    whose vectors are pooled from the passage's pass."""

    passages: list[str]
    headings: list[int]
    sentences: list[np.ndarray]


def split_by_document(index: StoredIndex) -> list[DocumentRows]:
    """Each document of a stored index with its rows of every per-passage and per-sentence
    array, in the index's order; passage numbers in `sentences` restart at 0 per document.

    Passages are stored grouped by document in document order, and sentences in passage
    order, so each document's rows are one contiguous slice of each array.
    """
    first_passage = np.searchsorted(index.passage_owners, np.arange(len(index.documents) + 1))
    first_sentence = index.first_sentence[first_passage]
    spans = np.array([(p.start, p.end) for p in index.passages], dtype=np.int64).reshape(-1, 2)
    passage_vectors = index.vectors.all()
    sentence_vectors = index.sentence_vectors.all()
    titled_sentence_vectors = index.titled_sentence_vectors.all()
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
                sentences=sentences,
                passage_vectors=passage_vectors[p0:p1],
                pieces=index.pieces.passages(p0, p1),
                sentence_vectors=sentence_vectors[s0:s1],
                titled_sentence_vectors=titled_sentence_vectors[s0:s1],
            )
        )
    return rows


def join_documents(parts: Sequence[DocumentRows], dimension: int) -> StoredIndex:
    """One index of these documents, in this order: their rows concatenated, passages and
    sentences renumbered, the FAISS indexes filled and the BM25 indexes built from the texts.

    The caller writes it with its manifest (`qa.index.generation.write_index`).
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
        vectors=VectorIndex.join([part.passage_vectors for part in parts], dimension),
        sentences=sentence_rows,
        sentence_vectors=VectorIndex.join([part.sentence_vectors for part in parts], dimension),
        titled_sentence_vectors=VectorIndex.join(
            [part.titled_sentence_vectors for part in parts], dimension
        ),
        pieces=WordPieces.join([part.pieces for part in parts], dimension),
        lexical=Lexical.build(passage_texts),
        lexical_sentences=Lexical.build(sentence_texts),
    )
