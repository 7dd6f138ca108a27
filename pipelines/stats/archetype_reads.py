"""One archetype's page (summary, weeks, colours, card usage, stock list, best decks) and one
card's usage across archetypes, over a window. Conventions: :mod:`pipelines.stats.store`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import psycopg
from psycopg.rows import dict_row

from pipelines.core.vocabulary import DEFAULT_EVENT_GROUP, EVENT_GROUPS
from pipelines.stats.archetype_rows import DEFAULT_BASIS
from pipelines.stats.intervals import DEFAULT_CONFIDENCE, clopper_pearson
from pipelines.stats.meta_reads import meta_rows
from pipelines.stats.name_sync import resolve_archetype
from pipelines.stats.read_window import (
    NotFound,
    ResolvedWindow,
    WindowArg,
    check_group,
    check_min,
    resolve_window,
    week_bucket,
    window_weeks,
)
from pipelines.stats.samples import SampleRules
from pipelines.stats.window_stats import index_plans

__all__ = ["archetype_detail", "card_lookup"]

# --------------------------------------------------------------------------- archetype detail


@dataclass(frozen=True, slots=True)
class _Usage:
    card: str
    decks: int
    share: float
    total_copies: int
    average_copies: float
    most_common_count: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "card": self.card,
            "decks": self.decks,
            "share": self.share,
            "total_copies": self.total_copies,
            "average_copies": self.average_copies,
            "most_common_count": self.most_common_count,
        }


def _usages(dist: Mapping[str, Mapping[int, int]], n_decks: int) -> list[_Usage]:
    """Card usage from per-card ``{copies: decks}`` distributions (as ``card_usage`` sorts)."""
    usages = []
    for card, by_copies in dist.items():
        running = sum(by_copies.values())
        total = sum(c * d for c, d in by_copies.items())
        common = min(by_copies, key=lambda c: (-by_copies[c], c))
        usages.append(
            _Usage(
                card=card,
                decks=running,
                share=running / n_decks if n_decks else 0.0,
                total_copies=total,
                average_copies=total / running,
                most_common_count=common,
            )
        )
    usages.sort(key=lambda u: (-u.decks, -u.total_copies, u.card))
    return usages


def _fill(usages: Sequence[_Usage], size: int) -> list[tuple[str, int]]:
    """The stock-list rule of :func:`pipelines.stats.decklists.stock_decklist`: by decreasing
    share (ties: higher average copies, then name), each card at its most common count,
    until ``size`` copies; the last card is trimmed to fit."""
    chosen: list[tuple[str, int]] = []
    remaining = size
    for usage in sorted(usages, key=lambda u: (-u.share, -u.average_copies, u.card)):
        if remaining <= 0:
            break
        copies = min(usage.most_common_count, remaining)
        chosen.append((usage.card, copies))
        remaining -= copies
    return chosen


# The archetype's weekly card-usage arrays (one row per week, event kind and board), each
# column concatenated per board in its binary form (``array_send`` less its 20-byte header:
# (length, value) int4 pairs) and summed per (card, copies) in NumPy: unnesting ~50k array
# elements per whole-history window in SQL costs several times more, and decoding them into
# Python lists (one int object per element) most of the rest.
_CARD_ARRAYS_SQL = """
SELECT board,
       string_agg(substring(array_send(card_ids) FROM 21), ''::bytea) AS card_ids,
       string_agg(substring(array_send(copies) FROM 21), ''::bytea) AS copies,
       string_agg(substring(array_send(decks) FROM 21), ''::bytea) AS decks
  FROM mv_card_usage_weekly
 WHERE format = %(format)s AND archetype = %(archetype)s
   AND week_start BETWEEN %(first_week)s AND %(last_week)s
   AND event_kind = ANY(%(kinds)s::text[]) AND cardinality(card_ids) > 0
 GROUP BY board
