"""The engine: builds the index from a corpus and answers questions from it."""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.chunking import Chunker, split_sentences
from qa.corpus import Document, Skipped, load_corpus
from qa.embed import Embedder, load_embedder, same_model
from qa.filters import PassageFilter
from qa.lexical import Lexical
from qa.results import Answer, Passage, Source
from qa.retrieval import Hit, Mode, search
from qa.settings import ChunkUnit, Settings
from qa.store import (
    IndexUnusable,
    StoredIndex,
    StoredPassage,
    build_lock,
    current_generation,
    read_index,
    read_manifest,
    write_index,
)
from qa.vectors import build as build_vectors


@dataclass(frozen=True)
class BuildReport:
    """What one build did."""

    documents: int
    passages: int
    seconds: float
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class IndexInfo:
    """What the loaded index holds, for a status line or a sources panel."""

    documents: int
    passages: int
    model: str
    built_at: str | None
    sources: tuple[str, ...]


class Engine:
    """A corpus and its index, loaded once to answer many questions.

    Args:
        corpus: the folder of articles.
        index: the folder the index lives in.
        model: the embedding model to use; None takes the index's (or the default when
            there is no index yet). An index built with another model is an error.
        settings: chunking and model settings for builds; None keeps the index's.
        build_if_missing: build the index when there is none (else raise).
        progress: show a progress bar while embedding.
        mode: which retrievers take part: "hybrid" (BM25 and embeddings, the default),
            "dense" or "lexical".

    Raises:
        IndexUnusable: the index is missing (and `build_if_missing` is off), damaged, or
            was built with another model.
    """

    def __init__(
        self,
        corpus: str | Path = "corpus",
        index: str | Path = "index",
        *,
        model: str | None = None,
        settings: Settings | None = None,
        build_if_missing: bool = True,
        progress: bool = False,
        mode: str = Mode.HYBRID.value,
    ) -> None:
        self.corpus_dir = Path(corpus)
        self.index_dir = Path(index)
        if settings is None and model is not None:
            settings = Settings(model=model)
        self._settings = settings
        self._progress = progress
        self.mode = Mode.from_str(mode)
        if build_if_missing and current_generation(self.index_dir) is None:
            build_index(self.corpus_dir, self.index_dir, settings, progress)
        self._load()

    @property
    def settings(self) -> Settings:
        """The settings of the loaded index."""
        return Settings(**self._index.manifest["settings"])

    def info(self) -> IndexInfo:
        """Counts, model, build time (ISO, UTC) and files of the loaded index."""
        index = self._index
        return IndexInfo(
            documents=len(index.documents),
            passages=len(index.passages),
            model=str(index.manifest.get("model", "?")),
            built_at=index.manifest.get("built_at"),
            sources=tuple(d.source for d in index.documents),
        )

    def document(self, source: str) -> Document:
        """The indexed document read from `source` (a path relative to the corpus folder).

        Raises:
            KeyError: no indexed document comes from `source`.
        """
        for document in self._index.documents:
            if document.source == source:
                return document
        raise KeyError(source)

    def build(self) -> BuildReport:
        """Rebuild the index from the corpus and switch to it."""
        report = build_index(self.corpus_dir, self.index_dir, self._settings, self._progress)
        self._load()
        return report

    def answer(
        self,
        question: str,
        k: int = 5,
        *,
        date_from: str | None = None,
        date_to: str | None = None,
        sources: Collection[str] | None = None,
    ) -> Answer:
        """The best `k` passages for `question`, best first, and the answer sentence.

        Args:
            question: what to answer.
            k: how many passages.
            date_from, date_to: keep only articles dated in this range (inclusive; ISO dates,
                "2024" or "2024-11" count as the whole year or month). Undated articles are
                left out when a range is given.
            sources: keep only these files (paths relative to the corpus folder).

        Raises:
            ValueError: the question is empty or `k` is below 1.
        """
        if not isinstance(question, str) or not question.strip():
            raise ValueError("the question is empty: ask something")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a whole number of at least 1, got {k!r}")
        index = self._index
        count = min(k, index.vectors.ntotal)
        if count == 0:
            return Answer(question, "", [])
        allowed = self._filter.mask(date_from, date_to, sources)
        query = self._embedder.encode([question])
        hits = search(index, question, query, k, self.mode, allowed)
        passages = [self._passage(hit) for hit in hits]
        if not passages:
            return Answer(question, "", [])
        top = passages[0]
        return Answer(
            question, top.sentence, passages, top.source, top.sentence_start, top.sentence_end
        )

    def _passage(self, hit: Hit) -> Passage:
        index = self._index
        stored = index.passages[hit.passage]
        document = index.documents[stored.doc]
        _, sentence_start, sentence_end = index.sentences[hit.sentence].tolist()
        return Passage(
            text=document.text[stored.start : stored.end],
            score=round(hit.score, 4),
            source=document.source,
            title=document.title,
            publisher=document.publisher,
            date=document.date,
            start=stored.start,
            end=stored.end,
            chunk_id=stored.chunk_id,
            sentence_start=sentence_start,
            sentence_end=sentence_end,
            also_in=[self._source(number) for number in hit.duplicates],
        )

    def _source(self, number: int) -> Source:
        stored = self._index.passages[number]
        document = self._index.documents[stored.doc]
        return Source(
            source=document.source,
            title=document.title,
            publisher=document.publisher,
            date=document.date,
            start=stored.start,
            end=stored.end,
            chunk_id=stored.chunk_id,
        )

    def _load(self) -> None:
        index = read_index(self.index_dir)
        built_with = index.manifest.get("model", "?")
        wanted = self._settings.model if self._settings else built_with
        if not same_model(wanted, built_with):
            raise IndexUnusable(
                f"the index in {self.index_dir}/ was built with the model {built_with!r}, but "
                f"{wanted!r} is configured: run `qa index --full --model {wanted}` to rebuild it"
            )
        embedder = load_embedder(built_with)
        if embedder.dimension != index.vectors.d:
            raise IndexUnusable(
                f"the model {built_with!r} makes {embedder.dimension}-dimensional vectors but the "
                f"index in {self.index_dir}/ holds {index.vectors.d}: run `qa index --full`"
            )
        self._index: StoredIndex = index
        self._embedder: Embedder = embedder
        owners = np.fromiter((p.doc for p in index.passages), np.int64, len(index.passages))
        self._filter = PassageFilter(index.documents, owners)


