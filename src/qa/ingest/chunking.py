"""Sentence splitting and sentence-aware chunking, with character offsets throughout."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

from qa.ingest.boilerplate import is_boilerplate, is_caption
from qa.ingest.posts import glued_signature, is_signature

Span = tuple[int, int]
Length = Callable[[str], int]

# Words after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr gen col lt sgt capt gov sen rep rev inc ltd co corp vs no nos "
    "jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e u.s u.k u.n approx fig est".split()
)
# Words that cannot end a line of prose, so a line break after them is a hard wrap.
_CONTINUES = frozenset(
    "a an the of in on at to for with by from as and or but nor that which who whom whose "
    "including following between among into onto than via per about over under after before".split()
)
# Each starts only where its run of marks (or of spaces) starts, so a long run ("....",
# a line of spaces) is read once, not once from every character in it.
_SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’»)\]]*(?=\s)")
_LINE_BREAK = re.compile(r"(?<![ \t])[ \t]*\n\s*")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# A line at least this long, and this share of its block's longest line, is a wrapped line.
_WRAP_MIN, _WRAP_SHARE = 40, 0.6
_LIST_ITEM = re.compile(r"(?:[-*•–]|\d{1,3}[.)])\s")
_OPENERS = "\"'“‘«([¿¡"


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Split `text[start:end]` into sentences.

    A sentence ends at ., ! or ? (with any closing quotes) before a capital or a digit,
    unless the word before is an abbreviation or an initial; at a blank line; and at a line
    break that is not a hard wrap inside a sentence (see `_line_ends_sentence`). The
    signature of a post glued to its last sentence is a sentence of its own
    (`qa.ingest.posts`; `shown_sentence` joins them again for a reader).

    Returns:
        (start, end) offsets into `text`, with no surrounding white space.
    """
    return [
        piece
        for sentence in _sentences(text, start, len(text) if end is None else end)
        for piece in _signature_apart(text, sentence)
    ]


def shown_sentence(text: str, sentence: Span, following: Span | None) -> Span:
    """`sentence` as a reader sees it: with `following` when that is a post's signature that
    `split_sentences` cut off it (glued to it, with no sentence break between), so that
    "You changed TV forever.— Josh Gad (@joshgad) September 30, 2013" is shown whole, as
    written, while its words are searched apart; and with `following` when `sentence` ends
    with a colon, whose statement goes on there ("... the most significant are the
    following: - Declaration of the Collective Security Council ...")."""
    if following is None:
        return sentence
    if text[sentence[0] : sentence[1]].rstrip().endswith(":"):
        return sentence[0], following[1]
    if not is_signature(text[following[0] : following[1]]):
        return sentence
    if (
        _signature_apart(text, (sentence[0], following[1])) == [sentence, following]
        and len(_sentences(text, sentence[0], following[1])) == 1
    ):
        return sentence[0], following[1]
    return sentence


def _signature_apart(text: str, sentence: Span) -> list[Span]:
    """The sentence, or its words and the post signature glued to them, apart."""
    cut = glued_signature(text, *sentence)
    if cut is None:
        return [sentence]
    return [_strip(text, sentence[0], cut), _strip(text, cut, sentence[1])]


def _sentences(text: str, start: int, end: int) -> list[Span]:
    """The sentences of `text[start:end]` by punctuation and line breaks alone."""
    cuts = [start]
    blocks = _block_widths(text, start, end)
    for match in _LINE_BREAK.finditer(text, start, end):
        width = blocks[bisect.bisect_right(blocks, (match.start(), 1 << 62)) - 1][1]
        if "\n" in match.group().replace("\n", "", 1) or _line_ends_sentence(
            text, match.start(), match.end(), width
        ):
            cuts.append(match.end())
    for match in _SENTENCE_END.finditer(text, start, end):
        if _period_ends_sentence(text, match.start(), match.end()):
            cuts.append(match.end())
    cuts = sorted(set(cuts)) + [end]
    spans = (_strip(text, a, b) for a, b in zip(cuts, cuts[1:]))
    return [span for span in spans if span[0] < span[1]]


def chunk_spans(
    text: str, sentences: list[Span], size: int, overlap: int = 0, length: Length = len
) -> list[Span]:
    """Pack consecutive sentences into passages of at most `size` (measured by `length`).

    A sentence longer than `size` alone is cut at word boundaries. Each passage after the
    first starts with the trailing whole sentences of the one before that fit in `overlap`.
    """
    pieces = [p for a, b in sentences for p in _split_long(text, a, b, size, length)]
    chunks: list[Span] = []
    first = 0
    while first < len(pieces):
        last = first
        while (
            last + 1 < len(pieces) and length(text[pieces[first][0] : pieces[last + 1][1]]) <= size
        ):
            last += 1
        chunks.append((pieces[first][0], pieces[last][1]))
        if last + 1 == len(pieces):
            break
        following = last + 1
        while (
            following - 1 > first
            and length(text[pieces[following - 1][0] : pieces[last][1]]) <= overlap
        ):
            following -= 1
        first = following
    return chunks


