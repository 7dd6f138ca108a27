"""Time windows: meta periods, rolling windows, custom ranges and weekly buckets (DOMAIN §3.2,
§3.10, §4.11).

Conventions used throughout:

* Every window is a range of **calendar dates** (UTC), and a :class:`DateWindow` is
  **inclusive at both ends**. ``DateWindow.end_exclusive`` gives the half-open form for SQL
  (``event_date >= start AND event_date < end_exclusive``). Datetimes are reduced to their UTC
  date first, so an end given as ``2024-06-30T00:00`` still includes every event of June 30.
* Meta periods (:class:`MetaPeriod`) follow ``metas.json``: start inclusive, the next period's
  start exclusive, the last period open-ended; dates before the first period belong to none.
* Rolling windows are measured back from the **latest event date in the data**, not from today,
  so a stale data set still yields a populated "last 7 days".
* Weeks run Monday to Sunday.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, NamedTuple

from pipelines.core.vocabulary import ROLLING_WINDOW_DAYS

__all__ = [
    "ROLLING_WINDOW_DAYS",
    "DateLike",
    "DateWindow",
    "MetaPeriod",
    "custom_window",
    "iso_week_label",
    "latest_date",
    "meta_week",
    "parse_metas",
    "period_by_name",
    "period_for",
    "rolling_window",
    "to_date",
    "week_end",
    "week_start",
    "weekly_buckets",
]


_ONE_DAY: Final = timedelta(days=1)

DateLike = date | datetime | str


def to_date(value: DateLike) -> date:
    """Reduce a date, datetime or ISO string to a calendar date (UTC).

    * ``date`` is returned unchanged;
    * an aware ``datetime`` is converted to UTC first, a naive one is taken as UTC;
    * a string may be ``YYYY-MM-DD`` or an ISO datetime (``2024-06-30T00:00:00Z``);
      surrounding whitespace is ignored.

    Raises:
        ValueError: for a string that is not an ISO date or datetime.
        TypeError: for any other type.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return to_date(datetime.fromisoformat(text))
        except ValueError as exc:
            raise ValueError(f"not an ISO date: {value!r}") from exc
    raise TypeError(f"expected a date, datetime or ISO string, got {type(value).__name__}")


class DateWindow(NamedTuple):
    """A range of calendar dates, inclusive at both ends (``start <= end``)."""

    start: date
    end: date

    @property
    def end_exclusive(self) -> date:
        """The day after ``end``: the exclusive bound for half-open comparisons."""
        return self.end + _ONE_DAY

    @property
    def days(self) -> int:
        """Number of calendar days covered (``1`` when ``start == end``)."""
        return (self.end - self.start).days + 1

    def contains(self, value: DateLike) -> bool:
        """True when the (UTC) date of ``value`` lies in the window, ends included."""
        d = to_date(value)
        return self.start <= d <= self.end


def _window(start: date, end: date) -> DateWindow:
    if start > end:
        raise ValueError(f"window start {start} is after its end {end}")
    return DateWindow(start, end)


def custom_window(start: DateLike, end: DateLike) -> DateWindow:
    """A user-chosen window ``[start, end]``, **end date inclusive**.

    Datetimes are reduced to their UTC date, so ``end="2024-06-30T00:00:00"`` covers all of
    June 30 (a midnight end never drops the last day).

    Raises:
        ValueError: when a bound cannot be parsed or ``start > end``.
    """
    return _window(to_date(start), to_date(end))


