from __future__ import annotations

import pytest

from qa.search.context import asks_present, in_context, leans_on_history, named_dates


def test_named_dates_are_partial_iso_dates():
    assert named_dates("Which city hosted the 2024 session?") == ("2024",)
    assert named_dates("What was signed in November 2024 and on 2020-12-02?") == (
        "2020-12-02",
        "2024-11",
    )
    assert named_dates("How many of the 300 delegates came?") == ()


def test_present_questions_about_a_role():
    assert asks_present("Who is the Secretary-General of the CSTO?")
    assert not asks_present("Who was the Secretary-General in 2020?")
    assert not asks_present("Who is the Secretary-General in 2020?")


@pytest.mark.parametrize("question", ["And in 2023?", "Who chaired it?", "What did they sign?"])
def test_elliptical_follow_ups_lean_on_the_question_before(question):
    assert leans_on_history(question)


def test_a_question_that_stands_alone_is_searched_alone():
    question = "Which countries originally signed the Collective Security Treaty?"
    assert not leans_on_history(question)
    assert in_context(question, ["Who chaired the 2020 videoconference?"]) == question


def test_a_follow_up_naming_a_date_replaces_the_earlier_date():
    searched = in_context("And in 2023?", ["Which city hosted the 2024 session?"])
    assert searched == "Which city hosted the session? And in 2023?"
    assert in_context("And in 2023?", []) == "And in 2023?"
