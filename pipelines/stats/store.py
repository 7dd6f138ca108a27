"""Read helpers for the HTTP layer: every statistic the API serves, from the precomputed views.

Nothing here computes statistics over raw decks or matches. Standard windows (``current``,
``last7``/``last14``/``last30``/``last90``) read the rows the refresh wrote for the latest
succeeded generation (or the ``generation`` given, e.g. the one behind an ``ETag``); custom
``from``/``to`` windows aggregate the daily/weekly statistics tables
with :func:`pipelines.stats.window_stats.compute_window_stats`, the same code the refresh uses, so
both give identical numbers for identical dates.

Conventions:

* every function takes an open psycopg connection (e.g. from the API's pool) and only runs
  parameterised SQL; functions issuing several statements should run inside one
  ``REPEATABLE READ`` read-only transaction when the caller needs them to agree exactly
  across a concurrent refresh (each single statement is always consistent);
* ``window`` is a standard key (``"current"``, ``"last30"``…) or a custom
  :class:`~pipelines.stats.windows.DateWindow` / ``(start, end)`` pair, both ends inclusive;
* rates, shares and bounds are fractions in [0, 1]; dates are :class:`datetime.date`;
* :class:`NotFound` (a :class:`LookupError`) means an unknown format, window, archetype or
  card (HTTP 404); :class:`ValueError` an invalid argument (HTTP 400).

Row keys are documented on each function; results are plain dicts and lists, JSON-ready once
dates are serialised.

This module is the readers' one import point; they live by job in
:mod:`pipelines.stats.read_window` (windows, :class:`NotFound`),
:mod:`pipelines.stats.meta_reads` (meta, matchups, trends, formats) and
:mod:`pipelines.stats.archetype_reads` (one archetype, one card).
"""

from __future__ import annotations

from pipelines.stats.archetype_reads import archetype_detail, card_lookup
from pipelines.stats.meta_reads import (
    formats_overview,
    matchup_cells,
    matchup_matrix,
    meta_rows,
    trends,
)
from pipelines.stats.read_window import (
    CUSTOM_WINDOW,
    NotFound,
    ResolvedWindow,
    WindowArg,
    resolve_window,
)
from pipelines.stats.refresh import latest_generation

__all__ = [
    "CUSTOM_WINDOW",
    "NotFound",
    "ResolvedWindow",
    "WindowArg",
    "archetype_detail",
    "card_lookup",
    "formats_overview",
    "latest_generation",
    "matchup_cells",
    "matchup_matrix",
    "meta_rows",
    "resolve_window",
    "trends",
]
