"""The signature an embedded post ends with: "Jane Roe (@janeroe) May 1, 2015".

A post copied from a social network ends with its author's name, @handle and date, on a
line of its own or glued to the last sentence ("You changed TV forever.— Josh Gad
(@joshgad) September 30, 2013"). It is metadata: searchable, but never the answer sentence
on its own. Sentence splitting cuts a glued signature off into a sentence of its own, so
that the author's name does not draw a question about the author to the last sentence of
the post; the answer shows the two together again (`qa.ingest.chunking.shown_sentence`).
"""

from __future__ import annotations

import re

# The name holds no sentence's end, though it may hold an initial or a title ("John D.
# Sutter", "Gov. Asa Hutchinson", "U.S. Soccer").
_TITLE = r"\b(?:Mrs|Mr|Ms|Dr|Prof|St|Jr|Sr|Gov|Rep|Sen|Rev|Gen)\."
_NAME_PART = rf"(?:[^()\n.!?]|(?<=\b[A-Z])\.|{_TITLE})"
_SIGNATURE = re.compile(
    rf"\W*{_NAME_PART}{{0,60}}\(@\w+\)\s*(?:January|February|March|April|May|June|July|"
    r"August|September|October|November|December)\s+\d{1,2},\s+\d{4}\W*"
)
# No signature is longer: its name is at most 60 characters, and a handle at most 15.
_LONGEST = 200
# Where a glued signature may begin: after a sentence's closing mark (and its quotes), or at
# a dash; not after the full stop of an initial or a title ("Donald J. Trump").
_GLUE = re.compile(r"[.!?…]+[\"'”’»)\]]*|(?=\s*[—–])")
_INITIAL_OR_TITLE = re.compile(rf"(?:\b[A-Z]\.|{_TITLE})$")
_ALNUM = re.compile(r"[^\W_]")
# A sentence in which the author speaks of themselves ("I", "my", "we", "us"; "US" is a
# country), and of no one else by a pronoun ("he", "her", "they").
_FIRST_PERSON = re.compile(r"\b(?:(?i:i|me|my|mine|myself|we|our|ours|ourselves)|us|Us)\b")
_THIRD_PERSON = re.compile(r"\b(?:he|him|his|she|her|hers|they|them|their|theirs)\b", re.I)


def is_signature(text: str) -> bool:
    """Whether a sentence is only a post's signature (a name, the @handle, the date)."""
    # The handle's "(@" first: a plain substring test, where the pattern would try every
    # way of reading the name before it fails on an ordinary sentence.
    return len(text) <= _LONGEST and "(@" in text and _SIGNATURE.fullmatch(text) is not None


def in_first_person(sentence: str) -> bool:
    """Whether the author speaks of themselves in `sentence` and of no one else by a
    pronoun: "I can't confirm this." is, "I will miss her." is not."""
    return bool(_FIRST_PERSON.search(sentence)) and not _THIRD_PERSON.search(sentence)


def signature_name(signature: str) -> str:
    """The author's name in a post's signature: what stands before the @handle ("Jane
    Roe" in "— Jane Roe (@janeroe) May 1, 2015")."""
    return signature[: signature.find("(@")].strip(" \t\n\u2014\u2013-")


def glued_signature(text: str, start: int, end: int) -> int | None:
    """Where the signature glued to the end of the sentence `text[start:end]` begins (the
    shortest one), or None when the sentence does not end with one after words of its own."""
    if "(@" not in text[max(start, end - _LONGEST) : end]:
        return None
    word = _ALNUM.search(text, start, end)  # the sentence's first word of its own
    cuts = [
        match.end()
        for match in _GLUE.finditer(text, max(start, end - _LONGEST - 8), end)
        if not _INITIAL_OR_TITLE.search(text, max(start, match.start() - 5), match.start() + 1)
    ]
    for cut in reversed(cuts):
        if end - cut > _LONGEST or word is None or word.start() >= cut:
            break
        if _SIGNATURE.fullmatch(text, cut, end) is not None:
            return cut
    return None
