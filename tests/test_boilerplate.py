from __future__ import annotations

import pytest

from qa.ingest.boilerplate import is_boilerplate, is_caption

FURNITURE = [
    "Get The Daily Courier stories sent directly to you!",
    "Sign up via the website or subscribe to our Twitter, Facebook and Telegram!",
    "Follow the Herald's official Instagram and Twitter pages to keep current on world news.",
    "Comments (0)",
    "14 comments",
    "Photo: press service of the ministry",
    "Photo credit: the ministry press service",
    "© Reuters",
    "Read also: Leaders meet in Minsk",
]
PROSE = [
    "Tokayev urged members to follow the UN Charter.",
    "Photos of the summit were published by the ministry.",
    "The share of trade rose by 14 percent.",
    "He said the stories were sent to the committee.",
]


@pytest.mark.parametrize("sentence", FURNITURE)
def test_page_furniture_is_recognised(sentence):
    assert is_boilerplate(sentence)


@pytest.mark.parametrize("sentence", PROSE)
def test_prose_is_not(sentence):
    assert not is_boilerplate(sentence)


def test_boilerplate_is_never_passage_text_nor_returned(engine):
    stored = engine.index
    for passage in stored.passages:
        text = stored.documents[passage.doc].text[passage.start : passage.end]
        assert "sent directly to you" not in text and "Comments (0)" not in text
        assert "Photo credit" not in text and "Follow Daryo" not in text
    result = engine.answer("How do I get The Astana Times stories sent directly to me?", k=50)
    assert all("stories sent directly" not in p.text for p in result.passages)
    assert "stories sent directly" not in result.text


def test_a_short_line_ending_in_a_photo_credit_is_a_caption():
    assert is_caption(["During the talks.", "Photo credit: press service"])
    assert not is_caption(["During the talks.", "He left early."])
    assert not is_caption(["A long sentence of the story itself. " * 8, "Photo: press service"])


def test_a_caption_is_in_no_passage(engine):
    stored = engine.index
    for passage in stored.passages:
        text = stored.documents[passage.doc].text[passage.start : passage.end]
        assert "During the videoconference." not in text
