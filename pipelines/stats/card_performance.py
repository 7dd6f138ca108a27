"""Card performance inside an archetype (METHODOLOGY.md §9.1): for each card of one board,
the win rate of the archetype's decks running it against those not running it, and by copy
count, with Clopper–Pearson intervals and sample sizes, in either win-rate basis.

Read from ``mv_card_usage_weekly`` (per card and copy count: decks and their summed results
in both bases) and ``mv_deck_size_weekly`` (the archetype's totals) over the whole
Monday–Sunday weeks touching the window — a few rows per week, whatever the history; nothing
is computed from raw decks on a request.

Each deck's results enter as a block (a deck running the card contributes all its decided
matches), so the interval treats matches as independent; the deck counts beside it say how
many lists the figure rests on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row

from pipelines.stats.intervals import DEFAULT_CONFIDENCE, clopper_pearson

__all__ = ["BOARDS", "card_performance", "split"]

BOARDS: Final = ("main", "side")

_COLUMNS: Final = {
    "matches": ("wins", "losses"),
    "records": ("rec_wins", "rec_losses"),
}

_DIST_SQL = """
SELECT c.canonical_name AS card, x.copies, sum(x.decks)::int AS decks,
       sum(x.wins)::int AS wins, sum(x.losses)::int AS losses,
       sum(x.rec_wins)::int AS rec_wins, sum(x.rec_losses)::int AS rec_losses
  FROM mv_card_usage_weekly u
  JOIN stats_event_groups g ON g.event_kind = u.event_kind AND g.event_group = %(group)s
  CROSS JOIN LATERAL unnest(u.card_ids, u.copies, u.decks, u.wins, u.losses, u.rec_wins,
                            u.rec_losses)
             AS x(card_id, copies, decks, wins, losses, rec_wins, rec_losses)
  JOIN cards c ON c.id = x.card_id
 WHERE u.format = %(format)s AND u.archetype = %(archetype)s AND u.board = %(board)s
   AND u.week_start BETWEEN %(first_week)s AND %(last_week)s
 GROUP BY c.canonical_name, x.copies
"""

_TOTAL_SQL = """
SELECT coalesce(sum(s.decks), 0)::int AS decks, coalesce(sum(s.wins), 0)::int AS wins,
       coalesce(sum(s.losses), 0)::int AS losses,
       coalesce(sum(s.rec_wins), 0)::int AS rec_wins,
       coalesce(sum(s.rec_losses), 0)::int AS rec_losses
  FROM mv_deck_size_weekly s
  JOIN stats_event_groups g ON g.event_kind = s.event_kind AND g.event_group = %(group)s
 WHERE s.format = %(format)s AND s.archetype = %(archetype)s
   AND s.week_start BETWEEN %(first_week)s AND %(last_week)s
