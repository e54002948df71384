from __future__ import annotations

import pytest

from qa.index.lexical import terms
from qa.search.answers import holder, names_holder
from qa.search.context import (
    asked_role,
    asks_present,
    in_context,
    leans_on_history,
    named_dates,
    names_something,
    with_years,
)
from qa.search.query import Query, SearchParams


def test_named_dates_are_partial_iso_dates():
    assert named_dates("Which city hosted the 2024 session?") == ("2024",)
    assert named_dates("What was signed in November 2024 and on 2020-12-02?") == (
        "2020-12-02",
        "2024-11",
    )
    assert named_dates("How many of the 300 delegates came?") == ()
    # A day with an ordinal, before or after the month, still gives the month.
    assert named_dates("Who spoke on March 25th, 2015?") == ("2015-03",)
    assert named_dates("What happened on the 28th of November 2024?") == ("2024-11",)


def test_present_questions_about_a_role():
    assert asks_present("Who is the Secretary-General of the CSTO?")
    assert not asks_present("Who was the Secretary-General in 2020?")
    assert not asks_present("Who is the Secretary-General in 2020?")
    assert asks_present("Who is Secretary-General of the CSTO now?")
    # Present tense about an event, not a role: the best passage stays first.
    assert not asks_present("Who is being exposed?")
    assert not asks_present("What is given to the troops?")
    # Words typed as a search that name the present ask about it too; a question that says
    # "now" elsewhere in its sentence does not, nor do search words that name no time.
    assert asks_present("secretary general csto now")
    assert asks_present("current CSTO secretary general")
    assert not asks_present("secretary general csto")
    assert not asks_present("secretary general csto 2020 now")
    assert not asks_present("Where does the Rhine flow now?")
    assert not asks_present("and now")  # leans on an earlier question, as "And now?" does


def test_the_role_a_who_question_asks_the_holder_of():
    assert asked_role("Who was the Secretary-General of the CSTO in 2020?") == (
        "Secretary-General",
        "CSTO",
    )
    assert asked_role("Who is the CSTO Secretary General?") == ("CSTO Secretary General", None)
    assert asked_role("And in 2020?", ["Who was the president of Kyrgyzstan?"]) == (
        "president",
        "Kyrgyzstan",
    )
    # Held the post of, served as: the same question in other words.
    held = "Who held the post of Secretary-General of the CSTO in 2020?"
    assert asked_role(held) == ("Secretary-General", "CSTO")
    assert asked_role("Who served as president of Kyrgyzstan?") == ("president", "Kyrgyzstan")
    assert asked_role("Who served in the army?") is None
    # A question ending on a preposition asks for its object, not for a role's holder.
    assert asked_role("Who was the interview with?") is None
    assert asked_role("Who chaired the 2020 videoconference?") is None
    assert asked_role("And in 2020?") is None


def test_a_holder_is_a_name_right_after_the_role_of_what_the_question_says():
    question = "Who was the Secretary-General of the CSTO in 2020?"
    zas = "... as well as CSTO Secretary General Stanislav Zas."
    assert names_holder(zas, "Secretary-General", "CSTO", question)
    assert not names_holder(zas, "Secretary-General", "UN", question)  # another's
    current = "Currently, the Secretary-General is Imangali Tasmagambetov."
    assert names_holder(current, "Secretary-General")
    kyrgyzstan = "Who was the president of Kyrgyzstan in 2020?"
    assert names_holder("acting President of Kyrgyzstan Talant Mamytov", "president", "Kyrgyzstan")
    # The president of another country is no answer.
    listed = "attended by the President of Belarus, Alexander Lukashenko, and others"
    assert not names_holder(listed, "president", "Kyrgyzstan", kyrgyzstan)
    assert names_holder(listed, "president", "Belarus", "Who was the president of Belarus?")
    # A role named with no one holding it; a name the question itself gives.
    assert not names_holder(
        "A Special Representative of CSTO Secretary General on Peace.", "General"
    )
    assert not names_holder(zas, "Secretary-General", "CSTO", "Who was Stanislav Zas?")


@pytest.mark.parametrize(
    "question",
    [
        "And in 2023?",
        "Who chaired it?",
        "What did they sign?",
        "Who else attended?",
        "Which ones?",
        "How many?",
        "How many in 2024?",
        "Tell me more.",
        "And the Secretary-General?",
        "What about Belarus?",
        "For which area?",
        "Who held the post in 2020?",
    ],
)
def test_elliptical_follow_ups_lean_on_the_question_before(question):
    assert leans_on_history(question)


