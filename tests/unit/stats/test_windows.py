"""Tests for pipelines.stats.windows (DOMAIN §3.2, §3.10, §4.11)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from pipelines.stats.windows import (
    ROLLING_WINDOW_DAYS,
    DateWindow,
    MetaPeriod,
    custom_window,
    iso_week_label,
    latest_date,
    meta_week,
    parse_metas,
    period_by_name,
    period_for,
    rolling_window,
    to_date,
    week_end,
    week_start,
    weekly_buckets,
)

METAS = {
    "Metas": [
        {"StartDate": "2024-06-11", "Name": "PostModernHorizons3"},
        {"StartDate": " 2024-08-26 ", "Name": "PostNaduGriefBan "},
    ]
}


# --------------------------------------------------------------------------- to_date


def test_to_date_variants() -> None:
    assert to_date(date(2024, 6, 30)) == date(2024, 6, 30)
    assert to_date(datetime(2024, 6, 30, 0, 0)) == date(2024, 6, 30)
    assert to_date(datetime(2024, 6, 30, 23, 59, 59)) == date(2024, 6, 30)
    assert to_date(" 2024-06-30 ") == date(2024, 6, 30)
    assert to_date("2024-06-30T00:00:00Z") == date(2024, 6, 30)
    # aware datetimes are converted to UTC first
    est = timezone(timedelta(hours=-5))
    assert to_date(datetime(2024, 6, 30, 22, 0, tzinfo=est)) == date(2024, 7, 1)
    with pytest.raises(ValueError):
        to_date("30/06/2024")
    with pytest.raises(TypeError):
        to_date(20240630)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- meta periods


def test_parse_metas() -> None:
    periods = parse_metas(METAS)
    assert periods == [
        MetaPeriod("PostModernHorizons3", date(2024, 6, 11), date(2024, 8, 26)),
        MetaPeriod("PostNaduGriefBan", date(2024, 8, 26), None),
    ]


def test_parse_metas_sorts_entries() -> None:
    reversed_doc = {"Metas": list(reversed(METAS["Metas"]))}
    assert parse_metas(reversed_doc) == parse_metas(METAS)


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"Metas": {}},
        {"Metas": [{"Name": "X"}]},
        {"Metas": [{"StartDate": "2024-13-01", "Name": "X"}]},
        {"Metas": [{"StartDate": "2024-01-01", "Name": " "}]},
        {"Metas": ["2024-01-01"]},
    ],
)
def test_parse_metas_rejects_bad_documents(doc: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        parse_metas(doc)


@pytest.mark.parametrize(
    ("when", "name"),
    [
        (date(2024, 6, 10), None),  # before the first period
        (date(2024, 6, 11), "PostModernHorizons3"),  # start inclusive
        (date(2024, 8, 25), "PostModernHorizons3"),
        (datetime(2024, 8, 25, 23, 59, 59), "PostModernHorizons3"),
        (date(2024, 8, 26), "PostNaduGriefBan"),  # next start exclusive for the first
        (datetime(2024, 8, 26, 0, 0), "PostNaduGriefBan"),
        (date(2026, 1, 1), "PostNaduGriefBan"),  # last one is open-ended
        ("2024-07-01", "PostModernHorizons3"),
    ],
)
def test_period_for(when: date | datetime | str, name: str | None) -> None:
    found = period_for(when, parse_metas(METAS))
    assert (found.name if found else None) == name


def test_period_for_duplicate_start_resolves_to_later_entry() -> None:
    doc = {
        "Metas": [
            {"StartDate": "2024-01-01", "Name": "Old"},
            {"StartDate": "2024-01-01", "Name": "New"},
        ]
    }
    periods = parse_metas(doc)
    found = period_for(date(2024, 1, 1), periods)
    assert found is not None and found.name == "New"


def test_meta_period_window() -> None:
    first, last = parse_metas(METAS)
    assert first.window() == DateWindow(date(2024, 6, 11), date(2024, 8, 25))
    assert last.window(date(2024, 9, 30)) == DateWindow(date(2024, 8, 26), date(2024, 9, 30))
    # latest before the start never gives an inverted window
    assert last.window(date(2024, 1, 1)) == DateWindow(date(2024, 8, 26), date(2024, 8, 26))
    with pytest.raises(ValueError):
        last.window()


def test_period_by_name() -> None:
    periods = parse_metas(METAS)
    found = period_by_name("PostModernHorizons3", periods)
    assert found is not None and found.start == date(2024, 6, 11)
    current = period_by_name("current", periods)
    assert current is not None and current.name == "PostNaduGriefBan"
    assert period_by_name("Nope", periods) is None
    assert period_by_name("current", []) is None


# --------------------------------------------------------------------------- rolling / custom


def test_rolling_window_from_latest_date() -> None:
    window = rolling_window(date(2024, 6, 30), 7)
    assert window == DateWindow(date(2024, 6, 24), date(2024, 6, 30))
    assert window.days == 7
    assert window.contains(date(2024, 6, 24)) and window.contains(date(2024, 6, 30))
    assert not window.contains(date(2024, 6, 23))
    assert not window.contains(date(2024, 7, 1))
    assert window.end_exclusive == date(2024, 7, 1)
    start, end = window  # unpacks as a (start, end) tuple
    assert (start, end) == (date(2024, 6, 24), date(2024, 6, 30))


def test_rolling_window_uses_data_date_not_today() -> None:
    dates: list[date | str] = [date(2023, 1, 5), datetime(2023, 3, 1, 18, 30), "2023-02-10"]
    latest = latest_date(dates)
    assert latest == date(2023, 3, 1)
    assert rolling_window(latest, 30) == DateWindow(date(2023, 1, 31), date(2023, 3, 1))
    assert latest_date([]) is None


@pytest.mark.parametrize("days", ROLLING_WINDOW_DAYS)
def test_rolling_windows_cover_exactly_n_days(days: int) -> None:
    window = rolling_window(datetime(2024, 3, 1, 0, 0), days)  # midnight latest keeps the day
    assert window.end == date(2024, 3, 1)
    assert window.days == days
    assert (window.end - window.start).days == days - 1


@pytest.mark.parametrize("days", [0, -7, True])
def test_rolling_window_rejects_bad_days(days: int) -> None:
    with pytest.raises(ValueError):
        rolling_window(date(2024, 1, 1), days)


def test_custom_window_end_inclusive_midnight() -> None:
    window = custom_window("2024-06-01", "2024-06-30T00:00:00")
    assert window == DateWindow(date(2024, 6, 1), date(2024, 6, 30))
    assert window.contains(datetime(2024, 6, 30, 23, 59, 59))
    assert window.contains(datetime(2024, 6, 1, 0, 0))
    assert not window.contains(datetime(2024, 7, 1, 0, 0))
    assert not window.contains(datetime(2024, 5, 31, 23, 59, tzinfo=UTC))
    assert window.end_exclusive == date(2024, 7, 1)
    assert window.days == 30


def test_custom_window_validation() -> None:
    assert custom_window(date(2024, 6, 1), date(2024, 6, 1)).days == 1
    with pytest.raises(ValueError):
        custom_window("2024-06-02", "2024-06-01")
    with pytest.raises(ValueError):
        custom_window("yesterday", "2024-06-01")


# --------------------------------------------------------------------------- weeks


def test_week_start_and_end() -> None:
    assert week_start(date(2024, 6, 30)) == date(2024, 6, 24)  # Sunday -> Monday before
    assert week_start(date(2024, 6, 24)) == date(2024, 6, 24)  # Monday -> itself
    assert week_start(datetime(2024, 6, 26, 23, 0)) == date(2024, 6, 24)
    assert week_end(date(2024, 6, 24)) == date(2024, 6, 30)
    assert week_end(date(2024, 6, 30)) == date(2024, 6, 30)


def test_iso_week_label() -> None:
    assert iso_week_label(date(2024, 6, 24)) == "2024-W26"
    assert iso_week_label(date(2024, 12, 30)) == "2025-W01"  # ISO year differs
    assert iso_week_label(date(2021, 1, 3)) == "2020-W53"


def test_weekly_buckets_monday_to_sunday_clipped() -> None:
    window = DateWindow(date(2024, 6, 5), date(2024, 6, 18))  # Wednesday .. Tuesday
    buckets = weekly_buckets(window)
    assert buckets == [
        DateWindow(date(2024, 6, 5), date(2024, 6, 9)),
        DateWindow(date(2024, 6, 10), date(2024, 6, 16)),
        DateWindow(date(2024, 6, 17), date(2024, 6, 18)),
    ]
    days = [b.start + timedelta(days=i) for b in buckets for i in range(b.days)]
    assert days == [window.start + timedelta(days=i) for i in range(window.days)]
    assert all(week_start(b.start) == week_start(b.end) for b in buckets)


def test_weekly_buckets_single_day() -> None:
    day = date(2024, 6, 30)
    assert weekly_buckets(DateWindow(day, day)) == [DateWindow(day, day)]


def test_meta_week_numbers() -> None:
    # meta starting on a Monday
    assert meta_week(date(2024, 8, 26), date(2024, 8, 26)) == 1
    assert meta_week(date(2024, 9, 1), date(2024, 8, 26)) == 1  # Sunday
    assert meta_week(date(2024, 9, 2), date(2024, 8, 26)) == 2
    # meta starting on a Tuesday: week 1 is partial (Mon 06-10 is the anchor)
    assert meta_week(date(2024, 6, 16), "2024-06-11") == 1
    assert meta_week(date(2024, 6, 17), "2024-06-11") == 2
    with pytest.raises(ValueError):
        meta_week(date(2024, 6, 10), "2024-06-11")