"""


def split(decks: int, wins: int, losses: int, confidence: float) -> dict[str, Any]:
    """One group of decks: ``decks, wins, losses, decided, win_rate, ci_lower, ci_upper``
    (Clopper–Pearson; ``None`` without a decided match)."""
    ci = clopper_pearson(wins, wins + losses, confidence)
    return {
        "decks": decks,
        "wins": wins,
        "losses": losses,
        "decided": wins + losses,
        "win_rate": ci.estimate,
        "ci_lower": ci.lower,
        "ci_upper": ci.upper,
    }


def _card_rows(
    dist: dict[str, dict[int, Sequence[int]]],
    total: Sequence[int],
    confidence: float,
) -> list[dict[str, Any]]:
    """Per card: running vs not running and per copy count (``(decks, W, L)`` tuples)."""
    rows: list[dict[str, Any]] = []
    for card, by_copies in dist.items():
        run = [sum(v[i] for v in by_copies.values()) for i in range(3)]
        rows.append(
            {
                "card": card,
                "share": run[0] / total[0] if total[0] else 0.0,
                "running": split(run[0], run[1], run[2], confidence),
                "not_running": split(
                    total[0] - run[0], total[1] - run[1], total[2] - run[2], confidence
                ),
                "by_copies": [
                    {"copies": copies, **split(v[0], v[1], v[2], confidence)}
                    for copies, v in sorted(by_copies.items())
                ],
            }
        )
    rows.sort(key=lambda r: (-int(r["running"]["decks"]), str(r["card"])))
    return rows


def card_performance(
    conn: psycopg.Connection[Any],
    fmt: str,
    archetype: str,
    first_week: date,
    last_week: date,
    event_group: str,
    *,
    basis: str = "matches",
    board: str = "main",
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """Card performance of ``archetype`` (its display name) over the weeks whose Mondays are
    ``first_week``…``last_week``.

    Returns ``{"card_weeks": {start, end}, "board", "basis", "decks" (the archetype's decks
    in those weeks), "overall": split, "cards": [{card, share, running, not_running,
    by_copies: [{copies, ...split}]}]}``, most-played cards first.
    """
    if basis not in _COLUMNS:
        raise ValueError(f"unknown basis {basis!r}; one of {sorted(_COLUMNS)}")
    if board not in BOARDS:
        raise ValueError(f"board must be one of {list(BOARDS)}, got {board!r}")
    w_col, l_col = _COLUMNS[basis]
    params = {
        "format": fmt,
        "archetype": archetype,
        "group": event_group,
        "board": board,
        "first_week": first_week,
        "last_week": last_week,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        totals = cur.execute(_TOTAL_SQL, params).fetchone() or {}
        dist_rows = cur.execute(_DIST_SQL, params).fetchall()
    total = (totals.get("decks", 0), totals.get(w_col, 0), totals.get(l_col, 0))
    dist: dict[str, dict[int, Sequence[int]]] = defaultdict(dict)
    for r in dist_rows:
        dist[r["card"]][r["copies"]] = (r["decks"], r[w_col], r[l_col])
    return {
        "card_weeks": {"start": first_week, "end": last_week + timedelta(days=6)},
        "board": board,
        "basis": basis,
        "decks": total[0],
        "overall": split(*total, confidence),
        "cards": _card_rows(dist, total, confidence),
    }


def archetype_cards(
    conn: psycopg.Connection[Any],
    fmt: str,
    archetype: str,
    window: Any = "last30",
    event_group: str = "all",
    *,
    basis: str = "matches",
    board: str = "main",
    generation: int | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """:func:`card_performance` of an archetype addressed by slug or spelling over a window
    (a standard key or a custom range), with the window and generation it belongs to.

    Raises:
        read_window.NotFound: unknown format, window or archetype; ValueError: a bad argument.
    """
    from pipelines.stats import read_window  # the readers' windows; it never imports this module
    from pipelines.stats.name_sync import resolve_archetype

    read_window.check_group(event_group)
    resolved = read_window.resolve_window(conn, fmt, window, generation)
    name = resolve_archetype(conn, fmt, archetype)
    if name is None:
        raise read_window.NotFound(f"no archetype {archetype!r} in {fmt}")
    first_week, last_week = read_window.window_weeks(resolved)
    data = card_performance(
        conn, fmt, name, first_week, last_week, event_group, basis=basis, board=board,
        confidence=confidence,
    )  # fmt: skip
    if data["decks"] == 0:
        raise read_window.NotFound(f"no {name!r} deck in {fmt} for this window and event group")
    row = conn.execute(
        "SELECT slug, name_raw FROM archetype_names WHERE format = %s AND name = %s"
        ' ORDER BY name_raw COLLATE "C" LIMIT 1',
        (fmt, name),
    ).fetchone()
    return {
        "format": fmt,
        "archetype": name,
        "slug": row[0] if row else None,
        "event_group": event_group,
        "window": resolved.as_dict(),
        "generation": resolved.generation,
        "confidence": confidence,
        **data,
    }