def test_a_follow_up_naming_nothing_of_its_own_is_searched_in_context_alone():
    # "Which ones?" searched as asked would find any passage with "one" in it.
    query = Query.read("Which ones?", history=["How many documents were signed in Astana?"])
    assert query.searched == "many documents signed astana Which ones?"
    assert query.asked is None
    assert not names_something("How many in 2024?") and names_something("Who chaired it?")


def test_a_question_that_stands_alone_is_searched_alone():
    question = "Which countries originally signed the Collective Security Treaty?"
    assert not leans_on_history(question)
    assert not leans_on_history("In which year was the Collective Security Treaty signed?")
    assert not leans_on_history("Who held the post of Secretary-General in 2020?")
    assert not leans_on_history("What is the post-independence school system called?")
    assert in_context(question, ["Who chaired the 2020 videoconference?"]) == question


def test_a_follow_up_naming_a_date_replaces_the_earlier_date():
    searched = in_context("And in 2023?", ["Which city hosted the 2024 session?"])
    assert searched == "city hosted session And in 2023?"
    assert in_context("And in 2023?", []) == "And in 2023?"
    assert in_context("And in 2023?", "Which city hosted the 2024 session?") == searched


def test_a_follow_up_about_the_present_drops_the_earlier_date():
    earlier = ["Who was the CSTO Secretary General in 2020?"]
    assert in_context("And who is it now?", earlier) == "csto secretary general And who is it now?"
    assert asks_present("And who is it now?")
    assert asks_present("And now?", earlier) and not asks_present("And now?")
    assert not asks_present("And in 2024?", earlier)


def test_a_follow_up_is_searched_in_context_and_as_asked():
    query = Query.read("Who chaired it?", history=["What did the leaders discuss in 2020?"])
    assert query.searched == "leaders discuss 2020 Who chaired it?"
    assert query.terms == terms(query.searched)
    assert query.asked is not None and query.asked.terms == terms("Who chaired it?")
    assert query.asked.dates == query.dates == ("2020",)
    alone = Query.read("Who chaired the 2020 session?", history=["Which city hosted it?"])
    assert alone.asked is None and alone.searched == alone.text


def _first_rank(result, date: str) -> int:
    return next(rank for rank, p in enumerate(result.passages) if p.date.startswith(date))


def test_a_year_in_the_question_moves_the_article_of_that_year_up(engine):
    from qa import Engine
    from qa.search.query import SearchParams

    question = "Which city hosted the 2024 session?"
    indifferent = Engine(
        engine.corpus_dir, engine.index_dir, build_if_missing=False, params=SearchParams(dated=0)
    )
    before = indifferent.answer(question, k=5)
    after = engine.answer(question, k=5)
    assert _first_rank(after, "2024") < _first_rank(before, "2024")
    assert after.passages[0].date.startswith("2024")


def test_a_year_the_article_calls_next_year_counts_as_named(engine):
    # The 2024 reports say "Next year, the presidency of the CSTO will pass to the Kyrgyz
    # Republic."; no article is dated 2025.
    question = "Which country holds the CSTO presidency in 2025?"
    result = engine.answer(question, k=5)
    assert "Kyrgyz Republic" in result.text and "next year" in result.text.lower()
    assert result.found
    # A follow-up carries the year; an explicit year in a sentence is matched as before.
    earlier = ["Which country chaired the CSTO in 2024?"]
    assert "Kyrgyz Republic" in engine.answer("And in 2025?", k=5, history=earlier).text
    assert "plans for 2025" in engine.answer("What did Japarov plan for 2025?", k=5).text


@pytest.mark.parametrize(
    ("question", "history", "read"),
    [
        ("And the year before?", ["Where was the 2024 session held?"], "And in 2023?"),
        (
            "What about two years later?",
            ["Who spoke in 2020?", "Who chaired it?"],
            "What about in 2022?",
        ),
        ("And the next year?", ["Who chaired in November 2023?"], "And in 2024?"),
        ("And in the year after?", ["Who chaired in 2023?"], "And in 2024?"),
        # Each earlier question's own relative year is read first.
        (
            "And the year after that?",
            ["Who chaired in 2021?", "And the year before?"],
            "And in 2021?",
        ),
        ("And the previous year?", [], "And the previous year?"),  # no year to read it by
        ("Who will chair it next year?", ["Who chaired in 2024?"], "Who will chair it next year?"),
    ],
)
def test_a_year_named_relative_to_the_conversation_is_written_out(question, history, read):
    assert with_years(question, history) == read