@dataclass(frozen=True)
class Chunker:
    """Cuts a document body into passages that the embedding model reads whole.

    `length` measures `size` and `overlap`; `max_tokens` is the model's limit in word
    pieces, measured by `count_tokens`, and no passage goes past it.
    """

    size: int
    overlap: int
    length: Length
    count_tokens: Length
    max_tokens: int

    def __call__(
        self, text: str, start: int = 0, end: int | None = None, *, furniture: bool = False
    ) -> list[Span]:
        """Passages of `text[start:end]`; page furniture (see `boilerplate`) is in none of
        them, unless `furniture` is set: then every sentence is kept."""
        sentences = split_sentences(text, start, end)
        spans = []
        for run in [sentences] if furniture else _content_runs(text, sentences):
            spans += self._chunk(text, run)
        return spans

    def _chunk(self, text: str, sentences: list[Span]) -> list[Span]:
        spans = []
        for span in chunk_spans(text, sentences, self.size, self.overlap, self.length):
            if self.count_tokens(text[span[0] : span[1]]) <= self.max_tokens:
                spans.append(span)
                continue
            inside = [s for s in sentences if span[0] <= s[0] and s[1] <= span[1]] or [span]
            spans += chunk_spans(text, inside, self.max_tokens, 0, self.count_tokens)
        return spans


def _content_runs(text: str, sentences: list[Span]) -> list[list[Span]]:
    """Runs of consecutive sentences that are not boilerplate; boilerplate separates them."""
    runs: list[list[Span]] = [[]]
    for line in _lines(text, sentences):
        caption = is_caption([text[a:b] for a, b in line])
        for start, end in line:
            if caption or is_boilerplate(text[start:end]):
                runs.append([])
            else:
                runs[-1].append((start, end))
    return [run for run in runs if run]


def _lines(text: str, sentences: list[Span]) -> list[list[Span]]:
    """The sentences grouped into lines: a sentence joins the one before it unless a line
    break lies between them."""
    lines: list[list[Span]] = []
    for start, end in sentences:
        if lines and "\n" not in text[lines[-1][-1][1] : start]:
            lines[-1].append((start, end))
        else:
            lines.append([(start, end)])
    return lines


def _block_widths(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Each block of lines (text between blank lines): where it starts, and its longest
    line, which is about the width a hard-wrapped paragraph was wrapped at."""
    bounds = [start] + [m.end() for m in _BLANK_LINE.finditer(text, start, end)] + [end]
    return [
        (a, max((len(line.strip()) for line in text[a:b].split("\n")), default=0))
        for a, b in zip(bounds, bounds[1:])
    ]


def _line_ends_sentence(text: str, line_end: int, next_start: int, width: int = 0) -> bool:
    """Whether a single line break ends a sentence rather than wrapping one.

    `width` is the longest line of the block: a line without closing punctuation that
    comes near it is a wrapped line of a paragraph (a PDF's text layer, hard-wrapped text),
    even when the next line starts with a name; a short one is a line of its own.
    """
    before = text[:line_end].rstrip()
    following = text[next_start : next_start + 4]
    if not before or not following:
        return True
    if before[-1] == "." and _is_abbreviation(before):  # "led by Dr." / "Ilse Marheim"
        return False
    if (
        _LIST_ITEM.match(following)
        or before[-1] in ".!?…:;"
        or before.endswith(("»", "”", '."', ".'"))
    ):
        return True
    if following[0].islower() or following[0] in "(,;":
        return False
    line = before[before.rfind("\n") + 1 :].strip()
    if before[-1].isalnum() and len(line) >= max(_WRAP_MIN, _WRAP_SHARE * width):
        return False
    last_word = before.rsplit(None, 1)[-1].casefold()
    return before[-1] not in ",-–—" and last_word not in _CONTINUES


def _is_abbreviation(before: str) -> bool:
    """Whether the text before a period ends with an abbreviation ("Dr") or an initial."""
    word = before[:-1].rsplit(None, 1)[-1].lstrip(_OPENERS) if before[:-1].strip() else ""
    return (len(word) == 1 and word.isupper()) or word.casefold() in _ABBREVIATIONS


def _period_ends_sentence(text: str, mark: int, after: int) -> bool:
    rest = text[after : after + 40].lstrip().lstrip(_OPENERS)
    if not rest or not (rest[0].isupper() or rest[0].isdigit()):
        return False
    if text[mark] != ".":
        return True
    word = text[:mark].rsplit(None, 1)[-1].lstrip(_OPENERS) if text[:mark].strip() else ""
    is_initial = len(word) == 1 and word.isupper()
    return not is_initial and word.casefold() not in _ABBREVIATIONS


def _split_long(text: str, start: int, end: int, size: int, length: Length) -> list[Span]:
    """Cut a span longer than `size` at word boundaries into pieces that fit."""
    pieces = []
    while length(text[start:end]) > size:
        bounds = [m.start() for m in re.finditer(r"\s+", text[start:end])]
        low, high = 0, len(bounds) - 1  # binary search for the last boundary that fits
        while low <= high:
            mid = (low + high) // 2
            if length(text[start : start + bounds[mid]]) <= size:
                low = mid + 1
            else:
                high = mid - 1
        cut = (
            start + bounds[high]
            if high >= 0 and bounds[high] > 0
            else _hard_cut(text, start, end, size, length)
        )
        pieces.append((start, cut))
        start, _ = _strip(text, cut, end)
    pieces.append((start, end))
    return pieces


def _hard_cut(text: str, start: int, end: int, size: int, length: Length) -> int:
    """A single word longer than `size`: cut it inside, as late as fits (at least 1 char)."""
    low, high = start + 1, end
    while low < high:
        mid = (low + high + 1) // 2
        if length(text[start:mid]) <= size:
            low = mid
        else:
            high = mid - 1
    return low


def _strip(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