"""


def _int4s(blob: bytes) -> np.ndarray:
    """The values of concatenated ``array_send`` bodies of int4 arrays without NULLs."""
    pairs = np.frombuffer(blob, dtype=">i4").reshape(-1, 2)
    if not np.all(pairs[:, 0] == 4):  # a NULL element (length -1) or another element type
        raise ValueError("card usage arrays must hold int4 values without NULLs")
    return pairs[:, 1].astype(np.int64)


def _card_distribution(
    conn: psycopg.Connection[Any], params: Mapping[str, Any]
) -> dict[str, dict[str, dict[int, int]]]:
    """``{board: {card name: {copies: decks}}}`` of an archetype over whole weeks."""
    with conn.cursor(binary=True) as cur:  # bytea as bytes, not hex text
        rows = cur.execute(_CARD_ARRAYS_SQL, params).fetchall()
    summed: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for board, blob_ids, blob_copies, blob_decks in rows:
        ids, copies, decks = _int4s(blob_ids), _int4s(blob_copies), _int4s(blob_decks)
        packed = ids << 16 | copies  # copies < 2**16
        keys = np.unique(packed)  # a sort (return_inverse's stable argsort cost 5x more)
        sums = np.bincount(np.searchsorted(keys, packed), weights=decks, minlength=keys.size)
        summed[board] = (keys, sums)
    card_ids = sorted({int(k >> 16) for keys, _ in summed.values() for k in keys})
    names = dict(
        conn.execute("SELECT id, canonical_name FROM cards WHERE id = ANY(%s)", (card_ids,))
    )
    dist: dict[str, dict[str, dict[int, int]]] = {"main": {}, "side": {}}
    for board, (keys, sums) in summed.items():
        for key, count in zip(keys.tolist(), sums.tolist(), strict=True):
            dist[board].setdefault(names[key >> 16], {})[key & 0xFFFF] = int(count)
    return dist


_DECK_SIZE_SQL = """
SELECT s.main_total, s.side_total, sum(s.decks)::int AS decks
  FROM mv_deck_size_weekly s
  JOIN stats_event_groups g ON g.event_kind = s.event_kind AND g.event_group = %(group)s
 WHERE s.format = %(format)s AND s.archetype = %(archetype)s
   AND s.week_start BETWEEN %(first_week)s AND %(last_week)s
 GROUP BY s.main_total, s.side_total
"""

# Weeks as date arithmetic (0001-01-01 is a Monday): no timestamp conversion per row. The
# players of the whole weeks inside the window come from mv_archetype_week_players (kept by
# the triggers of migration 0022); only the partial weeks at the window's ends are counted
# from the daily rows (``edge1``/``edge2``: empty ranges when there is none), distinct by
# sorting bytes (COLLATE "C": equality is bytewise under the database's deterministic
# collation anyway).
_WEEKLY_SQL = """
WITH week AS (
    SELECT a.event_date - (a.event_date - DATE '0001-01-01') %% 7 AS week_start,
           sum(a.decks)::int AS total_decks,
           (sum(a.decks) FILTER (WHERE a.archetype = %(archetype)s))::int AS decks,
           (sum(a.wins) FILTER (WHERE a.archetype = %(archetype)s))::int AS wins,
           (sum(a.losses) FILTER (WHERE a.archetype = %(archetype)s))::int AS losses,
           (sum(a.draws) FILTER (WHERE a.archetype = %(archetype)s))::int AS draws,
           (sum(a.mirrors) FILTER (WHERE a.archetype = %(archetype)s))::int AS mirrors,
           (sum(a.seats) FILTER (WHERE a.archetype = %(archetype)s))::int AS seats
      FROM mv_archetype_daily a
     WHERE a.format = %(format)s AND a.event_date BETWEEN %(start)s AND %(end)s
       AND a.event_kind = ANY(%(kinds)s::text[])
     GROUP BY 1
), players AS (
    SELECT w.week_start, w.players
      FROM mv_archetype_week_players w
     WHERE w.format = %(format)s AND w.event_group = %(group)s AND w.archetype = %(archetype)s
       AND w.week_start BETWEEN %(full_from)s AND %(full_to)s
    UNION ALL
    SELECT p.event_date - (p.event_date - DATE '0001-01-01') %% 7 AS week_start,
           count(DISTINCT p.player_key COLLATE "C")::int AS players
      FROM mv_player_archetype_daily p
     WHERE p.format = %(format)s
       AND (p.event_date BETWEEN %(edge1_start)s AND %(edge1_end)s
            OR p.event_date BETWEEN %(edge2_start)s AND %(edge2_end)s)
       AND p.archetype = %(archetype)s AND p.event_kind = ANY(%(kinds)s::text[])
     GROUP BY 1
)
SELECT w.*, coalesce(p.players, 0) AS players
  FROM week w LEFT JOIN players p USING (week_start)
 ORDER BY w.week_start
