"""Which meta the landing page shows: the most active format's meta as it is now.

One read of the refresh's per-window totals (``meta_window_totals``, a few rows per format
of the latest generation): the format with the most decks over the last 30 days, shown in its
current meta period — or over the last 30 days when they hold more decks (a period that has
just begun says little yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

__all__ = ["Featured", "featured_meta"]

CURRENT, RECENT = "current", "last30"

_SQL = """
SELECT format, window_key, decks
  FROM meta_window_totals
 WHERE generation = (SELECT max(generation) FROM refresh_log WHERE status = 'succeeded')
   AND event_group = %s AND window_key = ANY(%s)
"""


@dataclass(frozen=True, slots=True)
class Featured:
    format: str
    window: str


def featured_meta(conn: psycopg.Connection[Any], event_group: str) -> Featured | None:
    """The landing page's format and window; ``None`` before the first refresh with data."""
    decks: dict[tuple[str, str], int] = {}
    for fmt, window, count in conn.execute(_SQL, (event_group, [CURRENT, RECENT])).fetchall():
        decks[(fmt, window)] = int(count)
    active = [(count, fmt) for (fmt, window), count in decks.items() if window == RECENT]
    if not active or max(active)[0] == 0:
        return None
    # Most decks first; ties by name, so the choice does not flip between refreshes.
    fmt = min(active, key=lambda item: (-item[0], item[1]))[1]
    window = CURRENT if decks.get((fmt, CURRENT), 0) >= decks[(fmt, RECENT)] else RECENT
    return Featured(fmt, window)
