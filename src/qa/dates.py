"""Dates, whole or partial: one parser for front matter, page metadata and date filters.

A date is kept as ISO text at the precision it was given: "2024", "2024-11" or "2024-11-28".
Timestamps ("2024-11-28T10:00:00Z", "2024-11-28 10:00+03:00") keep only their date as
written (the local date, not converted to UTC), and the basic form "20241128" is read too,
as are dates written out in English ("November 28, 2024", "28 Nov 2024", "November 2024")
and "2024/11/28". Forms whose order is ambiguous ("11/12/2024", "28.11.2024") are not.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

# Month names and their usual abbreviations, lower case, to the month's number.
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        1,
    )
    for name in names
}
MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))  # longest first, for a regex

_TIME = r"(?:[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_NAMED = rf"(?P<name>{MONTH_NAMES})\.?"
_FORMS = (
    re.compile(r"(?P<year>\d{4})"),
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})"),
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})" + _TIME),
    re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})" + _TIME.replace("[T ]", "T")),
    re.compile(r"(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})"),
    re.compile(rf"{_NAMED}\s+{_DAY},?\s+(?P<year>\d{{4}})", re.IGNORECASE),
    re.compile(rf"{_DAY}\s+{_NAMED},?\s+(?P<year>\d{{4}})", re.IGNORECASE),
    re.compile(rf"{_NAMED},?\s+(?P<year>\d{{4}})", re.IGNORECASE),
)
FORMS = "YYYY, YYYY-MM or YYYY-MM-DD (ISO), or written out: 28 November 2024, November 2024"


def iso_date(value: object) -> str:
    """`value` as an ISO date at the precision given: "2024", "2024-11" or "2024-11-28".

    Args:
        value: text such as "2024-11-28", "20241128", "2024-11-28T10:00:00Z" or
            "November 28, 2024", a year as a number, or a `datetime.date` /
            `datetime.datetime`.

    Raises:
        ValueError: `value` is not a date (the message names it).
    """
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    for form in _FORMS:
        match = form.fullmatch(text)
        if match:
            break
    else:
        raise ValueError(f"{text!r} is not a date; dates are {FORMS}")
    parts = {key: value for key, value in match.groupdict().items() if value is not None}
    year = int(parts["year"])
    month = MONTHS[parts["name"].lower()] if "name" in parts else _number(parts.get("month"))
    day = _number(parts.get("day"))
    try:
        dt.date(year, 1 if month is None else month, 1 if day is None else day)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a date ({error}); dates are {FORMS}") from None
    return "-".join(
        f"{part:0{width}d}" for part, width in ((year, 4), (month, 2), (day, 2)) if part is not None
    )


# A time named relative to when the text was written: "next year", "last month". Not after
# "the" ("the next year", "over the last month": a span of time, or the story's own time).
_RELATIVE = re.compile(r"(?<!\bthe )\b(?P<which>next|last) (?P<unit>year|month)\b", re.IGNORECASE)
# The same words in any case, looked for first: about five times faster on long texts.
_MAYBE_RELATIVE = re.compile(r"[NnLl][EeAa][XxSs][Tt] [YyMm][EeOo][AaNn]")


def spoken_dates(text: str, date: str | None) -> list[str]:
    """The dates `text` names relative to `date`, the day it was written (ISO, partial or
    None), each once in order of mention: "next year" in an article dated 2024-11-28 is
    "2025", "last month" "2024-10". A month needs a date that gives its month."""
    written = date_or_none(date)
    if written is None or not _MAYBE_RELATIVE.search(text) or not _RELATIVE.search(text):
        return []
    year, month = int(written[:4]), int(written[5:7]) if len(written) > 4 else None
    found = []
    for match in _RELATIVE.finditer(text):
        step = 1 if match["which"].lower() == "next" else -1
        if match["unit"].lower() == "year":
            found.append((year + step, None))
        elif month is not None:
            number = year * 12 + month - 1 + step
            found.append((number // 12, number % 12 + 1))
    return list(
        dict.fromkeys(
            f"{y:04d}" if m is None else f"{y:04d}-{m:02d}"
            for y, m in found
            if dt.MINYEAR <= y <= dt.MAXYEAR  # "next year" in an article of 9999 names none
        )
    )


def _number(digits: str | None) -> int | None:
    return None if digits is None else int(digits)


def date_or_none(value: object) -> str | None:
    """`iso_date(value)`, or None when `value` is empty or not a date."""
    if value is None or str(value).strip() == "":
        return None
    try:
        return iso_date(value)
    except ValueError:
        return None


def date_bounds(value: object) -> tuple[str, str]:
    """The first and last day a (partial) date stands for, as comparable ISO strings.

    "2024" is 2024-01-01 to 2024-12-31, "2024-02" is 2024-02-01 to 2024-02-29.

    Raises:
        ValueError: `value` is not a date.
    """
    date = iso_date(value)
    year = int(date[:4])
    if len(date) == 4:
        return f"{date}-01-01", f"{date}-12-31"
    if len(date) == 7:
        last = calendar.monthrange(year, int(date[5:7]))[1]
        return f"{date}-01", f"{date}-{last:02d}"
    return date, date


def date_range(
    date_from: object, date_to: object, names: tuple[str, str] = ("date_from", "date_to")
) -> tuple[str | None, str | None]:
    """A checked inclusive range: each end an ISO date or None (blank means open).

    Args:
        date_from, date_to: the ends as given.
        names: what the ends are called in messages ("From", "To" in a form).

    Raises:
        ValueError: an end is not a date, or the range is reversed.
    """
    ends = []
    for name, value in zip(names, (date_from, date_to)):
        if value is None or str(value).strip() == "":
            ends.append(None)
            continue
        try:
            ends.append(iso_date(value))
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    first, last = ends
    if first is not None and last is not None and date_bounds(first)[0] > date_bounds(last)[1]:
        raise ValueError(f"{names[0]} is after {names[1]} ({first} > {last}): swap them")
    return first, last