"""


def week_parts(start: date, end: date) -> dict[str, date]:
    """The whole Monday–Sunday weeks inside ``[start, end]`` (``full_from``/``full_to``:
    their Mondays) and the days of the partial weeks at either end (``edge1_*``,
    ``edge2_*``); an empty part is a range whose start is after its end."""
    first_monday = start + timedelta(days=(7 - start.weekday()) % 7)
    last_sunday = end - timedelta(days=(end.weekday() + 1) % 7)
    if first_monday + timedelta(days=6) > last_sunday:  # no whole week: every day is an edge
        after = end + timedelta(days=1)
        return {"full_from": after, "full_to": end, "edge1_start": start, "edge1_end": end,
                "edge2_start": after, "edge2_end": end}  # fmt: skip
    return {
        "full_from": first_monday,
        "full_to": last_sunday - timedelta(days=6),
        "edge1_start": start,
        "edge1_end": first_monday - timedelta(days=1),
        "edge2_start": last_sunday + timedelta(days=1),
        "edge2_end": end,
    }


_COLOR_SQL = """
SELECT c.color, sum(c.decks)::int AS decks, sum(c.wins)::int AS wins,
       sum(c.losses)::int AS losses, sum(c.draws)::int AS draws
  FROM mv_archetype_color_daily c
  JOIN stats_event_groups g ON g.event_kind = c.event_kind AND g.event_group = %(group)s
 WHERE c.format = %(format)s AND c.archetype = %(archetype)s
   AND c.event_date BETWEEN %(start)s AND %(end)s
 GROUP BY c.color
"""

# The top records first, on the deck facts alone (one index range scan of the archetype's
# decks and a top-N sort), then the names of those few decks: joining before the LIMIT would
# look up every deck of the archetype.
_BEST_DECKS_SQL = """
WITH best AS (
    SELECT f.deck_id, f.tournament_id, f.event_date, f.event_kind, f.rank, f.color,
           f.record_wins, f.record_losses, f.record_draws, f.record_source
      FROM mv_deck_facts f
     WHERE f.format = %(format)s AND f.archetype = %(archetype)s
       AND f.event_date BETWEEN %(start)s AND %(end)s AND f.event_kind = ANY(%(kinds)s::text[])
     ORDER BY f.record_wins - f.record_losses DESC, f.record_wins DESC, f.event_date DESC,
              f.rank NULLS LAST, f.deck_id
     LIMIT %(limit)s
)
SELECT b.deck_id, d.player, t.name AS event, b.event_date, b.event_kind, t.uri,
       d.anchor_uri, b.rank, b.color, b.record_wins AS wins, b.record_losses AS losses,
       b.record_draws AS draws, b.record_source
  FROM best b
  JOIN decks d ON d.id = b.deck_id
  JOIN tournaments t ON t.id = b.tournament_id
 ORDER BY b.record_wins - b.record_losses DESC, b.record_wins DESC, b.event_date DESC,
          b.rank NULLS LAST, b.deck_id
