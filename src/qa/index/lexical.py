"""The lexical leg: BM25 (bm25s) with English stopwords and the Snowball stemmer.

A word written run together ("#ClimateWeek", "@CityCouncilNY", "PlayStation", "climate_week")
is indexed whole and also by its parts, in texts and questions alike, so it matches as people
type it: "#climateweek", "ClimateWeek" or "climate week".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

# Term-frequency saturation and length normalisation. k1 = 0.9 (Anserini's default) lets a
# repeated term count for less than bm25s's 1.5; measured in BENCHMARKS.md.
K1 = 0.9
B = 0.75
_WORDS = re.compile(r"\w+")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token_pattern
# A word with a case change inside ("ClimateWeek", "NYCouncil": ASCII letters) or an
# underscore between letters or digits ("climate_week"), and the parts it splits into (in a
# part, letters other than A-Z count as small letters: "café_bar" is "café" and "bar"). Each
# run of word characters is looked at once for the mark of a compound, so a long run without
# one (a hex dump, a base-pair sequence) costs its length, not its length squared.
_RUN = re.compile(r"\w+")
_JOINT = re.compile(r"[a-z][A-Z]|[A-Z][A-Z][a-z]{2}|[^\W_]_[^\W_]")
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z]{2})|[A-Z]?[^\W\d_A-Z]+|[A-Z]+|\d+")


class Lexical:
    """A BM25 index over a list of texts; scores come back as one array over all texts."""

    def __init__(self, retriever, size: int) -> None:
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> Lexical:
        import bm25s

        retriever = bm25s.BM25(k1=K1, b=B)
        if texts:
            tokens = bm25s.tokenize(
                [split_compounds(text) for text in texts],
                stopwords="en",
                stemmer=_stemmer(),
                show_progress=False,
            )
            retriever.index(tokens, show_progress=False)
        return cls(retriever, len(texts))

    @classmethod
    def load(cls, path: Path, size: int) -> Lexical:
        import bm25s

        if size == 0:
            return cls.build([])
        return cls(bm25s.BM25.load(str(path), mmap=True), size)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._retriever.save(str(path))

    def scores(self, query: str | Sequence[str]) -> np.ndarray:
        """BM25 score of every text for `query`, a text or its `terms` (zeros when no query
        term is indexed)."""
        if self.size == 0:
            return np.zeros(0, dtype=np.float32)
        if isinstance(query, str):
            query = terms(query)
        known = [t for t in query if t in self._retriever.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)


@lru_cache(maxsize=4096)  # the confidence reads the same few passages' terms again and again
def content_terms(text: str) -> frozenset[str]:
    """The text's content words, stemmed as BM25 stems them; the longer English stopword
    list (with question words such as "why" and "did") left out."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    stopwords = _stopwords(STOPWORDS_EN_PLUS)
    words = [w for w in _WORDS.findall(text.lower()) if w not in stopwords]
    return frozenset(_stemmer().stemWords(words))


@lru_cache(maxsize=2)  # bm25s's two English lists: the shorter one and STOPWORDS_EN_PLUS
def _stopwords(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(words)


def split_compounds(text: str) -> str:
    """`text` with the parts of each run-together word after it: "#ClimateWeek rally" becomes
    "#ClimateWeek Climate Week rally" (what BM25 reads; stored text is never changed).

    A word splits where a lower-case letter meets a capital ("ClimateWeek"), where a run of
    capitals ends before a capitalised word ("NYCouncil" → "NY Council"), and at underscores.
    """
    return _RUN.sub(_with_parts, text)


def _with_parts(match: re.Match) -> str:
    word = match.group()
    if not _JOINT.search(word):
        return word
    parts = _PARTS.findall(word)
    return f"{word} {' '.join(parts)}" if len(parts) > 1 else word


def terms(query: str) -> tuple[str, ...]:
    """The query's stemmed terms, stopwords left out, as BM25 reads them.

    The same terms as `bm25s.tokenize` gives for the one text (its word pattern, lower case,
    its English stopwords, the same stemmer; a test holds them equal), without its set-up
    for a list of texts, which took three quarters of the time for one question.
    """
    from bm25s.stopwords import STOPWORDS_EN  # what bm25s.tokenize drops for "en"

    stopwords = _stopwords(STOPWORDS_EN)
    words = [w for w in _TOKEN.findall(split_compounds(query).lower()) if w not in stopwords]
    return tuple(_stemmer().stemWords(words))


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")
