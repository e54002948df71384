"""Hybrid retrieval: candidates from five legs, fused scores, a rerank, best sentences.

The five legs score a passage by BM25 over its text with the title, BM25 of its best
sentence (with the title), embedding similarity of the passage (with the title), and
embedding similarity of its best sentence, alone and with the title. Each leg nominates its
top candidates; every candidate then gets all five scores, which are z-normalised over the
candidates and summed with equal weights. The best few of those (`SearchParams.rerank`) are
then reranked by adding MaxSim (see `maxsim`) of the passage and of its best sentence, again
z-normalised.

A follow-up read in context is searched twice, in context and as asked (`_readings`): both
readings nominate candidates, score all of them on every leg and in the rerank, and their
fused scores add up, the words as asked weighted by `SearchParams.asked`. Any other
question is one reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from qa.index.generation import StoredIndex
from qa.index.lexical import content_terms
from qa.index.vectors import VectorIndex
from qa.ingest.posts import is_signature
from qa.search.answers import Kind, anchored, holds
from qa.search.duplicates import collapse
from qa.search.fusion import fuse, rerank
from qa.search.maxsim import maxsim, run_starts
from qa.search.query import SAYS_ENOUGH, Leg, Query, SearchParams

PASSAGE_LEGS = (Leg.BM25_PASSAGE, Leg.DENSE_PASSAGE)
SENTENCE_LEGS = (Leg.BM25_SENTENCE, Leg.DENSE_SENTENCE, Leg.DENSE_TITLED_SENTENCE)


@dataclass
class Hit:
    """A ranked passage: its number, fused score, best sentence, and collapsed duplicates;
    `known` is its `Match` when the search already computed all of it (see `match`)."""

    passage: int
    score: float
    sentence: int
    duplicates: list[int] = field(default_factory=list)
    known: Match | None = None


@dataclass(frozen=True)
class Match:
    """How closely a passage and its best sentence match the question, on absolute scales.

    Unlike the fused `Hit.score`, which ranks the candidates of one question against each
    other, these mean the same for every question: cosines of the question's embedding with
    the passage's (read with its title) and the sentence's, and the MaxSim (see `maxsim`) of
    the question's word pieces in each.
    """

    passage_cosine: float
    sentence_cosine: float
    passage_maxsim: float
    sentence_maxsim: float


@dataclass
class Candidates:
    """The candidate passages, their sentences, and every leg's score for both, for each
    reading of the question."""

    passages: np.ndarray
    sentences: np.ndarray  # sentence numbers, grouped by passage
    owner: np.ndarray  # for each of `sentences`, its passage's position in `passages`
    groups: np.ndarray  # where each passage's sentences begin in `sentences`
    readings: list[Reading]  # the question's readings (see `_readings`), with their legs
    # The candidates' passage and sentence vectors, when the dense legs fetched them.
    passage_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None
    # The question's cosines with each candidate passage and sentence, when both dense legs
    # ran; and the first reading's MaxSim of each, NaN for those the rerank did not read.
    cosines: tuple[np.ndarray, np.ndarray] | None = None
    maxsims: tuple[np.ndarray, np.ndarray] | None = None

    def best_per_passage(self, scores: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(scores, self.groups)

    def best_sentences(self, sentence_scores: np.ndarray) -> np.ndarray:
        """Each candidate's best sentence, as its row of `sentences`: within its run, the
        highest score (the first of equals), found by one sort on (passage, -score)."""
        return np.lexsort((-sentence_scores, self.owner))[self.groups]

    def passage_scores(self) -> np.ndarray:
        """Each candidate's fused score: per reading, its two passage legs and its best
        sentence's three sentence legs; the readings summed by weight."""
        legs, weights = [], []
        for reading in self.readings:
            legs += reading.passage_legs + [self.best_per_passage(s) for s in reading.sentence_legs]
            weights += [reading.weight] * (len(PASSAGE_LEGS) + len(SENTENCE_LEGS))
        return fuse(legs, weights)

    def sentence_scores(
        self, rows: slice | np.ndarray = slice(None), maxsims: Sequence[np.ndarray] = ()
    ) -> np.ndarray:
        """The fused scores of the sentences `rows` (all by default): each reading's sentence
        legs, and its sentence MaxSim when `maxsims` gives one per reading (for those rows),
        the readings summed by weight. A follow-up's two readings swap weights here: the
        earlier question's words find the passage, its own choose the sentence ("How many
        members does it have now?" after a question on who joined the treaty in 1993 is
        answered by "Currently, it consists of six members", not by the 1993 sentence)."""
        legs, weights = [], []
        swapped = [reading.weight for reading in self.readings][::-1]  # one reading: as is
        for number, reading in enumerate(self.readings):
            mine = [leg[rows] for leg in reading.sentence_legs]
            if maxsims:
                mine.append(maxsims[number])
            legs += mine
            weights += [swapped[number]] * len(mine)
        return fuse(legs, weights)

    def match(self, position: int, row: int) -> Match | None:
        """The `Match` of candidate `position` and its sentence `row` (of `sentences`), from
        the scores already computed; None when some of them were not."""
        if self.cosines is None or self.maxsims is None:
            return None
        passage_maxsim, sentence_maxsim = self.maxsims[0][position], self.maxsims[1][row]
        if np.isnan(passage_maxsim) or np.isnan(sentence_maxsim):
            return None
        return Match(
            passage_cosine=float(self.cosines[0][position]),
            sentence_cosine=float(self.cosines[1][row]),
            passage_maxsim=float(passage_maxsim),
            sentence_maxsim=float(sentence_maxsim),
        )


