from __future__ import annotations

import pytest

from qa.index.lexical import Lexical, split_compounds, terms

POSTS = [
    "Marching for the planet today with thousands of others #ClimateWeek",
    "Ask @CityCouncilNY why the subway station is still closed",
    "The weather in the city is mild this spring, a climate report says",
]


@pytest.mark.parametrize(
    ("query", "post"),
    [
        ("#climateweek", 0),
        ("ClimateWeek", 0),
        ("what happened in climate week", 0),
        ("@citycouncilny", 1),
        ("CityCouncilNY", 1),
        ("what does the city council say about the subway", 1),
    ],
)
def test_hashtags_and_handles_match_as_people_type_them(query, post):
    scores = Lexical.build(POSTS).scores(query)
    assert scores.argmax() == post and scores[post] > 0


def test_run_together_words_are_read_whole_and_by_their_parts():
    assert split_compounds("#ClimateWeek at @CityCouncilNY") == (
        "#ClimateWeek Climate Week at @CityCouncilNY City Council NY"
    )
    assert (
        split_compounds("climate_week NYCouncil")
        == "climate_week climate week NYCouncil NY Council"
    )
    # ordinary words, acronyms and their plurals stay as they are
    assert split_compounds("The CDs of NASA, Paris and GHz") == "The CDs of NASA, Paris and GHz"


@pytest.mark.parametrize(
    "text",
    [
        "Which Kazakh city hosted the 2024 Collective Security Council session?",
        "What isn't being addressed by the #ClimateWeek rally of @CityCouncilNY?",
        "Ünïcode café_bar naïve résumé: 3.5% of 1,200 (a) I x",
        "",
        "the and of",
    ],
)
def test_question_terms_are_what_bm25s_makes_of_the_text(text):
    import bm25s
    import Stemmer

    made = bm25s.tokenize(
        [split_compounds(text)],
        stopwords="en",
        stemmer=Stemmer.Stemmer("english"),
        return_ids=False,
        show_progress=False,
    )[0]
    assert terms(text) == tuple(made)
