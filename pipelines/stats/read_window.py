"""Windows of the statistics reads: standard keys and custom date ranges resolved to dates,
the errors readers raise, and helpers shared by the read modules (:mod:`pipelines.stats.store`
is the readers' one import point)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

import psycopg

from pipelines.core.vocabulary import EVENT_GROUPS, STANDARD_WINDOW_KEYS
from pipelines.stats.refresh import latest_generation
from pipelines.stats.window_stats import WindowSpec
from pipelines.stats.windows import DateWindow, custom_window, iso_week_label, week_start

__all__ = [
    "CUSTOM_WINDOW",
    "NotFound",
    "ResolvedWindow",
    "WindowArg",
    "check_group",
    "check_min",
    "generation_info",
    "resolve_window",
    "week_bucket",
    "window_weeks",
]

CUSTOM_WINDOW: Final = "custom"
#: A standard window key, or a custom inclusive date range.
WindowArg = str | DateWindow | tuple[date | str, date | str]

# Every standard-window read names its generation in the same statement as its rows: the
# given one, else the latest succeeded refresh. A refresh commits its rows and its
# 'succeeded' status together, so a statement never sees a half-written generation.


class NotFound(LookupError):
    """The requested format, window, archetype or card does not exist (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class ResolvedWindow(WindowSpec):
    """A :class:`WindowSpec` as a read resolved it: ``key`` is a standard key or ``"custom"``;
    ``generation`` the refresh generation the standard window belongs to (``None`` for custom
    windows)."""

    generation: int | None = None

    @classmethod
    def from_row(cls, fmt: str, key: str, row: Mapping[str, Any]) -> ResolvedWindow:
        """The window described by a ``stats_windows`` row joined into a query's result."""
        return cls(
            fmt,
            key,
            row["start_date"],
            row["end_date"],
            row["latest_date"],
            row["period_name"],
            row["generation"],
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description (``start``/``end`` inclusive)."""
        return {
            "key": self.key,
            "start": self.start,
            "end": self.end,
            "latest_date": self.latest,
            "period_name": self.period_name,
        }


# --------------------------------------------------------------------------- helpers


def check_group(event_group: str) -> str:
    """``event_group`` if it is known; ValueError otherwise."""
    if event_group not in EVENT_GROUPS:
        raise ValueError(f"unknown event group {event_group!r}; one of {sorted(EVENT_GROUPS)}")
    return event_group


def check_min(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _latest_date(conn: psycopg.Connection[Any], fmt: str) -> date:
    row = conn.execute(
        "SELECT max(event_date) FROM mv_archetype_daily WHERE format = %s", (fmt,)
    ).fetchone()
    if row is None or row[0] is None:
        raise NotFound(f"no data for format {fmt!r}")
    latest: date = row[0]
    return latest


def resolve_window(
    conn: psycopg.Connection[Any],
    fmt: str,
    window: WindowArg,
    generation: int | None = None,
) -> ResolvedWindow:
    """Dates of ``window`` for ``fmt``.

    A standard key is looked up in ``stats_windows`` of the latest succeeded generation (or
    ``generation``); a custom range is validated (``start <= end``) and kept as given.

    Raises:
        NotFound: unknown format, or a standard window the refresh did not produce (e.g.
            ``current`` for a format without meta periods, or no refresh yet).
        ValueError: an unknown window key or an invalid custom range.
    """
    if isinstance(window, str):
        if window not in STANDARD_WINDOW_KEYS:
            raise ValueError(
                f"unknown window {window!r}; one of {list(STANDARD_WINDOW_KEYS)} or a date range"
            )
        row = conn.execute(
            "SELECT generation, start_date, end_date, latest_date, period_name"
            "  FROM stats_windows"
            " WHERE generation = coalesce(%(generation)s::bigint,"
            "       (SELECT max(generation) FROM refresh_log WHERE status = 'succeeded'))"
            "   AND format = %(format)s AND window_key = %(key)s",
            {"generation": generation, "format": fmt, "key": window},
        ).fetchone()
        if row is None:
            raise NotFound(f"window {window!r} of format {fmt!r} is not available")
        gen, start, end, latest, period = row
        return ResolvedWindow(fmt, window, start, end, latest, period, gen)
    if isinstance(window, DateWindow):
        span = window
    elif isinstance(window, tuple) and len(window) == 2:
        span = custom_window(window[0], window[1])
    else:
        raise ValueError(f"window must be a key or a (start, end) range, got {window!r}")
    return ResolvedWindow(fmt, CUSTOM_WINDOW, span.start, span.end, _latest_date(conn, fmt))


def window_weeks(window: ResolvedWindow) -> tuple[date, date]:
    """Mondays of the first and last week touching the window (card usage is weekly)."""
    return week_start(window.start), week_start(window.end)


def generation_info(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    gen = latest_generation(conn)
    return {
        "generation": gen.generation if gen else None,
        "as_of": gen.finished_at if gen else None,
    }


def week_bucket(monday: date, window: ResolvedWindow) -> dict[str, Any]:
    return {
        "week_start": monday,
        "label": iso_week_label(monday),
        "start": max(monday, window.start),
        "end": min(monday + timedelta(days=6), window.end),
    }