def rolling_window(latest: DateLike, days: int) -> DateWindow:
    """The last ``days`` calendar days ending on ``latest`` (inclusive): ``[latest − days + 1,
    latest]``.

    ``latest`` should be the latest event date present in the data (see :func:`latest_date`),
    not today's date.

    Raises:
        ValueError: when ``days < 1``.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a positive integer, got {days!r}")
    end = to_date(latest)
    return DateWindow(end - timedelta(days=days - 1), end)


def latest_date(values: Iterable[DateLike]) -> date | None:
    """The latest (UTC) date among ``values``; ``None`` for an empty iterable."""
    best: date | None = None
    for value in values:
        d = to_date(value)
        if best is None or d > best:
            best = d
    return best


# --------------------------------------------------------------------------- meta periods


@dataclass(frozen=True, slots=True)
class MetaPeriod:
    """One entry of ``metas.json``: ``[start, end)``; ``end`` is ``None`` for the last period."""

    name: str
    start: date
    end: date | None

    def contains(self, value: DateLike) -> bool:
        """True when the (UTC) date of ``value`` is on/after ``start`` and before ``end``."""
        d = to_date(value)
        return self.start <= d and (self.end is None or d < self.end)

    def window(self, latest: DateLike | None = None) -> DateWindow:
        """The period as an inclusive :class:`DateWindow`.

        A closed period ends the day before the next period starts. The open-ended (last)
        period ends on ``latest`` (the latest event date in the data; never before ``start``).

        Raises:
            ValueError: for the open-ended period when ``latest`` is not given.
        """
        if self.end is not None:
            return DateWindow(self.start, max(self.start, self.end - _ONE_DAY))
        if latest is None:
            raise ValueError(f"meta {self.name!r} is open-ended: pass the latest event date")
        return DateWindow(self.start, max(self.start, to_date(latest)))


def parse_metas(data: Mapping[str, Any]) -> list[MetaPeriod]:
    """Parse a ``metas.json`` document ``{"Metas": [{"StartDate": ..., "Name": ...}, ...]}``.

    Stray whitespace around values is ignored. Entries are sorted by start date (stable, so the
    file order breaks ties); each period ends where the next one starts and the last one is
    open-ended. Two entries with the same start date give the first an empty period, so a
    date resolves to the later entry, as in the reference ("last entry with StartDate ≤ date").

    Raises:
        ValueError: when the document does not have that shape or a date is invalid.
    """
    entries = data.get("Metas") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError('metas.json must be an object with a "Metas" list')
    parsed: list[tuple[date, str]] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ValueError(f"meta entry is not an object: {entry!r}")
        name = entry.get("Name")
        start = entry.get("StartDate")
        if not isinstance(name, str) or not name.strip() or not isinstance(start, str):
            raise ValueError(f"meta entry needs a Name and a StartDate string: {entry!r}")
        try:
            start_date = date.fromisoformat(start.strip())
        except ValueError as exc:
            raise ValueError(f"invalid StartDate in meta entry {entry!r}") from exc
        parsed.append((start_date, name.strip()))
    parsed.sort(key=lambda item: item[0])
    periods: list[MetaPeriod] = []
    for index, (start_date, name) in enumerate(parsed):
        end = parsed[index + 1][0] if index + 1 < len(parsed) else None
        periods.append(MetaPeriod(name=name, start=start_date, end=end))
    return periods


def period_for(value: DateLike, periods: Sequence[MetaPeriod]) -> MetaPeriod | None:
    """The meta period containing the (UTC) date of ``value``, or ``None`` (e.g. before the
    first period). When several contain it, the one with the latest start wins."""
    d = to_date(value)
    best: MetaPeriod | None = None
    for period in periods:
        if period.contains(d) and (best is None or period.start >= best.start):
            best = period
    return best


def period_by_name(name: str, periods: Sequence[MetaPeriod]) -> MetaPeriod | None:
    """The period called ``name`` (exact match after stripping whitespace), or ``None``.

    ``"current"`` (case-insensitive) names the last period, i.e. the one with the latest start.
    """
    wanted = name.strip()
    if wanted.lower() == "current":
        return max(periods, key=lambda p: p.start, default=None)
    for period in periods:
        if period.name == wanted:
            return period
    return None


# --------------------------------------------------------------------------- weeks


def week_start(value: DateLike) -> date:
    """The Monday on or before the (UTC) date of ``value``."""
    d = to_date(value)
    return d - timedelta(days=d.weekday())


def week_end(value: DateLike) -> date:
    """The Sunday on or after the (UTC) date of ``value``."""
    return week_start(value) + timedelta(days=6)


def iso_week_label(value: DateLike) -> str:
    """ISO-8601 week label of the date, e.g. ``"2024-W25"`` (ISO weeks start on Monday and
    the ISO year can differ from the calendar year around New Year)."""
    iso = to_date(value).isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def weekly_buckets(window: DateWindow) -> list[DateWindow]:
    """Split ``window`` into Monday–Sunday weeks, each clipped to the window.

    The first and last bucket can be partial weeks; every date of the window is in exactly
    one bucket. ``week_start(bucket.start)`` is the bucket's Monday key.
    """
    buckets: list[DateWindow] = []
    current = window.start
    while current <= window.end:
        end = min(week_end(current), window.end)
        buckets.append(DateWindow(current, end))
        current = end + _ONE_DAY
    return buckets


def meta_week(value: DateLike, meta_start: DateLike) -> int:
    """Week number inside a meta (DOMAIN §3.10): ``⌊(date − M) / 7 days⌋ + 1`` where ``M`` is
    the Monday on or before the meta's start. Week 1 is the (possibly partial) first week.

    Raises:
        ValueError: when the date is before the meta's start.
    """
    d = to_date(value)
    start = to_date(meta_start)
    if d < start:
        raise ValueError(f"{d} is before the meta start {start}")
    return (d - week_start(start)).days // 7 + 1