@dataclass
class Reading:
    """One reading of the question: its weight, its word pieces for MaxSim, and each
    leg's scores of the candidates (passage legs) and of their sentences (sentence legs)."""

    weight: float
    pieces: np.ndarray | None
    passage_legs: list[np.ndarray]
    sentence_legs: list[np.ndarray]


def search(
    index: StoredIndex,
    query: Query,
    k: int,
    params: SearchParams = SearchParams(),
    allowed: np.ndarray | None = None,
    preferred: np.ndarray | None = None,
    topic: np.ndarray | None = None,
    named: np.ndarray | None = None,
) -> list[Hit]:
    """The best `k` distinct passages for a question, best first.

    Args:
        index: the loaded index.
        query: the question, embedded when `params` runs a dense leg.
        k: how many distinct passages.
        params: which legs take part, how many candidates each nominates, how many the
            rerank reads.
        allowed: a boolean mask over passages, or None for all.
        preferred: a boolean mask over passages that `params.dated` moves up (the
            articles dated when the question says), or None.
        topic: a boolean mask over passages that `params.topic` moves up (for a
            follow-up, the article that answered the question before it), or None.
        named: the numbers of the sentences that name the question's date relative to
            their article's ("next year" in an article of 2024, asked about 2025), or None.
            Such a sentence gets `params.dated`, and so does its passage, as if its article
            were dated then, when it is the passage's best sentence.
    """
    ranked = rank(index, query, params, allowed)
    if ranked is None:
        return []
    found, order, scores, sentence_scores = ranked
    unmoved = scores
    # Soft preferences: the articles dated as the question says, the earlier answer's.
    preferences = [(preferred, params.dated), (topic, params.topic)]
    moved = [(mask, bonus) for mask, bonus in preferences if mask is not None and bonus]
    for mask, bonus in moved:
        scores = scores + bonus * mask[found.passages]
    reorder = bool(moved)
    if named is not None and len(named) and params.dated:
        naming = np.isin(found.sentences, named)  # over the candidates' sentences
        if naming.any():
            scores, sentence_scores = _named_dates(
                found, naming, preferred, params.dated, scores, sentence_scores
            )
            reorder = True
    if reorder:
        order = np.argsort(-scores, kind="stable")
    # The sentences of the passages that may be shown or reranked, read once for the rules
    # below.
    rows = _rows_of(found, order[: max(k, params.rerank)])
    texts = [sentence_text(index, sentence) for sentence in found.sentences[rows].tolist()]
    signatures = [is_signature(text) for text in texts]
    if query.kind is not None and params.answer_type:
        owners = found.owner[rows]
        sentence_scores = _typed(rows, owners, texts, signatures, query, params, sentence_scores)
    sentence_scores = _below_signatures(rows, signatures, sentence_scores)
    best = found.best_sentences(sentence_scores)  # rows of found.sentences
    if params.tie:
        order = _tie_to_sentence(order, scores, scores - unmoved, sentence_scores[best], params.tie)
    if found.passage_vectors is None:
        passage_vectors = index.vectors.rows(found.passages[order])
        sentence_vectors = index.sentence_vectors.rows(found.sentences[best[order]])
    else:
        passage_vectors = found.passage_vectors[order]
        sentence_vectors = found.sentence_vectors[best[order]]
    # Fold each candidate that repeats a better one (same passage text or same best
    # sentence) into it; a `Hit` for each passage kept.
    ranked = found.passages[order].tolist()
    hits = []
    for row, repeats in collapse(passage_vectors, sentence_vectors, k):
        position = int(order[row])  # candidates are numbered in passage order
        sentence = int(best[position])  # its row in found.sentences
        hits.append(
            Hit(
                ranked[row],
                float(scores[position]),
                int(found.sentences[sentence]),
                duplicates=[ranked[r] for r in repeats],
                known=found.match(position, sentence),
            )
        )
    return hits


