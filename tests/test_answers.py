from __future__ import annotations

import pytest

from qa.search.answers import Kind, anchored, counts, expected, holds, spans


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When was the Collective Security Treaty signed?", Kind.DATE),
        ("In what year did the war end?", Kind.DATE),
        ("How many member states does the CSTO have?", Kind.NUMBER),
        ("What percentage of voters agreed?", Kind.NUMBER),
        ("Who chaired the 2020 videoconference?", Kind.PERSON),
        ("Where was the treaty signed?", Kind.PLACE),
        ("Which city hosted the 2024 session?", Kind.PLACE),
        ("Which Kazakh city hosted the 2024 session?", Kind.PLACE),
        ("In which U.S. state is it?", Kind.PLACE),
        ("What is the state of the economy?", None),
        ("What is the primary goal of the CSTO?", None),
        ("What is the CSTO?", Kind.DEFINITION),
        ("Who was Frédéric Chopin?", Kind.DEFINITION),
        ("Who is the mayor of San Francisco?", Kind.PERSON),
    ],
)
def test_the_question_names_the_kind_of_its_answer(question, kind):
    assert expected(question) is kind


def _words(sentence: str, kind: Kind, question: str = "") -> list[str]:
    return [sentence[start:end] for start, end in spans(sentence, kind, question)]


def test_dates_and_numbers_are_found_with_their_offsets():
    sentence = "The treaty was signed on May 15, 1992, in Tashkent by six states."
    assert _words(sentence, Kind.DATE) == ["May 15, 1992"]
    assert _words("It grew by 12.5 percent to 3 million people.", Kind.NUMBER) == [
        "12.5 percent",
        "3 million",
    ]


@pytest.mark.parametrize(
    ("sentence", "words"),
    [
        ("Fourteen of the four hundreds voted.", ["Fourteen", "four hundreds"]),
        ("SIXTY-SIX delegates and twenty one guests", ["SIXTY-SIX", "twenty one"]),
        ("Someone wrote tenfold, often, and fourth.", []),  # number words inside others
        ("It took 3 dozen eggs and half.", ["3 dozen", "half"]),
    ],
)
def test_number_words_are_read_whole_in_any_case(sentence, words):
    assert _words(sentence, Kind.NUMBER) == words


def test_a_century_is_a_date_in_words_or_digits():
    sentence = "From the twentieth century to the 21st century and nineteen century."
    assert _words(sentence, Kind.DATE) == [
        "twentieth century",
        "21st century",
        "nineteen century",
    ]
    assert _words("a century of progress", Kind.DATE) == []


def test_words_the_question_names_are_not_its_answer():
    sentence = "Vladimir Putin, who chaired the session, thanked Kassym-Jomart Tokayev."
    assert _words(sentence, Kind.PERSON, "Did Tokayev chair it?") == ["Vladimir Putin"]
    assert _words("In 2020 and in 2023.", Kind.DATE, "What happened in 2020?") == ["2023"]


def test_a_capitalised_word_opening_a_sentence_is_not_a_name():
    assert _words("Voters outside the city refused.", Kind.PERSON) == []
    assert _words("He thanked God's servants.", Kind.PERSON) == ["God"]


def test_a_definition_says_what_the_named_thing_is():
    question = "What is the CSTO?"
    assert holds(
        "The CSTO (Collective Security Treaty Organization) is a pact.", Kind.DEFINITION, question
    )
    assert holds("They met at the CSTO, which was founded in 2002.", Kind.DEFINITION, question)
    assert not holds("The CSTO is governed by a council.", Kind.DEFINITION, question)
    assert not holds("The NATO is an alliance.", Kind.DEFINITION, question)


@pytest.mark.parametrize(
    ("question", "sentence", "counted"),
    [
        ("How many documents were signed?", "In total, 14 documents were signed.", True),
        ("How many Grammys has she won?", "She has won five Grammy Awards.", True),
        ("How many troops does the CSTO have?", "The CSTO held about 60 events.", False),
        ("How many times did they win?", "They won in 1990 and lost 3 finals.", False),
        ("How much did it cost?", "It cost $5 million in all.", True),  # counts nothing
        ("And how many in 2024?", "In total, 14 documents were signed.", True),  # names none
    ],
)
def test_a_number_answers_how_many_only_when_it_counts_what_is_asked(question, sentence, counted):
    (span,) = spans(sentence, Kind.NUMBER, question)[-1:]
    assert counts(sentence, span, question) is counted


def test_a_sentence_saying_where_as_the_question_asks_it_is_anchored():
    question = "Where was the 2023 summit held?"
    assert anchored("The session of the CSTO held in Minsk.", question)
    assert anchored("It was held last week in Minsk.", question)
    assert not anchored("The summit, presided over by Alexander Lukashenko, was held.", question)
    assert not anchored("The session held in Minsk.", "Who held the session?")
    assert not anchored("It is in Minsk.", "Where is it?")  # no word of its own


def test_where_is_answered_by_the_sentence_that_says_where(engine):
    # Both sentences hold names; the one saying "held in Minsk" answers.
    assert "held in Minsk" in engine.answer("Where was the 2023 summit held?", k=3).text


def test_no_exact_words_for_a_number_that_counts_something_else(engine):
    # The answer sentence's only number counts events, not troops.
    result = engine.answer("How many troops does the CSTO have?", k=3)
    assert "60 events" in result.text and result.exact is None


def test_a_question_asking_what_a_thing_is_is_answered_by_its_definition(engine):
    answer = engine.answer("What is the CSTO?", k=3)
    assert "is a regional intergovernmental organization" in answer.text


def test_exact_answer_words_stand_in_the_answer_at_their_offsets(engine):
    result = engine.answer("How many documents did the CSTO leaders sign?", k=3)
    assert result.exact == "14"
    document = engine.document(result.source)
    assert document.text[result.exact_start : result.exact_end] == result.exact
    assert result.text[result.exact_start - result.start : result.exact_end - result.start] == (
        result.exact
    )


def test_no_exact_words_for_a_question_of_no_known_kind(engine):
    result = engine.answer("What is the primary goal of the CSTO?", k=3)
    assert (result.exact, result.exact_start, result.exact_end) == (None, None, None)