def build_index(
    corpus: str | Path,
    index: str | Path,
    settings: Settings | None = None,
    progress: bool = False,
) -> BuildReport:
    """Read the corpus, cut and embed every passage, and make the result the live index.

    Args:
        corpus: the folder of articles.
        index: the index folder.
        settings: None keeps the settings of the index there (defaults when there is none).
        progress: show a progress bar while embedding.
    """
    corpus_dir, index_dir = Path(corpus), Path(index)
    with build_lock(index_dir):
        started = time.perf_counter()
        settings = settings or _existing_settings(index_dir) or Settings()
        documents, skipped = load_corpus(corpus_dir)
        embedder = load_embedder(settings.model)
        chunk = _chunker(settings, embedder)
        passages, sentences = [], []
        for number, document in enumerate(documents):
            for n, (start, end) in enumerate(chunk(document.text, document.body_start)):
                sentences += [
                    (len(passages), a, b) for a, b in split_sentences(document.text, start, end)
                ]
                passages.append(StoredPassage(f"{document.source}#{n}", number, start, end))
        index = _assemble(
            documents,
            passages,
            np.array(sentences, dtype=np.int64).reshape(-1, 3),
            embedder,
            progress,
        )
        index.manifest = {
            "model": settings.model,
            "dimension": embedder.dimension,
            "settings": settings.to_dict(),
            "documents": {
                d.source: {"sha256": d.sha256, "passages": sum(p.doc == i for p in passages)}
                for i, d in enumerate(documents)
            },
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 3),
        }
        write_index(index_dir, index)
    return BuildReport(len(documents), len(passages), time.perf_counter() - started, skipped)


@lru_cache(maxsize=1)
def default_engine() -> Engine:
    """The engine over `$QA_CORPUS` and `$QA_INDEX` (default `corpus/`, `index/`)."""
    return Engine(os.environ.get("QA_CORPUS", "corpus"), os.environ.get("QA_INDEX", "index"))


def answer(question: str, k: int = 5) -> Answer:
    """Answer `question` from the default engine, building its index on first use.

    Raises:
        ValueError: the question is empty or `k` is below 1.
    """
    return default_engine().answer(question, k)


def _existing_settings(index_dir: Path) -> Settings | None:
    manifest = read_manifest(index_dir)
    try:
        return Settings(**manifest["settings"]) if manifest else None
    except (KeyError, TypeError, ValueError):
        return None


def _chunker(settings: Settings, embedder: Embedder) -> Chunker:
    by_tokens = ChunkUnit.from_str(settings.chunk_unit) is ChunkUnit.TOKENS
    return Chunker(
        size=settings.chunk_size,
        overlap=settings.chunk_overlap,
        length=embedder.count_tokens if by_tokens else len,
        count_tokens=embedder.count_tokens,
        max_tokens=embedder.max_tokens,
    )


def _assemble(
    documents: list[Document],
    passages: list[StoredPassage],
    sentences: np.ndarray,
    embedder: Embedder,
    progress: bool,
) -> StoredIndex:
    """Embed passages and sentences in one pass and index both, densely and by BM25."""

    def text(doc: int, start: int, end: int) -> str:
        return documents[doc].text[start:end]

    passage_texts = [text(p.doc, p.start, p.end) for p in passages]
    sentence_texts = [text(passages[p].doc, a, b) for p, a, b in sentences.tolist()]
    vectors = embedder.encode(passage_texts + sentence_texts, progress=progress)
    dense = [build_vectors(vectors[: len(passages)]), build_vectors(vectors[len(passages) :])]
    titled = [f"{documents[p.doc].title}\n{t}" for p, t in zip(passages, passage_texts)]
    return StoredIndex(
        documents=documents,
        passages=passages,
        vectors=dense[0],
        sentences=sentences,
        sentence_vectors=dense[1],
        lexical=Lexical.build(titled),
        lexical_sentences=Lexical.build(sentence_texts),
    )
