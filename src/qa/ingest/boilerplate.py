"""Recognising page furniture: sentences that are about the page, not the story.

Newsletter and "follow us" calls, comment and share counters, photo credits and "read also"
links are never passage text, so they can neither answer nor be cited. The patterns describe
the kinds of line in general; none names a particular site.
"""

from __future__ import annotations

import re

_NETWORKS = (
    r"twitter|x\.com|facebook|instagram|telegram|youtube|tiktok|linkedin|whatsapp|threads|"
    r"vk|vkontakte|rss|google news|newsletter|inbox|mailing list|push notifications|"
    r"our (?:website|site|app|channel|page|pages)"
)
# "Photo: official website…", "Photo credit: Akorda", "Image by…", "© Reuters"
_CREDITS = [
    r"^(?:photos?|images?|pictures?|video|illustration|credits?)\b\s*(?:credits?\s*)?"
    r"(?:by\b|[:©|/-])",
    r"\b(?:photo|image|picture) (?:credit|courtesy)\b",
    r"^©",
]
CAPTION_CHARS = 200  # a line this short that ends in a credit is a caption
_PATTERNS = [
    # "Sign up via the website or subscribe to our Twitter, Facebook…"
    rf"\b(?:subscribe|sign up|sign-up|follow|join|like|find)\b.{{0,80}}\b(?:{_NETWORKS})\b",
    # "Get The Times stories sent directly to you!", "…delivered to your inbox"
    r"\b(?:stories|news|articles|updates|headlines)\b.{0,40}\b(?:sent|delivered)\b.{0,20}"
    r"\b(?:directly|straight|right)?\s*to (?:you|your)\b",
    # "Comments (0)", "12 comments", "Share: 3", "Views 1,204"
    r"^(?:comments?|replies|shares?|likes?|views?|reactions?)\s*[:(]?\s*[\d,.]+\s*\)?\s*$",
    r"^[\d,.]+\s+(?:comments?|replies|shares?|likes?|views?)\s*$",
    *_CREDITS,
    # "Read also: …", "Related: …", "Click here to…", "Share this article", "Advertisement"
    r"^(?:read (?:also|more)|see also|related(?: articles?| news| stories)?)\b\s*[:»>-]?",
    r"^click here\b",
    r"^share (?:this|on)\b",
    r"^(?:advertisement|sponsored(?: content)?)$",
]
_BOILERPLATE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)
_CREDIT = re.compile("|".join(f"(?:{p})" for p in _CREDITS), re.IGNORECASE)


def is_boilerplate(sentence: str) -> bool:
    """Whether a sentence is page furniture rather than article text."""
    text = " ".join(sentence.split())
    return bool(text) and _BOILERPLATE.search(text) is not None


def is_credit(sentence: str) -> bool:
    """Whether a sentence credits a photo or image ("Photo credit: …", "© …")."""
    text = " ".join(sentence.split())
    return bool(text) and _CREDIT.search(text) is not None


def is_caption(line: list[str]) -> bool:
    """Whether the sentences of one line are a picture's caption: short, and ending in a
    credit ("During the talks. Photo credit: press service")."""
    return bool(line) and sum(map(len, line)) <= CAPTION_CHARS and is_credit(line[-1])
