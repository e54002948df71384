"""The engine: answers questions from a loaded index, and follows newer builds of it."""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from qa.embed import Embedder, load_embedder
from qa.index.build import BuildReport, build_index  # also importable from here, as before
from qa.index.generation import StoredIndex, read_index
from qa.index.generations import LiveGeneration, current_generation
from qa.index.manifest import IndexUnusable
from qa.ingest.chunking import shown_sentence
from qa.ingest.corpus import DEFAULT_MAX_BYTES, Document
from qa.ingest.posts import in_first_person, is_signature, signature_name
from qa.results import Answer, Passage, Source
from qa.search import confidence
from qa.search.answers import EXACT_KINDS, Kind, counts, holder, holds, names_holder, spans
from qa.search.context import asked_role, asks_present
from qa.search.filters import PassageFilter, SpokenDates
from qa.search.query import Mode, Query, SearchParams
from qa.search.retrieval import Hit, match, search, sentence_text
from qa.settings import Settings
from qa.threads import one_blas_thread

_SURROGATES = re.compile("[\ud800-\udfff]")
_ENDS = re.compile(r"\s*")  # at the end of a text: nothing but white space after


@dataclass(frozen=True)
class IndexInfo:
    """What the loaded index holds, for a status line or a sources panel."""

    documents: int
    passages: int
    model: str
    built_at: str | None
    sources: tuple[str, ...]


