from __future__ import annotations

import numpy as np
import pytest

from qa.dates import iso_date, spoken_dates
from qa.ingest.corpus import Document
from qa.search.filters import PassageFilter, SpokenDates, date_bounds, in_date_range


def _document(source: str, date: str | None) -> Document:
    return Document(source=source, title=source, text="", date=date)


DOCUMENTS = [
    _document("a.md", "2020-12-02"),
    _document("b.md", "2024"),
    _document("c.md", None),
    _document("d.md", "2024-11"),
]
OWNERS = np.array([0, 0, 1, 2, 3, 3])  # the document of each passage


def test_no_filter_is_none():
    assert PassageFilter(DOCUMENTS, OWNERS).mask() is None


@pytest.mark.parametrize(
    ("date_from", "date_to", "sources"),
    [
        ("2024", None, None),
        (None, "2020", None),
        ("2024-11-28", "2024-11-28", None),
        ("2021", "2023-12-31", None),
        (None, None, ["a.md", "c.md", "missing.md"]),
        ("2020", None, ["a.md", "c.md"]),
        (None, None, []),
    ],
)
def test_the_mask_agrees_with_the_rule_for_one_date(date_from, date_to, sources):
    mask = PassageFilter(DOCUMENTS, OWNERS).mask(date_from, date_to, sources)
    expected = [
        (sources is None or d.source in sources)
        and (date_from is None and date_to is None or in_date_range(d.date, date_from, date_to))
        for d in (DOCUMENTS[o] for o in OWNERS)
    ]
    assert mask.tolist() == expected


def test_partial_dates_stand_for_their_whole_span():
    assert date_bounds("2024") == ("2024-01-01", "2024-12-31")
    assert date_bounds("2024-11") == ("2024-11-01", "2024-11-30")
    assert date_bounds("2024-02") == ("2024-02-01", "2024-02-29")
    mask = PassageFilter(DOCUMENTS, OWNERS).mask("2024-11-28", "2024-11-28")
    assert mask.tolist() == [False, False, True, False, True, True]  # "2024" overlaps the day


def test_a_date_that_is_not_iso_is_refused():
    with pytest.raises(ValueError, match="ISO"):
        PassageFilter(DOCUMENTS, OWNERS).mask(date_from="28.11.2024")


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("2024-11-28T01:00:00+05:00", "2024-11-28"),  # the local date, as written
        ("November 28, 2024", "2024-11-28"),
        ("28 Nov. 2024", "2024-11-28"),
        ("Sept 3rd, 2024", "2024-09-03"),
        ("november 2024", "2024-11"),
        ("2024/2/3", "2024-02-03"),
    ],
)
def test_dates_written_out_are_read_at_their_precision(written, iso):
    assert iso_date(written) == iso


@pytest.mark.parametrize("written", ["28.11.2024", "11/12/2024", "2024-00", "February 30, 2024"])
def test_ambiguous_or_impossible_dates_are_refused(written):
    with pytest.raises(ValueError, match="is not a date"):
        iso_date(written)


@pytest.mark.parametrize(
    ("text", "written", "named"),
    [
        ("Next year, the presidency will pass to the Kyrgyz Republic.", "2024-11-28", ["2025"]),
        ("Output rose last year and will rise next year.", "2024", ["2023", "2025"]),
        ("Prices fell last month.", "2024-01-05", ["2023-12"]),
        ("Prices fell last month.", "2024", []),  # the article's month is not known
        ("Over the last year, and the next year too.", "2024-11-28", []),  # spans, not dates
        ("Next year, the presidency will pass.", None, []),  # an undated article
        ("Next year and last month.", "9999-12-31", ["9999-11"]),  # no year 10000
        ("Last year.", "0001-06-01", []),
    ],
)
def test_dates_named_relative_to_the_article_are_read_against_its_date(text, written, named):
    assert spoken_dates(text, written) == named


def test_sentences_naming_a_date_are_found_by_any_overlapping_date():
    spoken = SpokenDates([(4, "2025"), (9, "2023-12"), (4, "2023")])
    assert spoken.naming(["2025"]).tolist() == [4]
    assert spoken.naming(["2025-03"]).tolist() == [4]  # a month of the year named
    assert spoken.naming(["2023"]).tolist() == [4, 9]
    assert spoken.naming(["2024", "2024-13"]).tolist() == []
    assert SpokenDates().naming(["2025"]).tolist() == []
