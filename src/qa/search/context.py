"""A question's context: the dates it names, whether it asks about the present, and the
earlier question an elliptical follow-up leans on."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from qa.dates import MONTH_NAMES, MONTHS
from qa.index.lexical import content_terms, terms

_YEAR = r"(1[89]\d\d|20\d\d)"
_ISO = re.compile(rf"\b{_YEAR}-(\d\d)(?:-(\d\d))?\b")
_MONTH_YEAR = re.compile(
    rf"\b({MONTH_NAMES})\.?(?: \d{{1,2}}(?:st|nd|rd|th)?,?)? {_YEAR}\b",
    re.I,
)
_YEARS = re.compile(rf"(?<![\d-]){_YEAR}(?![\d-])")
# Words that set a question in the present, whatever year the question before it named.
_NOW_WORDS = r"now|currently|today|nowadays|presently|at present"
_NOW = re.compile(rf"\b({_NOW_WORDS}|these days)\b", re.I)
# A question about who or what holds a role now: "Who is the Secretary-General?", "What is
# the capital ...?", "Who is Secretary-General now?"; not "Who is being ...?" or "What is
# given ...?", which ask about an event.
_OPENING = r"^\s*(?:(?:and|but|so)\s+)?"  # a question may open as a continuation
_WHO_OR_WHAT = _OPENING + r"(who|what|which \w+)\s+"
_PRESENT = re.compile(
    _WHO_OR_WHAT + r"(is|are)\s+"
    r"(the\s+(current\s+|present\s+|new\s+)?\w|(current|present)\s+\w|.*\b(now|currently)\b)",
    re.I,
)
# Words typed as a search rather than asked ("secretary general csto now"): no question word
# anywhere, and the present named ("now", "current", ...).
_QUESTION_WORD = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.I)
_CURRENT = re.compile(rf"\b(current|{_NOW_WORDS})\b", re.I)
# "And about X?", "What about X?", "How about X?": the earlier question, asked of X.
_ABOUT_ANOTHER = re.compile(_OPENING + r"(?:(?:what|how)\s+)?about\b", re.I)
# What an earlier question is about, which such a follow-up replaces: the words after
# "about", "on", "regarding" or "concerning", up to the next preposition or the end ("about
# the Palestinian-Israeli conflict"; "on drug trafficking" of "... on drug trafficking in
# Minsk?").
_WHAT_ABOUT = re.compile(
    r"\b(?:about|on|regarding|concerning)\s+[^?.!]*?"
    r"(?=\s+(?:in|at|during|from|for|by|with|to)\b|\s*[?.!]|\s*$)",
    re.I,
)
# A question about who or what holds or held a role: "Who was the Secretary-General in 2020?"
_ROLE = re.compile(_WHO_OR_WHAT + r"(is|are|was|were)\s+the\s+\w", re.I)
# Words that point back at something named earlier ("else": other than what was named).
_POINTERS = frozenset(
    "it its it's they them their theirs he him his she her this that these those there "
    "then same else".split()
)
# Question words and auxiliaries, which BM25's stopword list keeps.
_ASKING = frozenset(
    "who whom whose what when where which why how did does do is was were are".split()
)
# Words that name nothing to search for on their own: pro-forms ("which ones", "the
# others"), amounts ("how many", "more"), requests ("name them", "tell me more") and the
# present ("and today?").
_NOTHING_OF_ITS_OWN = (
    "one ones other others another else many much more most some any few several all "
    "name list tell give show explain describe mention "
    "now currently today nowadays presently"
)
# Openings that continue a conversation: a conjunction ("And the Secretary-General?"), "what
# about" or "how about", or a preposition before the question word in a fragment of at most
# two more words ("For which area?"; "In which year was the treaty signed?" stands alone).
_CONTINUES = re.compile(
    r"\s*(?:(?:and|but|also|or|so|then|(?:what|how) about)\b|"
    r"(?:for|by|in|at|to|from|with|of|on|since|until)\s+(?:which|what|whom|whose|when|where)"
    r"(?:\s+[\w’'-]+){0,2}\s*[?.!]*\s*$)",
    re.I,
)
_WORD = re.compile(r"[A-Za-z’']+")
# The general words for a role: "the post of Secretary-General" names one; "the post" alone
# ("Who held the post in 2020?") points back at the one named before.
_ROLE_WORDS = r"(?:post|position|office|role|job)"
_THE_ROLE = re.compile(rf"\bthe\s+{_ROLE_WORDS}\b(?!-|\s+of\b)", re.I)
MIN_TERMS = 2  # a question with fewer content terms than this leans on the one before


def named_dates(text: str) -> tuple[str, ...]:
    """The dates `text` names, as partial ISO dates ("2024", "2024-11", "2024-11-28").

    A year with a month ("November 2024", "Nov. 28, 2024") gives the month; a bare year
    gives the year.
    """
    found: list[str] = []
    taken = bytearray(len(text))  # 1 where a date already found stands
    for match in _ISO.finditer(text):
        found.append(match.group())
        taken[match.start() : match.end()] = b"\1" * (match.end() - match.start())
    for match in _MONTH_YEAR.finditer(text):
        if not taken[match.start()]:
            month = MONTHS[match.group(1).lower()]
            found.append(f"{match.group(2)}-{month:02d}")
            taken[match.start() : match.end()] = b"\1" * (match.end() - match.start())
    for match in _YEARS.finditer(text):
        if not taken[match.start()]:
            found.append(match.group())
    return tuple(dict.fromkeys(found))


# A year named relative to the one the conversation is about: "And the year before?", "the
# following year", "two years later".
_SHIFT = re.compile(
    r"\b(?:in\s+)?(?:(?P<count>a|one|two|three|four|five|\d{1,2})\s+years?\s+(?P<way>before|earlier|"
    r"after|later)|the\s+(?P<adjective>previous|preceding|prior|following|next)\s+year|"
    r"the\s+year\s+(?P<after>before|after))(?:\s+that)?\b",
    re.I,
)
_COUNTS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_BACK = frozenset({"before", "earlier", "previous", "preceding", "prior"})


def with_years(question: str, history: Sequence[str] = ()) -> str:
    """`question` with each year it names relative to the conversation's ("And the year
    before?", "two years later") written out ("And in 2023?"), read against the latest year
    that the earlier questions of `history` (oldest first) name; unchanged without one."""
    if not _SHIFT.search(question):
        return question
    year = None
    for earlier in _earlier(history):
        years = [date[:4] for date in named_dates(_shifted(earlier, year))]
        year = int(years[0]) if years else year
    return _shifted(question, year)


def _shifted(text: str, year: int | None) -> str:
    """`text` with its relative years read against `year` (unchanged when None)."""
    if year is None:
        return text

    def written(match: re.Match) -> str:
        count = match["count"]
        steps = int(count) if count and count.isdigit() else _COUNTS.get((count or "a").lower())
        way = (match["way"] or match["adjective"] or match["after"]).lower()
        return f"in {year - steps if way in _BACK else year + steps}"

    return _SHIFT.sub(written, text)


def asks_present(question: str, history: Sequence[str] = ()) -> bool:
    """Whether `question` asks who or what holds a role now ("Who is the ...?"), naming no
    date; or is words typed as a search that name the present ("secretary general now");
    or, after a question about who or what held a role (the latest of `history`: "Who was
    the Secretary-General in 2020?"), says "now" ("And now?")."""
    if named_dates(question):
        return False
    if _PRESENT.search(question) or _searched_now(question):
        return True
    previous = _latest(history)
    return bool(previous and _NOW.search(question) and _ROLE.match(previous))


def _searched_now(text: str) -> bool:
    """Whether `text` is words typed as a search that name the present and something
    else: no question mark, no question word ("secretary general csto now"; not "and
    now", which leans on an earlier question)."""
    if "?" in text or _QUESTION_WORD.search(text) or not _CURRENT.search(text):
        return False
    return bool(content_terms(_CURRENT.sub(" ", text)))


# The role a "who" question asks the holder of: the words after "who was the", "who held the
# post (position, office, role, job) of" or "who served as", up to a preposition, a time word
# or the end, and what it is a role of when a name follows "of" ("Who was the
# Secretary-General of the CSTO in 2020?": "Secretary-General", "CSTO").
_ROLE_ASKED = re.compile(
    _OPENING + r"who\s+(?:(?:is|are|was|were)\s+the"
    r"|(?:holds?|held|has\s+held|had\s+held)\s+the\s+" + _ROLE_WORDS + r"\s+of"
    r"(?:\s+the)?|(?:serves?|served|has\s+served|had\s+served|is\s+serving|was\s+serving)"
    r"\s+as(?:\s+the)?)\s+"
    r"(?P<role>(?:[\w-]+\s+){0,3}?[\w-]+?)"
    r"(?:\s+of\s+(?:the\s+)?(?P<of>(?-i:[A-Z][\w'’.-]*)(?:\s+(?-i:[A-Z][\w'’.-]*))*))?"
    r"(?=\s+(?:of|in|at|for|on|during|when|from|to|now|currently|today|then)\b|\s*[?,.!]|\s*$)",
    re.I,
)
# A question ending on a preposition asks for its object: "Who was the interview with?"
_STRANDED = re.compile(r"\b(to|with|by|for|from|against|towards?|about|at|of|on|in)\W*$", re.I)


def asked_role(question: str, history: Sequence[str] = ()) -> tuple[str, str | None] | None:
    """The role whose holder `question` asks for and what it is a role of, if it says
    (("Secretary-General", "CSTO")); for a follow-up that leans on the latest of `history`
    ("And in 2020?"), the one that asks; else None."""

    def role(text: str) -> tuple[str, str | None] | None:
        found = _ROLE_ASKED.match(text)
        if found is None or _STRANDED.search(text):
            return None
        return found.group("role"), found.group("of")

    if _ROLE_ASKED.match(question) or not leans_on_history(question):
        return role(question)
    previous = _latest(history)
    return role(previous) if previous else None


def leans_on_history(question: str) -> bool:
    """Whether `question` cannot stand alone: it points back ("it", "they", "that"), has
    too few terms of its own ("And in 2023?") or names nothing to search for ("Which
    ones?", "How many?")."""
    words = {word.lower() for word in _WORD.findall(question)}
    own = [term for term in terms(question) if not term.isdigit()]
    return (
        bool(words & _POINTERS)
        or bool(_THE_ROLE.search(question))
        or len(own) < MIN_TERMS
        or not names_something(question)
        or bool(_CONTINUES.match(question))
    )


def names_something(question: str) -> bool:
    """Whether `question` has words of its own to search for: a content word that is not a
    number, a pro-form, an amount or a request. "Which ones?", "How many in 2024?" and
    "Tell me more" have none; "Who chaired it?" has "chaired"."""
    return any(
        not term.isdigit() and term not in _nothing_of_its_own() for term in content_terms(question)
    )


@lru_cache(maxsize=1)
def _nothing_of_its_own() -> frozenset[str]:
    """`_NOTHING_OF_ITS_OWN`, stemmed as `content_terms` stems (read once, when first asked)."""
    return frozenset(term for word in _NOTHING_OF_ITS_OWN.split() for term in content_terms(word))


def in_context(question: str, history: Sequence[str]) -> str:
    """The text to search for `question` asked after `history` (earlier questions, oldest
    first): the question alone when it stands alone, else the content words of the latest
    earlier question (without the dates it named, when this one names its own or says
    "now") followed by this question.

    Only the content words are carried, so the earlier question's wording ("What did ...
    discuss") does not outweigh the follow-up's. Retrieval searches this text and, for a
    follow-up, the question as asked beside it (`qa.search.query.Query.asked`), so the
    earlier words disambiguate ("it" is the 2020 videoconference) while the follow-up's
    own ("chaired") still choose the passage.

    A follow-up asking "And about X?" (or "What/How about X?") asks the earlier question of
    X instead of what that one was about: after "What did the Declaration say about the
    Palestinian-Israeli conflict?", "And about Afghanistan?" carries "declaration say" only.
    """
    previous = _latest(history)
    if previous is None or not leans_on_history(question):
        return question
    if named_dates(question) or _NOW.search(question):
        previous = _YEARS.sub(" ", _MONTH_YEAR.sub(" ", _ISO.sub(" ", previous)))
    if _ABOUT_ANOTHER.match(question):
        previous = _WHAT_ABOUT.sub(" ", previous)
    return f"{' '.join(_content_words(previous))} {question}".strip()


def _latest(history: Sequence[str] | str) -> str | None:
    """The latest earlier question of `history` that has words, or None."""
    earlier = _earlier(history)
    return earlier[-1] if earlier else None


def _earlier(history: Sequence[str] | str) -> list[str]:
    """The earlier questions of `history` (oldest first, or one given bare) that have words."""
    if isinstance(history, str):
        history = [history]
    return [text for text in history if isinstance(text, str) and text.strip()]


def _content_words(text: str) -> list[str]:
    """The words of `text` that are not stopwords (lowercased, unstemmed, in order): what
    an earlier question lends a follow-up, without its question words."""
    import bm25s

    words = bm25s.tokenize([text], stopwords="en", return_ids=False, show_progress=False)[0]
    return [word for word in words if word not in _ASKING]