def test_a_role_asked_about_years_before_is_the_holder_of_that_year(engine):
    earlier = ["Who was the CSTO Secretary General in 2024?"]
    result = engine.answer("Who was the Secretary General four years before?", history=earlier)
    assert result.exact == "Stanislav Zas"


def test_a_follow_up_asking_about_the_year_before_finds_that_year(engine):
    result = engine.answer(
        "And the year before?", k=3, history=["Where was the 2024 session held?"]
    )
    assert result.passages[0].date.startswith("2023")


def test_a_date_that_is_no_date_is_no_preference(engine):
    assert engine.answer("What happened on 2024-13-45?", k=2, history="And then?").passages


def test_a_present_question_says_as_of_the_newest_article(engine):
    result = engine.answer("Who is the Secretary-General of the CSTO?", k=5)
    assert result.as_of == result.passages[0].date == "2024-11-28"
    # Of two passages of that article, the plainer sentence answers.
    assert " ".join(result.text.split()) == (
        "Currently, the Secretary-General is Imangali Tasmagambetov."
    )
    assert engine.answer("Who was the Secretary-General in 2020?", k=5).as_of is None


def test_a_plainer_sentence_does_not_displace_a_clearly_better_passage_of_its_date(engine):
    # Two passages of the newest article hold names; the one naming Tajikistan's president
    # leads by more than PRESENT_EQUALS, so the shorter sentence of the other does not win.
    result = engine.answer("Who is the President of Tajikistan?", k=5)
    assert result.as_of == "2024-11-28"
    assert "Emomali Rahmon" in result.text


def test_the_answer_to_a_present_question_does_not_depend_on_k(engine):
    question = "Who is the Secretary-General of the CSTO?"
    answers = [engine.answer(question, k=k) for k in (1, 2, 5)]
    assert {(a.text, a.source, a.as_of) for a in answers} == {
        (answers[-1].text, answers[-1].source, "2024-11-28")
    }


def test_a_follow_up_with_history_answers_differently_from_the_same_words_alone(engine):
    follow_up = "What was it called?"
    alone = engine.answer(follow_up, k=3)
    history = ["What new position did Tokayev propose in 2020?"]
    after = engine.answer(follow_up, k=3, history=history)
    assert after.text != alone.text
    assert "Special Representative of CSTO Secretary General" in after.text


def _engine(engine, **params):
    from qa import Engine

    return Engine(
        engine.corpus_dir, engine.index_dir, build_if_missing=False, params=SearchParams(**params)
    )


def test_a_follow_up_keeps_its_own_words_beside_the_earlier_question(engine):
    # The earlier question's words alone pull the article's lead first; the follow-up's
    # own "chaired", searched beside them, finds the chair.
    history = ["What did the CSTO leaders discuss at the December 2020 videoconference?"]
    after = engine.answer("Who chaired it?", k=3, history=history)
    assert "Vladimir Putin, who chaired the session" in after.text
    in_context_only = _engine(engine, asked=0).answer("Who chaired it?", k=3, history=history)
    assert "who chaired the session" not in in_context_only.text


def test_a_follow_ups_own_words_choose_its_answer_sentence(engine):
    # The earlier question's words ("joined", "1993") find the treaty's passage; the
    # follow-up's own ("how many members", "now") choose the sentence in it.
    history = ["Which countries joined the Collective Security Treaty in 1993?"]
    after = engine.answer("How many members does it have now?", k=3, history=history)
    assert "six members" in after.text
    assert "1993" not in after.text


def test_a_follow_up_that_names_nothing_answers_about_the_earlier_subject(engine):
    history = ["Which documents were adopted at the 2020 meeting?"]
    after = engine.answer("How many in 2024?", k=3, history=history)
    assert "14 documents" in after.text
    history = ["How many documents were signed at the Astana summit?"]
    after = engine.answer("Which ones?", k=3, history=history)
    assert "Declaration of the Collective Security Council" in after.passages[0].text