def rank(
    index: StoredIndex, query: Query, params: SearchParams, allowed: np.ndarray | None
) -> tuple[Candidates, np.ndarray, np.ndarray, np.ndarray] | None:
    """The candidates, their order (best first), passage scores and sentence scores: what
    `search` ranks by, before the soft preferences, the answer type and the collapse of
    duplicates (None when no leg finds a candidate)."""
    found = _score_candidates(index, query, params, allowed)
    if found is None:
        return None
    # The five legs: BM25 and dense of the passage, then the best sentence's by each
    # sentence leg. Legs that are off are all zeros, and z-score to zeros.
    scores = found.passage_scores()
    sentence_scores = found.sentence_scores()
    order = np.argsort(-scores, kind="stable")
    pieces = query.pieces
    if params.mode.dense and pieces is not None and len(pieces) and params.rerank:
        order, scores, sentence_scores = _rerank(
            index, found, params.rerank, order, scores, sentence_scores
        )
    return found, order, scores, sentence_scores


def _readings(query: Query, params: SearchParams) -> list[tuple[Query, float]]:
    """The texts searched for `query`, each with its weight.

    A question is one reading. A follow-up read in context (the earlier question's content
    words, then its own) is searched that way and also as asked, weighted by
    `params.asked`: both searches score the same candidates and their fused scores are
    summed, so words of its own count on both sides, and the earlier question's words
    only where they help (score fusion of query variants, as in Belkin et al., "Combining
    the evidence of multiple query representations", IP&M 1995). A follow-up that names
    `SAYS_ENOUGH` content words of its own weighs them as much as its reading in context:
    its "he" or "it" is the earlier answer's subject, which the earlier question's words
    find only next to what the follow-up asks ("What conference did he announce?").
    """
    readings = [(query, 1.0)]
    if query.asked is not None and params.asked:
        own = len(content_terms(query.asked.text))
        readings.append((query.asked, 1.0 if own >= SAYS_ENOUGH else params.asked))
    return readings