class _Recent:
    """The questions lately read, by the arguments of `Query.read` (text, earlier
    questions): a follow-up finds the question before it here instead of embedding it a
    second time. Holds the last `size`; safe to share between threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._queries: OrderedDict[tuple[str, tuple[str, ...]], Query] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str, earlier: Sequence[str]) -> Query | None:
        with self._lock:
            return self._queries.get((text, tuple(earlier)))

    def put(self, text: str, earlier: Sequence[str], query: Query) -> None:
        with self._lock:
            self._queries[(text, tuple(earlier))] = query
            self._queries.move_to_end((text, tuple(earlier)))
            while len(self._queries) > self._size:
                self._queries.popitem(last=False)


RECENT_QUESTIONS = 64  # questions kept for the follow-ups that lean on them


@dataclass(frozen=True)
class _Loaded:
    """One generation, the model that embeds questions for it, the confidence model and
    search settings for its kind of corpus; swapped as one, with the questions lately read
    by that model."""

    index: StoredIndex
    embedder: Embedder
    filter: PassageFilter
    confidence_model: confidence.Model
    params: SearchParams
    recent: _Recent = field(default_factory=lambda: _Recent(RECENT_QUESTIONS))

    @cached_property
    def spoken(self) -> SpokenDates:
        """The sentences naming a date relative to their article's, found on the first
        question that names a date (every dated article is read: about 5 ms a megabyte)."""
        return SpokenDates.of(self.index)


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
        params: how to search, in full (`SearchParams`: mode, candidates per leg, rerank
            depth, legs); takes the place of `mode` when given.
        threshold: the confidence below which an answer is "not found" (`Answer.found` is
            False); None takes the measured default of the confidence model (see
            `qa.search.confidence` and BENCHMARKS.md).

    Before each answer the engine checks (one small file read) whether another build made
    a newer generation live, and switches to it first. An answer takes one snapshot of the
    loaded generation and uses only it, so a switch made meanwhile by another thread never
    mixes two generations in one answer.

    Raises:
        IndexUnusable: the index is missing (and `build_if_missing` is off), damaged, or
            was built with another model.
        IndexNotWritable: the index is missing and cannot be built there (disk full,
            read-only folder).
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
        params: SearchParams | None = None,
        threshold: float | None = None,
    ) -> None:
        self.corpus_dir = Path(corpus)
        self.index_dir = Path(index)
        if settings is None and model is not None:
            settings = Settings(model=model)
        self._settings = settings
        self._progress = progress
        self.params = params or SearchParams(mode=Mode.from_str(mode))
        if threshold is not None and not 0 <= threshold <= 1:
            raise ValueError(f"the threshold is a probability from 0 to 1, got {threshold!r}")
        default = confidence.default_models().threshold
        self.threshold = default if threshold is None else float(threshold)
        self._switching = threading.Lock()
        self._live = LiveGeneration(self.index_dir)  # asked before every question
        if build_if_missing and current_generation(self.index_dir) is None:
            build_index(self.corpus_dir, self.index_dir, settings, progress)
        self._loaded = self._read()

    @property
    def mode(self) -> Mode:
        """Which retrievers take part."""
        return self.params.mode

    @property
    def settings(self) -> Settings:
        """The settings of the loaded index."""
        return self.index.manifest.settings

    @property
    def index(self) -> StoredIndex:
        """The loaded generation (after switching to a newer live one). Read it, never change
        it: other threads answer from it."""
        return self._snapshot().index

    @property
    def confidence_model(self) -> confidence.Model:
        """The confidence model for the loaded corpus's kind (`confidence.Models.for_corpus`
        of its median passage length)."""
        return self._snapshot().confidence_model

    @property
    def embedder(self) -> Embedder:
        """The model that embeds questions for the loaded generation."""
        return self._snapshot().embedder

    def info(self) -> IndexInfo:
        """Counts, model, build time (ISO, UTC) and files of the loaded index."""
        index = self.index
        return IndexInfo(
            documents=len(index.documents),
            passages=len(index.passages),
            model=index.manifest.model,
            built_at=index.manifest.built_at,
            sources=tuple(d.source for d in index.documents),
        )

    def document(self, source: str) -> Document:
        """The indexed document read from `source` (a path relative to the corpus folder).

        Raises:
            KeyError: no indexed document comes from `source`.
        """
        for document in self._loaded.index.documents:
            if document.source == source:
                return document
        raise KeyError(source)

    def build(
        self,
        full: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        on_wait: Callable[[str], None] | None = None,
        ray: str | None = None,
    ) -> BuildReport:
        """Bring the index up to date with the corpus and switch to it.

        Only new and changed files are embedded (everything with `full`), on a Ray cluster
        when `ray` gives its address ("" for a local Ray); see `build_index`.

        Raises:
            IndexNotWritable: the index folder cannot be written (disk full, read-only); the
                loaded generation keeps answering.
        """
        report = build_index(
            self.corpus_dir,
            self.index_dir,
            self._settings,
            self._progress,
            full=full,
            max_bytes=max_bytes,
            on_wait=on_wait,
            ray=ray,
        )
        loaded = self._read()
        with self._switching:
            self._loaded = loaded
        return report

    def answer(
        self,
        question: str,
        k: int = 5,
        *,
        date_from: str | None = None,
        date_to: str | None = None,
        sources: Collection[str] | None = None,
        history: Sequence[str] | None = None,
    ) -> Answer:
        """The best `k` passages for `question`, best first, and the answer sentence.

        A question naming a year or month moves passages of articles dated then up, and
        sentences that name it relative to their article's date ("next year") with their
        passages (a preference, not a filter). A question about the present ("Who is the
        ...?") puts the newest dated article among the nearly equal best first and says
        which date the answer holds as of (`Answer.as_of`). When the question asks for a
        date or a number, the answer sentence holds exactly one such phrase it did not name
        (and, asked "how many" of something, one that counts it), and the first passage
        leads the second clearly, `Answer.exact` gives those words and their offsets. A
        question asking who holds or held a role ("Who was the Secretary-General of the
        CSTO in 2020?") puts first, of the nearly equal best, a passage whose answer
        sentence names someone right after the role, and that name is `Answer.exact`.

        Args:
            question: what to answer.
            k: how many passages.
            date_from, date_to: keep only articles dated in this range (inclusive; ISO dates,
                "2024" or "2024-11" count as the whole year or month). Undated articles are
                left out when a range is given.
            sources: keep only these files (paths relative to the corpus folder).
            history: the earlier questions of the conversation, oldest first: a follow-up
                that points back ("Who chaired it?") or says too little on its own ("And in
                2023?") is searched together with the latest of them.

        A question holding lone surrogates (bytes that were not UTF-8, as a shell passes
        them) is read with U+FFFD in their place; `Answer.question` is the cleaned text.

        Raises:
            ValueError: the question is empty (or has no readable text) or `k` is below 1.
        """
        return self.answer_with_signals(
            question, k, date_from=date_from, date_to=date_to, sources=sources, history=history
        )[0]

    @one_blas_thread()  # small matrix products: a second BLAS thread only waits
    def answer_with_signals(
        self,
        question: str,
        k: int = 5,
        *,
        date_from: str | None = None,
        date_to: str | None = None,
        sources: Collection[str] | None = None,
        history: Sequence[str] | None = None,
    ) -> tuple[Answer, confidence.Signals | None]:
        """`answer`, and the signals its confidence was computed from (None when nothing
        was found); for measuring and fitting the confidence model."""
        if not isinstance(question, str):
            raise ValueError(f"the question is text, got {type(question).__name__}: ask in words")
        if not question.strip():
            raise ValueError("the question is empty: ask something")
        question = _readable(question)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a whole number of at least 1, got {k!r}")
        loaded = self._snapshot()  # everything below reads this one generation
        index = loaded.index
        if len(index.vectors) == 0:
            return Answer(question, ""), None
        allowed = loaded.filter.mask(date_from, date_to, sources)
        # The question's embedding, in every mode: the confidence needs it even when BM25
        # alone ranks.
        if isinstance(history, str):  # one earlier question given bare
            history = [history]
        earlier = [
            _SURROGATES.sub("\ufffd", text) for text in history or () if isinstance(text, str)
        ]
        query = Query.read(question, loaded.embedder, earlier)
        loaded.recent.put(question, earlier, query)
        preferred, named = _dated(loaded, query.dates)
        topic = self._earlier_article(loaded, earlier, allowed)
        # More passages than asked for: the top one's margin needs the second, and a
        # question about the present chooses among the first few, whatever `k` is.
        depth = max(k, PRESENT_CANDIDATES)
        hits = search(index, query, depth, loaded.params, allowed, preferred, topic, named)
        if not hits:
            return Answer(question, ""), None
        as_of = None
        # The question as read: a year named relative to the conversation's written out.
        asked = query.text
        role = asked_role(asked, earlier)
        if asks_present(asked, earlier):
            hits, as_of = _newest_first(index, hits, query)
        elif role is not None:
            hits = _holder_first(index, hits, *role, query, preferred)
        passages = [_passage(index, hit, query) for hit in hits[:k]]
        top = passages[0]
        exact = _exact(query, top) if _clear_lead(hits) else None
        if exact is None and role is not None:
            exact = holder(top.sentence, *role, query.searched)  # the name beside the role
        signals = confidence.signals(
            asked,
            match(index, hits[0], query),
            title=top.title,
            passage=top.text,
            sentence=top.sentence,
            margin=hits[0].score - hits[1].score if len(hits) > 1 else 0.0,
            date=top.date,
        )
        probability = round(loaded.confidence_model.confidence(signals), 4)
        answer = Answer(
            question,
            top.sentence,
            passages,
            top.source,
            top.sentence_start,
            top.sentence_end,
            exact=top.sentence[exact[0] : exact[1]] if exact else None,
            exact_start=top.sentence_start + exact[0] if exact else None,
            exact_end=top.sentence_start + exact[1] if exact else None,
            as_of=as_of,
            confidence=probability,
            found=probability >= self.threshold,
        )
        return answer, signals

    def _earlier_article(
        self, loaded: _Loaded, earlier: list[str], allowed: np.ndarray | None
    ) -> np.ndarray | None:
        """The passages of the article whose passage answers the latest earlier question
        best (that question read in the context of the ones before it); None without one.

        A conversation mostly stays on one article, so `SearchParams.topic` moves that
        article's passages up a little for every question asked after another: a
        preference, not a filter, so a question on another subject still finds its own.
        """
        texts = [text for text in earlier if text.strip()]
        if not texts or not self.params.topic:
            return None
        # Asked just before, most often: read then, so it is not embedded again.
        previous = loaded.recent.get(texts[-1], texts[:-1]) or Query.read(
            texts[-1], loaded.embedder, texts[:-1]
        )
        preferred, named = _dated(loaded, previous.dates)
        hits = search(loaded.index, previous, 1, loaded.params, allowed, preferred, None, named)
        if not hits:
            return None
        document = loaded.index.documents[loaded.index.passages[hits[0].passage].doc]
        return loaded.filter.mask(sources=[document.source])

    def _snapshot(self) -> _Loaded:
        """The loaded generation, after switching to a newer live one if another build made it.

        When the new generation cannot be loaded (a later build may already have removed
        it), the loaded one keeps answering and the switch is tried again next time.
        """
        loaded = self._loaded
        live = self._live()
        if live is None or live == loaded.index.path:
            return loaded
        with self._switching:  # one thread loads it; the others then find it loaded
            if self._loaded.index.path == live:
                return self._loaded
            try:
                self._loaded = self._read()
            except IndexUnusable:
                pass
            return self._loaded

    def _read(self) -> _Loaded:
        """Load the live generation and its model, checked against the configured model."""
        index = read_index(self.index_dir)
        manifest = index.manifest
        manifest.check(self.index_dir, model=self._settings.model if self._settings else None)
        embedder = load_embedder(manifest.model)
        manifest.check(self.index_dir, dimension=embedder.dimension)
        models = confidence.default_models()
        # A near tie of passages goes to the better sentence in a corpus of longer
        # passages, where one sentence of several answers; a short post's passage is its
        # sentence and scores it better whole (BENCHMARKS.md, "A near tie of passages").
        tie = self.params.tie * models.longer_share(index.passage_chars)
        return _Loaded(
            index,
            embedder,
            PassageFilter(index.documents, index.passage_owners),
            models.for_corpus(index.passage_chars),
            replace(self.params, tie=tie),
        )


PRESENT_MARGIN = 3.0  # how far below the best a newer passage may score and still go first
PRESENT_CANDIDATES = 3  # the best hits a question about the present chooses among
# Passages of one date scoring within this of the best of them say the same as far as the
# ranking can tell, and the plainest (shortest answer sentence) goes first.
PRESENT_EQUALS = 1.0
# How far the first passage must lead the second for its answer words to be given: measured
# on SQuAD (BENCHMARKS.md), it lifts their precision from 0.84 to 0.90 keeping 87% of them.
EXACT_MARGIN = 1.0


def _dated(loaded: _Loaded, dates: Sequence[str]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """What a question naming `dates` (partial ISO) prefers: the passages of articles dated
    in any of them (a mask, or None) and the sentences naming one relative to their
    article's date (numbers, or None; not looked for when no date is named)."""
    preferred = None
    for date in dates:
        try:
            mask = loaded.filter.mask(date, date)
        except ValueError:  # a question's "2024-13" names no date: no preference
            continue
        preferred = mask if preferred is None else preferred | mask
    return preferred, loaded.spoken.naming(dates) if dates else None


def _newest_first(
    index: StoredIndex, hits: list[Hit], query: Query
) -> tuple[list[Hit], str | None]:
    """For a question about the present: among the best hits that score within
    `PRESENT_MARGIN` of the first (and hold the kind of words asked for), one of the newest
    dated article goes first: its best-scored, or of those scoring within `PRESENT_EQUALS`
    of that, the one with the shortest answer sentence. Returns the hits and that article's
    date."""

    def date_of(hit: Hit) -> str:
        return index.documents[index.passages[hit.passage].doc].date or ""

    def answers(hit: Hit) -> bool:
        text = sentence_text(index, hit.sentence)
        return query.kind is None or holds(text, query.kind, query.searched)

    close = [
        hit
        for hit in hits[:PRESENT_CANDIDATES]
        if hit.score >= hits[0].score - PRESENT_MARGIN and answers(hit)
    ]
    if not close:
        return hits, date_of(hits[0]) or None
    latest = max(date_of(hit) for hit in close)  # ISO dates sort as text
    if not latest:
        return hits, None
    dated = [hit for hit in close if date_of(hit) == latest]  # best first
    equals = [hit for hit in dated if hit.score > dated[0].score - PRESENT_EQUALS]
    newest = min(equals, key=lambda hit: len(sentence_text(index, hit.sentence)))
    return [newest] + [hit for hit in hits if hit is not newest], latest


def _holder_first(
    index: StoredIndex,
    hits: list[Hit],
    role: str,
    of: str | None,
    query: Query,
    dated: np.ndarray | None = None,
) -> list[Hit]:
    """For a question asking who holds or held a role ("Who was the Secretary-General of the
    CSTO in 2020?"): among the best hits scoring within `PRESENT_MARGIN` of the first, those
    whose answer sentence names someone right after the role, of what the question says
    (`names_holder`: "... CSTO Secretary General Stanislav Zas"), and of those the first of
    an article dated as the question says (`dated`, a mask over passages), else the first,
    goes first: the holder then, not the holder of another year."""
    named = [
        hit
        for hit in hits[:PRESENT_CANDIDATES]
        if hit.score >= hits[0].score - PRESENT_MARGIN
        and names_holder(sentence_text(index, hit.sentence), role, of, query.searched)
    ]
    if not named:
        return hits
    then = [hit for hit in named if dated is not None and dated[hit.passage]]
    first = (then or named)[0]
    return [first] + [hit for hit in hits if hit is not first]


def _clear_lead(hits: list[Hit]) -> bool:
    """Whether the first passage leads the second by at least `EXACT_MARGIN` (or stands
    alone): only then are its answer words given."""
    return len(hits) < 2 or hits[0].score - hits[1].score >= EXACT_MARGIN


def _exact(query: Query, top: Passage) -> tuple[int, int] | None:
    """Where, in the answer sentence, the words that answer the question stand: only for a
    date or a number, and only when the sentence holds exactly one such phrase that the
    question does not name (and, asked "how many" of something, that counts it: `counts`)."""
    if query.kind not in EXACT_KINDS:
        return None
    found = spans(top.sentence, query.kind, query.searched)
    if len(found) != 1 or not counts(top.sentence, found[0], query.searched):
        return None
    return found[0]


def _readable(question: str) -> str:
    """The question with each lone surrogate (not text: the tokenizer refuses it) replaced
    by U+FFFD."""
    cleaned = _SURROGATES.sub("\ufffd", question)
    if not cleaned.replace("\ufffd", "").strip():
        raise ValueError(
            "the question has no readable text (it is not valid UTF-8): ask it in UTF-8"
        )
    return cleaned


def _passage(index: StoredIndex, hit: Hit, query: Query) -> Passage:
    """A ranked passage with its citation, best sentence and collapsed duplicates."""
    stored = index.passages[hit.passage]
    sentence_start, sentence_end = _shown_sentence(index, hit.sentence, query)
    return Passage(
        text=index.documents[stored.doc].text[stored.start : stored.end],
        score=round(hit.score, 4),
        sentence_start=sentence_start,
        sentence_end=sentence_end,
        also_in=[_source(index, number) for number in hit.duplicates],
        **vars(_source(index, hit.passage)),  # its fields, as they are (no deep copy)
    )


def _shown_sentence(index: StoredIndex, sentence: int, query: Query) -> tuple[int, int]:
    """The offsets of sentence number `sentence` as the answer shows it: with the signature
    of a post that sentence splitting cut off it (`qa.ingest.chunking.shown_sentence`), and
    through the post's signature when the question asks who and only the author answers it
    (`_through_author`)."""
    passage, start, end = index.sentences[sentence].tolist()
    following = None
    if sentence + 1 < len(index.sentences) and index.sentences[sentence + 1, 0] == passage:
        _, next_start, next_end = index.sentences[sentence + 1].tolist()
        following = next_start, next_end
    text = index.documents[index.passages[passage].doc].text
    shown = shown_sentence(text, (start, end), following)
    if query.kind is Kind.PERSON:
        last = int(index.first_sentence[passage + 1]) - 1
        _, signature_start, signature_end = index.sentences[last].tolist()
        return _through_author(
            text, shown, (signature_start, signature_end), last == sentence + 1, query.searched
        )
    return shown


def _through_author(
    text: str,
    shown: tuple[int, int],
    last: tuple[int, int],
    adjacent: bool,
    question: str,
) -> tuple[int, int]:
    """`shown`, or the text from it through the post's signature `last` when the question
    asks who, `shown` speaks in the first person and names no one the question does not,
    and the signature's author is someone the question does not name: "Who is looking for
    the Obamacare Lite bill?" is answered by "We are continuing our search for the
    Obamacare Lite bill! ... Senator Rand Paul (@RandPaul) March 3, 2017", one quote, whose
    "we" its author is. The words are the author's when the signature ends the document (a
    post), or when `shown` stands right before it (`adjacent`: a post quoted in a report);
    a report's own sentences before a quoted post are not."""
    signature = text[last[0] : last[1]]
    sentence = text[shown[0] : shown[1]]
    if (
        last[1] <= shown[1]
        or not is_signature(signature)
        or not (adjacent or _ENDS.fullmatch(text, last[1]))
        or not in_first_person(sentence)
        or holds(sentence, Kind.PERSON, question)
        or not holds(signature_name(signature), Kind.PERSON, question)
    ):
        return shown
    return shown[0], last[1]


def _source(index: StoredIndex, number: int) -> Source:
    """Where passage `number` comes from: file, title, publisher, date, offsets, page."""
    stored = index.passages[number]
    document = index.documents[stored.doc]
    return Source(
        source=document.source,
        title=document.title,
        publisher=document.publisher,
        date=document.date,
        start=stored.start,
        end=stored.end,
        chunk_id=stored.chunk_id,
        page=document.page_at(stored.start),
    )


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
