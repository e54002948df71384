from __future__ import annotations

import pytest
from tests.conftest import CORPUS

from qa.ingest.chunking import Chunker, chunk_spans, shown_sentence, split_sentences
from qa.ingest.corpus import load_corpus
from qa.settings import Settings


def texts(text, spans):
    return [text[a:b] for a, b in spans]


def test_sentences_end_at_punctuation_but_not_after_abbreviations():
    text = "The council met on Dec. 2 in Astana. Mr. Zas spoke. J. Smith agreed! Did it work?"
    assert texts(text, split_sentences(text)) == [
        "The council met on Dec. 2 in Astana.",
        "Mr. Zas spoke.",
        "J. Smith agreed!",
        "Did it work?",
    ]


def test_hard_wrapped_lines_join_and_paragraphs_split():
    text = (
        "In total, the parties signed 14 documents, including the\n"
        "CSTO Interstate Program for the\nborder.\nSigned Documents\n- First item.\n\nLast one"
    )
    assert texts(text, split_sentences(text)) == [
        "In total, the parties signed 14 documents, including the\n"
        "CSTO Interstate Program for the\nborder.",
        "Signed Documents",
        "- First item.",
        "Last one",
    ]


def test_closing_quotes_stay_with_their_sentence():
    text = '"We did it." He said so. «Done,» Tokayev noted. Next'
    assert texts(text, split_sentences(text)) == [
        '"We did it."',
        "He said so.",
        "«Done,» Tokayev noted.",
        "Next",
    ]


def test_chunks_pack_whole_sentences_up_to_the_size():
    text = "One two three. Four five six. Seven eight nine."
    spans = chunk_spans(text, split_sentences(text), size=30)
    assert texts(text, spans) == ["One two three. Four five six.", "Seven eight nine."]


def test_overlap_repeats_the_last_whole_sentences():
    text = "Aaaa aaaa. Bbbb bbbb. Cccc cccc. Dddd dddd."
    spans = chunk_spans(text, split_sentences(text), size=21, overlap=10)
    assert texts(text, spans) == [
        "Aaaa aaaa. Bbbb bbbb.",
        "Bbbb bbbb. Cccc cccc.",
        "Cccc cccc. Dddd dddd.",
    ]


def test_a_sentence_longer_than_the_size_is_cut_at_word_boundaries():
    text = "Short one. " + " ".join(f"word{i}" for i in range(60)) + ". Tail."
    spans = chunk_spans(text, split_sentences(text), size=50)
    pieces = texts(text, spans)
    assert all(len(p) <= 50 for p in pieces)
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in pieces)
    words = " ".join(pieces).split()
    assert words == text.split()  # nothing lost, no word cut in two


def test_a_single_word_longer_than_the_size_is_cut_inside():
    text = "x" * 25
    assert texts(text, chunk_spans(text, split_sentences(text), size=10)) == [
        "x" * 10,
        "x" * 10,
        "x" * 5,
    ]


def test_every_passage_of_the_real_corpus_round_trips_and_keeps_sentences_whole(engine):
    documents = {d.source: d for d in load_corpus(CORPUS)[0]}
    stored = engine.index
    assert len(stored.passages) > len(documents)
    for passage in stored.passages:
        document = stored.documents[passage.doc]
        text = documents[document.source].text
        chunk = text[passage.start : passage.end]
        assert chunk == document.text[passage.start : passage.end]
        assert len(chunk) <= Settings().chunk_size
        sentences = split_sentences(text, document.body_start)
        for start, end in sentences:  # each sentence is inside the passage or outside it
            inside = passage.start <= start and end <= passage.end
            outside = end <= passage.start or start >= passage.end
            assert inside or outside, (passage.chunk_id, text[start:end])


def test_headline_is_not_passage_text(engine):
    stored = engine.index
    for number, document in enumerate(stored.documents):
        first = min(p.start for p in stored.passages if p.doc == number)
        assert first >= document.body_start
        if document.body_start:
            assert document.title in " ".join(document.text[: document.body_start].split())


@pytest.mark.parametrize("unit,size", [("tokens", 40), ("chars", 10_000)])
def test_no_passage_exceeds_the_model_limit(embedder, unit, size):
    text = " ".join(["The Collective Security Council met again in Astana."] * 80)
    length = embedder.count_tokens if unit == "tokens" else len
    chunk = Chunker(size, 0, length, embedder.count_tokens, embedder.max_tokens)
    spans = chunk(text)
    assert all(embedder.count_tokens(text[a:b]) <= min(embedder.max_tokens, size) for a, b in spans)
    assert " ".join(texts(text, spans)) == text


@pytest.mark.parametrize(
    ("post", "words", "signature"),
    [
        (
            "Nothing changes until Trump is out.— Alyssa Milano (@Alyssa_Milano) August 18, 2017",
            "Nothing changes until Trump is out.",
            "— Alyssa Milano (@Alyssa_Milano) August 18, 2017",
        ),
        (  # an initial in the name is no sentence's end
            "People do not like Ted.— Donald J. Trump (@realDonaldTrump) January 19, 2016",
            "People do not like Ted.",
            "— Donald J. Trump (@realDonaldTrump) January 19, 2016",
        ),
        (  # glued without a dash, after the post's last mark
            "Will be cheering from the couch. #manflu Kurt Fearnley (@kurtfearnley) July 23, 2014",
            "Will be cheering from the couch.",
            "#manflu Kurt Fearnley (@kurtfearnley) July 23, 2014",
        ),
    ],
)
def test_a_post_signature_glued_to_its_last_sentence_is_searched_apart_and_shown_with_it(
    post, words, signature
):
    text = f"An earlier sentence of the post. {post}"
    sentences = split_sentences(text)
    assert [text[a:b] for a, b in sentences] == [
        "An earlier sentence of the post.",
        words,
        signature,
    ]
    assert shown_sentence(text, sentences[1], sentences[2]) == (sentences[1][0], len(text))
    assert shown_sentence(text, sentences[0], sentences[1]) == sentences[0]  # not a signature


@pytest.mark.parametrize(
    "text",
    [
        "Thousands marched today.\nJane Roe (@janeroe) May 1, 2015",  # on a line of its own
        "Thousands marched today. Jane Roe (@janeroe) May 1, 2015",  # a sentence break before
    ],
)
def test_a_signature_the_splitting_always_kept_apart_is_shown_apart(text):
    sentences = split_sentences(text)
    assert [text[a:b] for a, b in sentences] == [
        "Thousands marched today.",
        "Jane Roe (@janeroe) May 1, 2015",
    ]
    assert shown_sentence(text, sentences[0], sentences[1]) == sentences[0]


def test_a_sentence_ending_with_a_colon_is_shown_with_what_it_introduces():
    text = "Three documents were signed, the most significant being:\n- The Declaration.\n- A plan."
    sentences = split_sentences(text)
    assert [text[a:b] for a, b in sentences][1] == "- The Declaration."
    assert shown_sentence(text, sentences[0], sentences[1]) == (0, sentences[1][1])
    assert shown_sentence(text, sentences[1], sentences[2]) == sentences[1]
    assert shown_sentence(text, sentences[0], None) == sentences[0]  # the passage's last


def test_a_sentence_that_only_mentions_a_handle_is_whole():
    text = "Ask @janeroe (@janeroe) about it. Pray for Bryce's family (@Pelicans) May 28, 2016"
    assert len(split_sentences(text)) == 2
