"""What kind of words answer a question, and where such words stand in a sentence.

A question's wording names the kind of its answer ("When ..." a date, "How many ..." a
number, "Who ..." a person, "Where ..." a place): the answer-type step of classic extractive
question answering (Harabagiu et al., "FALCON: boosting knowledge for answer engines",
TREC 2000; Li and Roth, "Learning question classifiers", COLING 2002). Here it is a few
general patterns, no model: `expected` reads the kind from the question, `spans` finds
words of that kind in a sentence that the question does not already name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import Enum
from functools import lru_cache

from qa.index.lexical import content_terms


class Kind(Enum):
    """The kind of words that answer a question."""

    DATE = "date"
    NUMBER = "number"
    PERSON = "person"
    PLACE = "place"
    DEFINITION = "definition"  # what or who a named thing is: "What is the CSTO?"


# The kinds whose words `spans` finds precisely enough to quote as the answer words
# (token F1 against SQuAD's answers, BENCHMARKS.md); names are found too loosely.
EXACT_KINDS = frozenset({Kind.DATE, Kind.NUMBER})

_QUESTION_KINDS = (
    (
        Kind.DATE,
        r"^(when|since when|until when)\b|\b(what|which|in what|in which) "
        r"(year|years|month|day|date|decade|century|era|time period)\b",
    ),
    (
        Kind.NUMBER,
        r"\bhow (many|much|long|far|old|big|large|tall|high|wide|deep|heavy|often|fast)\b|"
        r"\bwhat (is the |was the )?(percentage|percent|number|amount|proportion|population|"
        r"size|cost|price|share|rate)\b",
    ),
    (Kind.PERSON, r"^(who|whom|whose)\b|\b(who|whom) (is|was|were|are|did|does)\b"),
    (
        # Up to two capitalised words may stand between: "which Kazakh city", "what U.S. state".
        Kind.PLACE,
        r"^where\b|\b(what|which|in what|in which) (?-i:[A-Z][\w.-]* ){0,2}(city|cities|"
        r"country|countries|state|town|region|continent|county|island|river|nation|province|"
        r"capital)\b",
    ),
)
_COMPILED = tuple((kind, re.compile(pattern, re.I)) for kind, pattern in _QUESTION_KINDS)
# A question that asks what or who a named thing is, and nothing more ("What is the CSTO?",
# "Who was Frédéric Chopin?"); its name is the group "name".
_NAMED = r"(?-i:[A-Z][\w.'’-]*)"
_DEFINED = re.compile(
    rf"^\s*(?:what\s+(?:is|are|was|were)\s+(?:the\s+|an?\s+)?|who\s+(?:is|was)\s+)"
    rf"(?P<name>{_NAMED}(?:\s+{_NAMED}){{0,3}})\s*\?\s*$",
    re.I,
)

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    "eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|billion|billions|"
    "dozen|dozens|half|twice|trillion"
)
# A word before "century" is read only when "century" follows it (the lookahead): the
# three ways of reading it are each tried at every word otherwise.
_DATE = re.compile(
    rf"\b(?:(?:\d{{1,2}}(?:st|nd|rd|th)? )?(?:{_MONTHS})\.?(?: \d{{1,2}}(?:st|nd|rd|th)?)?"
    rf"(?:,? \d{{3,4}})?|\d{{1,2}}(?:st|nd|rd|th) century|(?:1\d|20)\d{{2}}s?|\d{{4}}[–-]\d{{2,4}}|"
    rf"(?=[a-z]+ century)(?:{_NUMBER_WORDS}|[a-z]+teenth|[a-z]+tieth) century)\b"
)


def _prefix_tree(words: list[str]) -> str:
    """A pattern matching exactly `words`, written as a tree of their shared beginnings
    ("t(?:en|w(?:elve|o))"): at a word that is none of them it fails on the first letter
    or two, where a plain alternation tries every word (half the time under re.I)."""
    firsts = sorted({word[0] for word in words if word})
    if not firsts:
        return ""
    rests = [
        re.escape(first) + _prefix_tree([word[1:] for word in words if word[:1] == first])
        for first in firsts
    ]
    tree = rests[0] if len(rests) == 1 else f"(?:{'|'.join(rests)})"
    return f"(?:{tree})?" if "" in words else tree


_NUMBER_WORD = _prefix_tree(_NUMBER_WORDS.split("|"))
_NUMBER = re.compile(
    rf"(?:[$£€]\s?)?\b(?:\d[\d,.]*(?: ?%| percent)?(?: {_NUMBER_WORD})*|"
    rf"{_NUMBER_WORD}(?:[ -](?:{_NUMBER_WORD}|and))*)\b",
    re.I,
)
# A name: capitalised words, joined by short lowercase links ("of", "de", "van", "the").
_NAME = re.compile(
    r"\b[A-Z][\w'’.-]*(?:(?:\s+(?:of|de|da|del|van|von|der|la|le|bin|al|the|and))*"
    r"\s+[A-Z][\w'’.-]*)*"
)
_SPAN_PATTERNS = {Kind.DATE: _DATE, Kind.NUMBER: _NUMBER, Kind.PERSON: _NAME, Kind.PLACE: _NAME}
_WORD = re.compile(r"[\w’']+")
_TRAILING = re.compile(r"(?:['’]s|['’.])+$")  # a possessive or a full stop after a name
# Capitalised words that are no name on their own.
_NOT_NAMES = frozenset(
    "a an the this that these those it its he she they his her their we our i in on at of "
    "for by from to with as after before during when while where who what which how but "
    "and or if however although though since until also according there here then de da "
    "del van von der la le bin al".split()
)


def expected(question: str) -> Kind | None:
    """The kind of words that answer `question`, or None when its wording does not say."""
    if _DEFINED.match(question):
        return Kind.DEFINITION
    for kind, pattern in _COMPILED:
        if pattern.search(question):
            return kind
    return None


def spans(sentence: str, kind: Kind, question: str = "") -> list[tuple[int, int]]:
    """Where words of `kind` stand in `sentence`, leaving out those the question names.

    Args:
        sentence: the text to search.
        kind: the kind of words wanted.
        question: its words are not an answer to it ("Who succeeded Nixon?" is not
            answered by "Nixon").

    Returns:
        (start, end) offsets into `sentence`, in order.
    """
    return list(_spans(sentence, kind, question))


def holds(sentence: str, kind: Kind, question: str = "") -> bool:
    """Whether `sentence` holds words of `kind` that the question does not name (`spans`,
    stopping at the first)."""
    return next(_spans(sentence, kind, question), None) is not None


def _spans(sentence: str, kind: Kind, question: str) -> Iterator[tuple[int, int]]:
    if kind is Kind.DEFINITION:
        definition = _definition(question)
        if definition is not None:
            yield from (match.span() for match in definition.finditer(sentence))
        return
    named = _named(question)
    for match in _SPAN_PATTERNS[kind].finditer(sentence):
        start, end = match.span()
        text = match.group()
        words = [word.lower() for word in _WORD.findall(text)]
        if kind in (Kind.PERSON, Kind.PLACE):
            # Drop a leading function word capitalised at the start of a sentence.
            while words and words[0] in _NOT_NAMES:
                first = _WORD.search(sentence, start)
                start = first.end() if first else end
                text = sentence[start:end].lstrip(" \t")
                start = end - len(text)
                words = words[1:]
        # A possessive or a full stop is not part of the name ("God's", "Bees.").
        trimmed = _TRAILING.sub("", sentence[start:end])
        end = start + len(trimmed)
        # A name sharing a word with the question is the question's ("Tokayev" names
        # "Kassym-Jomart Tokayev"); a date or number must differ in some word.
        names = kind in (Kind.PERSON, Kind.PLACE)
        if not words or (any if names else all)(word in named for word in words):
            continue
        if (
            kind in (Kind.PERSON, Kind.PLACE)
            and (start == 0 or sentence[:start].rstrip().endswith((".", "!", "?", "«", '"', "“")))
            and " " not in sentence[start:end]
        ):
            continue  # one capitalised word opening a sentence may be any word
        yield start, end


def anchored(sentence: str, question: str) -> bool:
    """Whether `sentence` says where, as `question` asks it: "Where was the 2023 summit
    held?" by "... held in Minsk": the question's last word, then within three words "in",
    "at", "near" or "on" and a capitalised word."""
    pattern = _anchor(question)
    return pattern is not None and pattern.search(sentence) is not None


@lru_cache(maxsize=64)
def _anchor(question: str) -> re.Pattern | None:
    """The pattern of `anchored` for "Where is/was ... WORD?" (WORD a content word: not
    "Where is it?"), else None."""
    match = _WHERE_DONE.match(question)
    if match is None or not content_terms(match.group("done")):
        return None
    word = re.escape(match.group("done"))
    return re.compile(
        rf"\b{word}\b(?:\s+[\w'’,-]+){{0,3}}?\s+(?:in|at|near|on)\s+(?-i:[A-Z])", re.I
    )


_WHERE_DONE = re.compile(r"^\s*where\s+(?:is|was|were|are)\b.*\s(?P<done>\w+)\s*\??\s*$", re.I)


def counts(sentence: str, span: tuple[int, int], question: str) -> bool:
    """Whether the number at `span` of `sentence` counts what `question` asks how many of:
    one of the (up to two) words after "how many" in the question, stemmed, stands among
    the three words after the number ("How many documents were signed?": "14 documents were
    signed", not "about 60 events" for "How many troops ...?"). True for a question that
    does not ask "how many" of something."""
    counted = _counted(question)
    if not counted:
        return True
    after = " ".join(_WORD.findall(sentence, span[1])[:3])
    return not counted.isdisjoint(content_terms(after))


@lru_cache(maxsize=64)
def _counted(question: str) -> frozenset[str]:
    """The stemmed content words among the two after "how many" in `question`, numbers
    left out; none when it does not ask so, or names nothing right after ("How many in
    2024?", "How many of them ...?")."""
    match = _HOW_MANY.search(question)
    words = match.group("things").split()[:2] if match else []
    if not words or not content_terms(words[0]):
        return frozenset()
    return frozenset(term for term in content_terms(" ".join(words)) if not term.isdigit())


_HOW_MANY = re.compile(r"\bhow many\s+(?P<things>[^?.!,;:]+)", re.I)


@lru_cache(maxsize=64)
def _named(question: str) -> frozenset[str]:
    """The question's words, lower-cased, function words left out (read once per question,
    not once per sentence searched)."""
    return frozenset({word.lower() for word in _WORD.findall(question)} - _NOT_NAMES)


@lru_cache(maxsize=64)
def _definition(question: str) -> re.Pattern | None:
    """What defines the thing `question` asks about, in a sentence: its name, perhaps a
    bracket, then "is", "are", "was" or "were" and an article ("The CSTO (Collective Security
    Treaty Organization) is a ...") or a clause on it ("the Collective Security Council,
    which consists of ..."); None when the question names no such thing."""
    asked = _DEFINED.match(question)
    if asked is None:
        return None
    name = r"\s+".join(re.escape(word) for word in asked.group("name").split())
    return re.compile(
        rf"\b{name}\b(?:\s*\([^()]*\))?"
        rf"(?:,?\s+(?:is|are|was|were)\s+(?:a|an|the|one)\b|,\s+(?:which|who)\s+\w)",
        re.I,
    )


def names_holder(sentence: str, role: str, of: str | None = None, question: str = "") -> bool:
    """Whether `sentence` names someone right after `role` (`holder`)."""
    return holder(sentence, role, of, question) is not None


def holder(
    sentence: str, role: str, of: str | None = None, question: str = ""
) -> tuple[int, int] | None:
    """Where, in `sentence`, a name right after `role` (its last word) stands, a name the
    question does not give: "Secretary General Stanislav Zas", "the Secretary-General is
    Imangali Tasmagambetov". When the question says what the role is of (`of`: "CSTO"), the
    sentence must say so too, before the role or after it with "of": "CSTO Secretary
    General Stanislav Zas", "President of Kyrgyzstan Talant Mamytov" (a list's "President
    of Belarus, Alexander Lukashenko" names no president of Kyrgyzstan). None without one."""
    head = "(?i:" + re.escape(re.split(r"[\s-]+", role.strip())[-1]) + ")"
    name = r",?\s+(?:(?:is|was)\s+)?(?P<name>[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+)+)"
    if of is None:
        patterns = [rf"\b{head}{name}"]
    else:
        whose = "(?i:" + re.escape(of) + ")"
        patterns = [
            rf"\b{whose}\s+(?:[\w-]+\s+){{0,2}}?{head}{name}",
            rf"\b{head}\s+of\s+(?:the\s+)?{whose}{name}",
        ]
    named = _named(question)
    for pattern in patterns:
        for match in re.finditer(pattern, sentence):
            words = [w.lower() for w in _WORD.findall(match.group("name"))]
            if not all(word in named for word in words):
                start = match.start("name")
                # A possessive or a full stop is not part of the name ("Manning's").
                return start, start + len(_TRAILING.sub("", match.group("name")))
    return None
