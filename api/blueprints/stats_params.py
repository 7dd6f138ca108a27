"""Query parameters of the metagame reads and the window they select.

Declared once here (each :class:`~api.params.Param` is both the validation and the OpenAPI
description) and used by the statistics, chart and page views.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from api.errors import ApiError
from api.params import Param, ParamGroup
from api.resources import resources
from pipelines.core.vocabulary import (
    CURRENT_WINDOW,
    DEFAULT_EVENT_GROUP,
    EVENT_GROUPS,
    STANDARD_WINDOW_KEYS,
)
from pipelines.stats.archetype_rows import BASES, DEFAULT_BASIS
from pipelines.stats.periods import load_periods
from pipelines.stats.store import (
    WindowArg,
)

MAX_RANGE_DAYS = 3660
PRESENCE_METRICS = ("decks", "players", "seats")
_SORT_FIELDS = (
    "share",
    "decks",
    "players",
    "seats",
    "win_rate",
    "shrunk_win_rate",
    "ci_lower",
    "wilson_lower",
    "coverage",
    "score",
    "archetype",
)
SORTS = tuple(s for name in _SORT_FIELDS for s in (name, f"-{name}"))

FORMAT = Param("format", description="format name as stored, e.g. Modern", location="path")
ARCHETYPE = Param(
    "name",
    description="archetype slug (e.g. mono-red-burn) or any spelling of its name",
    location="path",
)
CARD = Param("card", description="card name (canonical or as printed)", location="path")
PERIOD = ParamGroup(
    "period",
    "The window: `window` (a name; default last30), or `from` and `to` together (a custom "
    f"range, inclusive; `from` after `to` or longer than {MAX_RANGE_DAYS} days: 422). Sent "
    "as plain query parameters, e.g. `?from=2026-01-01&to=2026-01-31`.",
    together=("from", "to"),
    exclusive=(("window", "from"), ("window", "to")),
)
WINDOW = Param(
    "window",
    description="current, last7, last14, last30, last90, or a meta period name of the format "
    "(an unknown name: 404); exclusive with from/to",
    max_length=100,
    group=PERIOD,
)


def custom_range(group: ParamGroup) -> tuple[Param, Param]:
    """The ``from``/``to`` parameters of a custom window, in ``group``."""
    return (
        Param("from", "date", "first day of a custom window (inclusive, needs to)", group=group),
        Param("to", "date", "last day of a custom window (inclusive, needs from)", group=group),
    )


FROM, TO = custom_range(PERIOD)
EVENT = Param(
    "event",
    description="event group",
    default=DEFAULT_EVENT_GROUP,
    enum=tuple(sorted(EVENT_GROUPS)),
)
BASIS = Param(
    "basis",
    description="win-rate basis: matches (recorded rounds) or records (the published decks' "
    "standings records); see METHODOLOGY.md §4",
    default=DEFAULT_BASIS,
    enum=BASES,
)
PRESENCE = Param(
    "presence",
    description="presence metric for shares and ordering",
    default="decks",
    enum=PRESENCE_METRICS,
)
MIN_DECKS = Param(
    "min_decks", "integer", "hide archetypes with fewer decks", default=0, minimum=0,
    maximum=1_000_000,
)  # fmt: skip
MIN_SEATS = Param(
    "min_seats", "integer", "hide archetypes with fewer seats (matches played, a mirror twice)",
    default=0, minimum=0, maximum=1_000_000,
)  # fmt: skip
SORT = Param(
    "sort",
    description="ordering of the rows; '-' = descending (ties: presence order)",
    default="-share",
    enum=SORTS,
)
MIN_SHARE = Param(
    "min_share",
    "number",
    "presence share an archetype needs for its own row/column (others form 'Other')",
    default=0.02,
    minimum=0.0,
    maximum=1.0,
)
MAX_ARCHETYPES = Param(
    "max_archetypes", "integer", "cap on individual rows (the rest go to 'Other')", minimum=1,
    maximum=200,
)  # fmt: skip
BEST_DECKS = Param(
    "best_decks", "integer", "number of best decks listed", default=10, minimum=0, maximum=50
)
WINDOW_PARAMS = (WINDOW, FROM, TO, EVENT)
# 404: unknown format, archetype, card or window name; 422: a reversed or too long range.
WINDOW_ERRORS = (404, 422)


# --------------------------------------------------------------------------- windows


def _periods() -> dict[str, list[tuple[date, str]]]:
    """Meta periods per format folder (loaded once per process, like the refresh does)."""
    res = resources()
    cached = res.meta_periods
    if cached is None:
        # The same folder the workers classify and refresh with (one setting).
        root = Path(res.settings.definitions_dir)
        try:
            cached = load_periods(root)
        except (OSError, ValueError):  # unreadable definitions: only standard windows
            cached = {}
        res.meta_periods = cached
    return cached


def _period_window(fmt: str, name: str) -> WindowArg | None:
    periods = _periods()
    entries = periods.get(fmt)
    if entries is None:
        folded = {key.casefold(): value for key, value in periods.items()}
        entries = folded.get(fmt.casefold())
    if not entries:
        return None
    ordered = sorted(entries)
    for index, (start, period) in enumerate(ordered):
        if period == name.strip():
            if index == len(ordered) - 1:
                return CURRENT_WINDOW  # the open-ended period is the precomputed "current"
            end = ordered[index + 1][0]
            return (start, date.fromordinal(max(start.toordinal(), end.toordinal() - 1)))
    return None


def window_arg(fmt: str, q: Mapping[str, Any], default: str = "last30") -> WindowArg:
    """The store's window argument from the query.

    400 for what the document's ``period`` parameter refuses (from/to alone, window with
    from/to); 422 for a range the document allows but the rules refuse (reversed, too
    long); 404 for a window name that is neither standard nor a meta period of ``fmt``.
    """
    start, end, window = q["from"], q["to"], q["window"]
    if start is not None or end is not None:
        errors = []
        if window is not None:
            errors.append({"field": "window", "reason": "give either window or from/to"})
        if start is None or end is None:
            missing = "from" if start is None else "to"
            errors.append({"field": missing, "reason": "from and to go together"})
        if errors:
            raise ApiError(400, "invalid window", code="invalid_parameter", errors=errors)
        if start > end:
            errors.append({"field": "from", "reason": "must be on or before to"})
        elif (end - start).days >= MAX_RANGE_DAYS:
            errors.append(
                {"field": "to", "reason": f"a window spans at most {MAX_RANGE_DAYS} days"}
            )
        if errors:
            raise ApiError(422, "invalid window", code="invalid_window", errors=errors)
        return (start, end)
    window = window or default
    if window in STANDARD_WINDOW_KEYS:
        return window
    resolved = _period_window(fmt, window)
    if resolved is None:
        raise ApiError(
            404,
            f"no window {window!r} in {fmt}: not one of {list(STANDARD_WINDOW_KEYS)} nor a "
            "meta period of the format",
            code="unknown_window",
        )
    return resolved