"""


def _weighted_mode(rows: Sequence[Mapping[str, Any]], column: str) -> int:
    """:func:`~pipelines.stats.decklists.most_common_value` of ``column`` over the decks the
    rows count (``decks`` each; smallest on ties; 0 without decks), without one value per
    deck."""
    counts: dict[int, int] = defaultdict(int)
    for r in rows:
        if r["decks"] > 0:
            counts[r[column]] += r["decks"]
    return min(counts, key=lambda v: (-counts[v], v)) if counts else 0


def archetype_detail(
    conn: psycopg.Connection[Any],
    fmt: str,
    archetype: str,
    window: WindowArg = "last30",
    event_group: str = DEFAULT_EVENT_GROUP,
    *,
    best_decks: int = 10,
    basis: str = DEFAULT_BASIS,
    generation: int | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    rules: SampleRules | None = None,
) -> dict[str, Any]:
    """Everything about one archetype over one window and event group.

    ``archetype`` is a slug, a display name or any spelling that normalises to one
    (:func:`pipelines.stats.name_sync.resolve_archetype`).

    Returns a dict with:

    * ``summary``: the archetype's meta row in ``basis`` (see :func:`meta_rows`);
    * ``weekly``: per Monday–Sunday week clipped to the window (``week_start, label, start,
      end``): ``decks, share_decks`` (of the group's decks that week), ``players, wins,
      losses, draws, mirrors, seats, win_rate`` (matches basis);
    * ``colors``: per colour code: ``decks, share`` (of the archetype's decks), ``wins,
      losses, draws, win_rate, cp_lower, cp_upper``, best lower bound first;
    * ``cards``: ``{"main": [...], "side": [...]}`` usage per card (``card, decks, share,
      total_copies, average_copies, most_common_count``) over the **whole weeks** touching
      the window (``card_weeks``: first Monday and last Sunday; ``card_decks``: the
      archetype's decks in those weeks, the share denominator);
    * ``stock_decklist``: ``{main, side, main_size, side_size, deck_count}`` (lists of
      ``[card, copies]``) built from that usage with the stock-list rule;
    * ``best_decks``: up to ``best_decks`` decks by record (wins − losses, then wins, then
      most recent), each with ``deck_id, player, event, event_date, event_kind, uri,
      anchor_uri, rank, color, wins, losses, draws, record_source``.

    Raises:
        NotFound: no deck of ``archetype`` in the window and group.
    """
    check_group(event_group)
    check_min("best_decks", best_decks)
    meta = meta_rows(
        conn, fmt, window, event_group, basis=basis, generation=generation,
        confidence=confidence, rules=rules,
    )  # fmt: skip
    archetype = resolve_archetype(conn, fmt, archetype) or archetype
    summary = next((r for r in meta["archetypes"] if r["archetype"] == archetype), None)
    if summary is None:
        raise NotFound(f"no {archetype!r} deck in {fmt} for this window and event group")
    w = meta["window"]
    resolved = ResolvedWindow(
        fmt, w["key"], w["start"], w["end"], w["latest_date"], w["period_name"]
    )
    first_week, last_week = window_weeks(resolved)
    params = {
        "format": fmt,
        "archetype": archetype,
        "group": event_group,
        "start": resolved.start,
        "end": resolved.end,
        "first_week": first_week,
        "last_week": last_week,
        "limit": best_decks,
        "kinds": sorted(EVENT_GROUPS[event_group]),
        **week_parts(resolved.start, resolved.end),
    }
    with conn.cursor(row_factory=dict_row) as cur:
        weekly_rows = cur.execute(_WEEKLY_SQL, params).fetchall()
        color_rows = cur.execute(_COLOR_SQL, params).fetchall()
        size_rows = cur.execute(_DECK_SIZE_SQL, params).fetchall()
        best = cur.execute(_BEST_DECKS_SQL, params).fetchall()

    weekly = []
    for r in weekly_rows:
        decks = r["decks"] or 0
        decided = (r["wins"] or 0) + (r["losses"] or 0)
        weekly.append(
            {
                **week_bucket(r["week_start"], resolved),
                "decks": decks,
                "share_decks": decks / r["total_decks"] if r["total_decks"] else 0.0,
                "players": r["players"],
                "wins": r["wins"] or 0,
                "losses": r["losses"] or 0,
                "draws": r["draws"] or 0,
                "mirrors": r["mirrors"] or 0,
                "seats": r["seats"] or 0,
                "win_rate": (r["wins"] or 0) / decided if decided else None,
            }
        )

    n_colour = sum(r["decks"] for r in color_rows)
    colors = []
    for r in color_rows:
        ci = clopper_pearson(r["wins"], r["wins"] + r["losses"], confidence)
        colors.append(
            {
                "color": r["color"],
                "decks": r["decks"],
                "share": r["decks"] / n_colour if n_colour else 0.0,
                "wins": r["wins"],
                "losses": r["losses"],
                "draws": r["draws"],
                "win_rate": ci.estimate,
                "cp_lower": ci.lower,
                "cp_upper": ci.upper,
            }
        )
    colors.sort(
        key=lambda c: (
            c["cp_lower"] is None,
            -(c["cp_lower"] or 0.0),
            -c["decks"],
            c["color"],
        )
    )

    card_decks = sum(r["decks"] for r in size_rows)
    dist = _card_distribution(conn, params)
    main = _usages(dist["main"], card_decks)
    side = _usages(dist["side"], card_decks)
    main_size = _weighted_mode(size_rows, "main_total")
    side_size = _weighted_mode(size_rows, "side_total")

    return {
        "format": fmt,
        "archetype": archetype,
        "slug": summary["slug"],
        "name_raw": summary["name_raw"],
        "event_group": event_group,
        "basis": basis,
        "window": meta["window"],
        "generation": meta["generation"],
        "as_of": meta["as_of"],
        "summary": summary,
        "weekly": weekly,
        "colors": colors,
        "card_weeks": {"start": first_week, "end": last_week + timedelta(days=6)},
        "card_decks": card_decks,
        "cards": {"main": [u.as_dict() for u in main], "side": [u.as_dict() for u in side]},
        "stock_decklist": {
            "main": [list(item) for item in _fill(main, main_size)],
            "side": [list(item) for item in _fill(side, side_size)],
            "main_size": main_size,
            "side_size": side_size,
            "deck_count": card_decks,
        },
        "best_decks": best,
    }


# --------------------------------------------------------------------------- cards

_CARD_LOOKUP_SQL = """
WITH card AS (
    SELECT min(id) AS id, canonical_name FROM cards
     WHERE canonical_name = coalesce(
               (SELECT canonical_name FROM cards WHERE canonical_name = %(card)s LIMIT 1),
               (SELECT canonical_name FROM cards WHERE name = %(card)s LIMIT 1))
     GROUP BY canonical_name
), used AS (
    SELECT u.archetype, u.board, x.copies, sum(x.decks)::int AS decks
      FROM card
      JOIN mv_card_usage_weekly u ON u.card_ids @> ARRAY[card.id::int]
      JOIN stats_event_groups g ON g.event_kind = u.event_kind AND g.event_group = %(group)s
      CROSS JOIN LATERAL unnest(u.card_ids, u.copies, u.decks) AS x(card_id, copies, decks)
     WHERE u.format = %(format)s AND u.week_start BETWEEN %(first_week)s AND %(last_week)s
       AND x.card_id = card.id
     GROUP BY u.archetype, u.board, x.copies
), total AS (
    SELECT s.archetype, sum(s.decks)::int AS decks
      FROM mv_deck_size_weekly s
      JOIN stats_event_groups g ON g.event_kind = s.event_kind AND g.event_group = %(group)s
     WHERE s.format = %(format)s AND s.week_start BETWEEN %(first_week)s AND %(last_week)s
     GROUP BY s.archetype
)
SELECT (SELECT canonical_name FROM card) AS card, u.archetype, u.board, u.copies, u.decks,
       t.decks AS archetype_decks
  FROM (SELECT 1) one
  LEFT JOIN used u ON true
  LEFT JOIN total t ON t.archetype = u.archetype
"""


def card_lookup(
    conn: psycopg.Connection[Any],
    fmt: str,
    card: str,
    window: WindowArg = "last30",
    event_group: str = DEFAULT_EVENT_GROUP,
    *,
    generation: int | None = None,
) -> dict[str, Any]:
    """Which archetypes run ``card`` (canonical or printed name, exact) and how much.

    Returns ``{"format", "card" (canonical name), "event_group", "window", "card_weeks",
    "archetypes": [{archetype, board, decks, archetype_decks, share, total_copies,
    average_copies, most_common_count}]}`` over the whole weeks touching the window, most
    decks first; ``board`` is ``main`` or ``side`` (a deck running the card in both boards
    appears in both rows).

    Raises:
        NotFound: the card name is unknown.
    """
    check_group(event_group)
    resolved = resolve_window(conn, fmt, window, generation)
    first_week, last_week = window_weeks(resolved)
    params = {
        "format": fmt,
        "card": card,
        "group": event_group,
        "first_week": first_week,
        "last_week": last_week,
    }
    # The format's weeks by index: over a long window the planner would read every format's
    # weekly rows (see index_plans).
    with index_plans(conn), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_CARD_LOOKUP_SQL, params).fetchall()
    canonical = rows[0]["card"] if rows else None
    if canonical is None:
        raise NotFound(f"unknown card {card!r}")
    dist: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    totals: dict[str, int] = {}
    for r in rows:
        if r["archetype"] is None:
            continue
        dist[(r["archetype"], r["board"])][r["copies"]] = r["decks"]
        totals[r["archetype"]] = r["archetype_decks"] or 0
    out = []
    for (arch, board), by_copies in dist.items():
        usage = _usages({canonical: by_copies}, totals[arch])[0]
        out.append(
            {"archetype": arch, "board": board, "archetype_decks": totals[arch], **usage.as_dict()}
        )
    for row in out:
        del row["card"]
    out.sort(key=lambda r: (-r["decks"], r["board"], r["archetype"]))
    return {
        "format": fmt,
        "card": canonical,
        "event_group": event_group,
        "window": resolved.as_dict(),
        "card_weeks": {"start": first_week, "end": last_week + timedelta(days=6)},
        "archetypes": out,
    }
