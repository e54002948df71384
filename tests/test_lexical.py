from __future__ import annotations

import pytest

from qa.index.lexical import Lexical, split_compounds

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