def _named_dates(
    found: Candidates,
    naming: np.ndarray,
    preferred: np.ndarray | None,
    bonus: float,
    scores: np.ndarray,
    sentence_scores: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The passage and sentence scores with `bonus` added to each sentence that names the
    question's date relative to its article's (`naming`, over `found.sentences`), and to
    its passage, as if the article were dated then (unless it is: `preferred`), when that
    sentence is the passage's best."""
    sentence_scores = sentence_scores + bonus * naming
    dated = naming[found.best_sentences(sentence_scores)]
    if preferred is not None:
        dated &= ~preferred[found.passages]
    return scores + bonus * dated, sentence_scores


def _tie_to_sentence(
    order: np.ndarray, scores: np.ndarray, moved: np.ndarray, best: np.ndarray, tie: float
) -> np.ndarray:
    """The candidates' `order` with the one whose best sentence scores highest (`best`,
    over candidates) first among those within `tie` of the first's score that the soft
    preferences moved as much as the first (`moved`): the answer is a sentence, and a
    difference of passage scores that small says less than their sentences do. A
    preference (the asked date, a follow-up's article) is never undone here."""
    first = order[0]
    near = order[(scores[order] >= scores[first] - tie) & (moved[order] == moved[first])]
    lead = near[np.argmax(best[near])]
    if lead == first:
        return order
    return np.concatenate([[lead], order[order != lead]])


def _below_signatures(
    rows: np.ndarray, signatures: list[bool], sentence_scores: np.ndarray
) -> np.ndarray:
    """The sentence scores with every signature line among `rows` (sentences of the
    candidates; `signatures` says which are one) put below the other sentences, so a
    passage's best sentence is one of its own words when it has any."""
    lines = [row for row, signature in zip(rows.tolist(), signatures) if signature]
    if not lines:
        return sentence_scores
    scores = sentence_scores.copy()
    scores[lines] = scores.min() - 1.0
    return scores


def _typed(
    rows: np.ndarray,
    owners: np.ndarray,
    texts: list[str],
    signatures: list[bool],
    query: Query,
    params: SearchParams,
    sentence_scores: np.ndarray,
) -> np.ndarray:
    """The sentence scores with `params.answer_type` added to a sentence among `rows`
    (sentences of the candidates, grouped by their passage `owners`, with their `texts`)
    that holds words of the kind the question asks for, wherever that decides its passage's
    best sentence.

    Each passage's sentences (signature lines aside: they go below the others) are read
    best first, until one holds such words (it gets the bonus and outscores every later
    one) or none left could reach the best one even with the bonus. The best sentence comes
    out as if every sentence had been read, equals going to the first as before; the check
    runs on a fraction of them. For "Where was ... WORD?", a sentence that could reach the
    best and says where as the question asks it ("... held in Minsk": `anchored`) gets the
    bonus before any.
    """
    scores = sentence_scores.copy()
    bonus, asked = params.answer_type, query.searched or query.text
    numbers = rows.tolist()
    starts = run_starts(owners).tolist()
    place = query.kind is Kind.PLACE
    for start, end in zip(starts, [*starts[1:], len(numbers)]):
        members = [i for i in range(start, end) if not signatures[i]]
        members.sort(key=lambda i: (-scores[numbers[i]], numbers[i]))
        best = scores[numbers[members[0]]] if members else 0.0
        if place:
            reaching = [i for i in members if scores[numbers[i]] + bonus >= best]
            said = next((i for i in reaching if anchored(texts[i], asked)), None)
            if said is not None:
                scores[numbers[said]] += bonus
                continue
        for i in members:
            if scores[numbers[i]] + bonus < best:
                break  # no sentence from here on reaches the best, even with the bonus
            if holds(texts[i], query.kind, asked):
                scores[numbers[i]] += bonus
                break
    return scores


def sentence_text(index: StoredIndex, sentence: int) -> str:
    """The text of sentence number `sentence` of the index."""
    passage, start, end = index.sentences[sentence].tolist()
    return index.documents[index.passages[passage].doc].text[start:end]


def match(index: StoredIndex, hit: Hit, query: Query) -> Match:
    """The raw similarities of `hit`'s passage and best sentence with the question: those
    the search computed (`Hit.known`), else computed here.

    Args:
        index: the loaded index.
        hit: a hit that `search` returned.
        query: the question, embedded (its `vector` and `pieces`).
    """
    if hit.known is not None:
        return hit.known
    passage = np.array([hit.passage], dtype=np.int64)
    sentence = np.array([hit.sentence], dtype=np.int64)
    passage_maxsim, sentence_maxsim = maxsim(
        query.pieces, index.pieces, passage, index.sentences[sentence]
    )
    return Match(
        passage_cosine=float(index.vectors.rows(passage)[0] @ query.vector[0]),
        sentence_cosine=float(index.sentence_vectors.rows(sentence)[0] @ query.vector[0]),
        passage_maxsim=float(passage_maxsim[0]),
        sentence_maxsim=float(sentence_maxsim[0]),
    )


def _score_candidates(
    index: StoredIndex, query: Query, params: SearchParams, allowed: np.ndarray | None
) -> Candidates | None:
    """Gather each leg's top candidates and score all of them on every leg that runs.

    Passage legs: BM25, dense. Sentence legs: BM25 (titled), dense, dense titled. A leg
    that does not run scores zero everywhere, which `fuse` ignores.
    """
    depth = params.candidates
    candidates: set[int] = set()
    lexical = []  # per reading: BM25 of every passage and of every sentence (or None)
    for reading, _ in _readings(query, params):
        bm25_passages = bm25_sentences = None
        if params.runs(Leg.BM25_PASSAGE):
            bm25_passages = index.lexical.scores(reading.terms)
            candidates |= _top(bm25_passages, allowed, depth)
        if params.runs(Leg.BM25_SENTENCE):
            bm25_sentences = index.lexical_sentences.scores(reading.terms)
            candidates |= _top_by_sentence(index, bm25_sentences, allowed, depth)
        candidates |= _dense_candidates(index, reading, params, allowed)
        lexical.append((bm25_passages, bm25_sentences))
    if not candidates:
        return None
    passages = np.array(sorted(candidates))
    sentences, owner = _sentences_of(index, passages)
    passage_vectors = sentence_vectors = titled = None
    if any(leg.dense for leg in params.legs):
        passage_vectors = index.vectors.rows(passages)
        sentence_vectors = index.sentence_vectors.rows(sentences)
        if params.runs(Leg.DENSE_TITLED_SENTENCE):
            titled = index.titled_sentence_vectors.rows(sentences)
    readings = []
    cosines = None  # the first reading's
    for (reading, weight), (bm25_passages, bm25_sentences) in zip(
        _readings(query, params), lexical
    ):
        passage_legs = dict.fromkeys(PASSAGE_LEGS, np.zeros(len(passages)))
        sentence_legs = dict.fromkeys(SENTENCE_LEGS, np.zeros(len(sentences)))
        if passage_vectors is not None:
            vector = reading.vector[0]
            if params.runs(Leg.DENSE_PASSAGE):
                passage_legs[Leg.DENSE_PASSAGE] = passage_vectors @ vector
            if params.runs(Leg.DENSE_SENTENCE):
                sentence_legs[Leg.DENSE_SENTENCE] = sentence_vectors @ vector
            if titled is not None:
                sentence_legs[Leg.DENSE_TITLED_SENTENCE] = titled @ vector
            if (
                cosines is None
                and params.runs(Leg.DENSE_PASSAGE)
                and params.runs(Leg.DENSE_SENTENCE)
            ):
                cosines = (passage_legs[Leg.DENSE_PASSAGE], sentence_legs[Leg.DENSE_SENTENCE])
        if bm25_passages is not None:
            passage_legs[Leg.BM25_PASSAGE] = bm25_passages[passages]
        if bm25_sentences is not None:
            sentence_legs[Leg.BM25_SENTENCE] = bm25_sentences[sentences]
        readings.append(
            Reading(
                weight, reading.pieces, list(passage_legs.values()), list(sentence_legs.values())
            )
        )
    return Candidates(
        passages=passages,
        sentences=sentences,
        owner=owner,
        groups=run_starts(owner),
        readings=readings,
        passage_vectors=passage_vectors,
        sentence_vectors=sentence_vectors,
        cosines=cosines,
    )


def _rerank(
    index: StoredIndex,
    found: Candidates,
    depth: int,
    order: np.ndarray,
    scores: np.ndarray,
    sentence_scores: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rerank the best `depth` candidates by z(fused) + z(MaxSim) + z(best sentence MaxSim)
    (each reading's MaxSim, weighted as its fused score).

    Their sentences are chosen anew by the sentence legs plus sentence MaxSim. The rest keep
    their order below the reranked ones.

    Returns:
        The new order, the passage scores and the sentence scores.
    """
    top = np.sort(order[:depth])  # the reranked candidates, in candidate order
    rows = _rows_of(found, top)  # their sentences, grouped likewise
    starts = run_starts(found.owner[rows])
    legs, weights, sentence_legs = [], [], []
    for reading in found.readings:
        pieces = reading.pieces if reading.pieces is not None else np.zeros((0, 1))
        passage_maxsim, sentence_maxsim = maxsim(
            pieces, index.pieces, found.passages[top], index.sentences[found.sentences[rows]]
        )
        legs += [passage_maxsim, np.maximum.reduceat(sentence_maxsim, starts)]
        weights += [reading.weight] * 2
        sentence_legs.append(sentence_maxsim)
    # The first reading's MaxSim of the reranked, for the confidence of the answer.
    known = np.full(len(found.passages), np.nan), np.full(len(found.sentences), np.nan)
    known[0][top], known[1][rows] = legs[0], sentence_legs[0]
    found.maxsims = known
    scores = rerank(scores, top, legs, weights)
    sentence_scores = sentence_scores.copy()
    sentence_scores[rows] = found.sentence_scores(rows, sentence_legs)
    return np.argsort(-scores, kind="stable"), scores, sentence_scores


def _dense_candidates(
    index: StoredIndex, query: Query, params: SearchParams, allowed: np.ndarray | None
) -> set[int]:
    """The passages the dense legs nominate: the nearest passages, and the passages of the
    nearest sentences (alone and with the heading)."""
    sentence_legs = {
        Leg.DENSE_SENTENCE: index.sentence_vectors,
        Leg.DENSE_TITLED_SENTENCE: index.titled_sentence_vectors,
    }
    if not any(leg.dense for leg in params.legs):
        return set()
    ids = sentence_ids = None
    if allowed is not None:
        ids = np.flatnonzero(allowed).astype(np.int64)
        sentence_ids = np.flatnonzero(allowed[index.sentence_passages]).astype(np.int64)
    found: set[int] = set()
    if params.runs(Leg.DENSE_PASSAGE):
        found |= set(_nearest(index.vectors, query.vector, params.candidates, ids).tolist())
    for leg, stored in sentence_legs.items():
        if params.runs(leg):
            sentences = _nearest(stored, query.vector, params.candidates, sentence_ids)
            found |= set(index.sentence_passages[sentences].tolist())
    return found


def _nearest(
    stored: VectorIndex, vector: np.ndarray, depth: int, ids: np.ndarray | None
) -> np.ndarray:
    """Row numbers of the `depth` rows nearest `vector` (among `ids`)."""
    _, rows = stored.search(vector, min(depth, len(stored)), ids)
    return rows[0][rows[0] >= 0]


def _top(scores: np.ndarray, allowed: np.ndarray | None, depth: int) -> set[int]:
    """The `depth` best-scoring passages with a score above zero (see `_first`).

    BM25 scores are never negative and mostly zero, so only those above zero are ranked:
    at 100,000 passages a third of the time of partitioning them all, which the many equal
    zeros slow down.
    """
    scoring = np.flatnonzero(scores > 0)  # on a mask: several times faster than on floats
    if allowed is not None:
        scoring = scoring[allowed[scoring]]
    return _first(scoring, scores[scoring], depth)


def _top_by_sentence(
    index: StoredIndex,
    sentence_scores: np.ndarray,
    allowed: np.ndarray | None,
    depth: int,
    spread: int = 4,
) -> set[int]:
    """The `depth` passages whose best sentence scores highest, above zero: `_top` of each
    passage's best sentence score, from BM25 scores of every sentence.

    Only the highest-scoring sentences are read. When the sentences scoring at least some
    floor belong to `depth` passages or more, those passages hold the whole top `depth`
    (every other passage's best is below the floor), ties included; the floor starts at
    the `spread`·`depth`-th best sentence and goes down until that holds. At 300,000
    sentences this takes about three quarters of the time of each passage's best over every
    sentence that scores, then the top of those.
    """
    scoring = np.flatnonzero(sentence_scores > 0)
    if allowed is not None:  # only the sentences that score are looked up
        scoring = scoring[allowed[index.sentence_passages[scoring]]]
    if not len(scoring):
        return set()
    scores = sentence_scores[scoring]
    reach = spread * depth
    while True:
        rows, values = scoring, scores
        if len(scores) > reach:
            high = scores >= np.partition(scores, len(scores) - reach)[len(scores) - reach]
            rows, values = scoring[high], scores[high]
        owners = index.sentence_passages[rows]  # ascending: sentences go passage by passage
        starts = run_starts(owners)
        if len(starts) >= depth or len(rows) == len(scoring):
            return _first(owners[starts], np.maximum.reduceat(values, starts), depth)
        reach *= 4


def _first(ids: np.ndarray, values: np.ndarray, depth: int) -> set[int]:
    """The `depth` of `ids` (ascending) with the highest `values`; of those tied for the
    last place, the first."""
    if len(ids) <= depth:
        return set(ids.tolist())
    last = np.partition(values, len(values) - depth)[len(values) - depth]
    above = ids[values > last]
    tied = ids[values == last][: depth - len(above)]
    return set(above.tolist()) | set(tied.tolist())


def _rows_of(found: Candidates, positions: np.ndarray) -> np.ndarray:
    """The rows of `found.sentences` that belong to the candidates at `positions`, in
    order (a mask, where `np.isin` would sort: a tenth of the time on a few hundred rows)."""
    chosen = np.zeros(len(found.passages), dtype=bool)
    chosen[positions] = True
    return np.flatnonzero(chosen[found.owner])


def _sentences_of(index: StoredIndex, passages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sentence numbers of these passages, and for each, its passage's position."""
    starts, ends = index.first_sentence[passages], index.first_sentence[passages + 1]
    counts = ends - starts
    owner = np.repeat(np.arange(len(passages)), counts)
    # Within each passage's run, count up from its first sentence.
    runs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts[owner] + runs, owner