def test_a_follow_up_about_the_present_answers_with_the_newest_article(engine):
    history = ["Who was the CSTO Secretary General in 2020?"]
    for follow_up in ["And who is it now?", "And now?", "What about today?"]:
        after = engine.answer(follow_up, k=3, history=history)
        assert "Imangali Tasmagambetov" in after.text and after.as_of == "2024-11-28"


def test_a_question_about_who_held_a_role_is_answered_by_the_passage_naming_the_holder(engine):
    # The passage on a new position "of CSTO Secretary General" scores a little higher than
    # the one naming the Secretary General among the 2020 videoconference's attendees.
    for question, history in [
        ("Who was the Secretary-General of the CSTO in 2020?", []),
        ("And in 2020?", ["Who is the Secretary-General of the CSTO?"]),
        ("Who held the post in 2020?", ["Who is the Secretary-General of the CSTO?"]),
    ]:
        assert "Stanislav Zas" in engine.answer(question, k=3, history=history).text
    # A list of presidents in a 2024 article does not displace the 2020 one.
    answer = engine.answer("Who was the president of Kyrgyzstan in 2020?", k=3)
    assert "Talant Mamytov" in answer.text
    assert engine.answer("Who served as president of Kyrgyzstan in 2020?").exact == "Talant Mamytov"
    # Asked again of 2020 after 2024: the holder named in an article of the year asked.
    history = ["Who was the president of Kyrgyzstan in 2024?"]
    assert engine.answer("And in 2020?", k=3, history=history).exact == "Talant Mamytov"


def test_the_holder_of_a_role_is_the_answer_words(engine):
    answer = engine.answer("Who was the Secretary-General of the CSTO in 2020?", k=3)
    assert answer.exact == "Stanislav Zas"
    offset = answer.exact_start - answer.start
    assert answer.text[offset : offset + len(answer.exact)] == answer.exact
    assert answer.exact_end - answer.exact_start == len(answer.exact)
    assert holder("the quarterback Peyton Manning's season", "quarterback") == (16, 30)


def test_a_follow_up_opening_with_and_continues_the_earlier_question(engine):
    history = ["Who attended the 2020 CSTO videoconference?"]
    after = engine.answer("And the Secretary-General?", k=3, history=history)
    assert "Stanislav Zas" in after.text


def test_a_follow_up_prefers_the_article_that_answered_the_earlier_question(engine):
    earlier = "When was the Collective Security Treaty signed?"
    source = engine.answer(earlier, k=1).source
    after = engine.answer("Where was it signed?", k=3, history=[earlier])
    assert after.source == source and "Tashkent" in after.text
    without = _engine(engine, topic=0).answer("Where was it signed?", k=3, history=[earlier])
    assert without.source != source


def test_and_about_x_asks_the_earlier_question_of_x_instead(engine):
    earlier = "What did the Declaration say about the Palestinian-Israeli conflict?"
    assert (
        in_context("And about Afghanistan?", [earlier]) == "declaration say And about Afghanistan?"
    )
    # Only what the earlier question was about is replaced, up to the next preposition.
    assert in_context(
        "How about cybersecurity?", ["What did Tokayev propose on drug trafficking in Minsk?"]
    ) == ("tokayev propose minsk How about cybersecurity?")
    after = engine.answer("And about Afghanistan?", k=3, history=[earlier])
    assert "Afghanistan as a unified and peaceful state" in after.text


def test_a_follow_up_that_says_enough_itself_is_answered_by_its_own_words(engine):
    # "he" is the earlier answer's subject (Japarov); the earlier question's words ("chair",
    # "2025") find the passage before the one that says what he announced.
    earlier = "Who will chair the CSTO in 2025?"
    after = engine.answer("What conference did he announce?", k=3, history=[earlier])
    assert "International Cybersecurity Conference" in after.text


@pytest.mark.parametrize(
    ("earlier", "question"),
    [
        ("Which city hosted the 2024 session?", "What budget documents were adopted in 2020?"),
        ("What is the primary goal of the CSTO?", "Who chaired the 2020 videoconference?"),
    ],
)
def test_a_question_on_another_subject_keeps_its_answer(engine, earlier, question):
    alone = engine.answer(question, k=3)
    after = engine.answer(question, k=3, history=[earlier])
    assert (after.text, after.source) == (alone.text, alone.source)
