"""Metagame reads: formats, meta, matchups, archetypes, trends, cards (``/api/v1/formats…``).

Every answer comes from :mod:`pipelines.stats.store` — rows the refresh precomputed for the
standard windows, or the daily/weekly materialized views for custom date ranges — through the
response cache (:func:`api.cache.serve_cached`): nothing aggregates raw decks or matches on
the request path.

Common query parameters:

* ``window``: ``current`` (the format's current meta period), ``last7``/``last14``/
  ``last30``/``last90`` (counted back from the format's latest event), or the name of a meta
  period of the format (``metas.json``); exclusive with ``from``/``to`` (an inclusive custom
  date range, at most :data:`MAX_RANGE_DAYS` days);
* ``event``: the event group (``all`` = every kind except MTGO leagues, ``challenges``,
  ``leagues``, ``qualifiers``, ``paper``);
* ``basis``: the win-rate basis, ``matches`` (recorded rounds) or ``records`` (the published
  decks' standings records), named in every answer (METHODOLOGY.md §4);
* ``limit``/``offset``: pagination of the answer's list (``items``, with ``total``).

Units: every share, rate, interval bound and cut is a fraction in [0, 1]. Archetypes are
addressed by slug (or any spelling that normalises to the same display name).
"""

from __future__ import annotations

from typing import Any

import psycopg
from flask import Blueprint
from flask.typing import ResponseReturnValue
from psycopg.rows import dict_row

from api.blueprints.stats_params import (
    ARCHETYPE,
    BASIS,
    BEST_DECKS,
    CARD,
    FORMAT,
    MAX_ARCHETYPES,
    MIN_DECKS,
    MIN_SEATS,
    MIN_SHARE,
    PRESENCE,
    SORT,
    WINDOW_ERRORS,
    WINDOW_PARAMS,
    window_arg,
)
from api.cache import serve_cached
from api.errors import ApiError
from api.params import PAGE, Param
from api.request_parsing import Query
from api.resources import resources
from api.schemas import endpoint, slice_page
from pipelines.stats.card_performance import BOARDS, archetype_cards
from pipelines.stats.matchups import MatchupCell, MatchupMatrix
from pipelines.stats.refresh import latest_generation
from pipelines.stats.rows import ARCHETYPE_LIST_FIELDS
from pipelines.stats.samples import SampleRules
from pipelines.stats.store import (
    archetype_detail,
    card_lookup,
    formats_overview,
    matchup_matrix,
    meta_rows,
    resolve_window,
    trends,
)

blueprint = Blueprint("stats", __name__)


def _rules() -> SampleRules:
    """The minimum sample of the tier table for custom windows (the refresh uses the same
    settings for standard windows)."""
    settings = resources().settings
    return SampleRules(settings.stats_min_players, settings.stats_min_decided)


def _generation(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    latest = latest_generation(conn)
    return {
        "generation": latest.generation if latest else None,
        "as_of": latest.finished_at if latest else None,
    }


def _call(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a store function; its ValueError (an invalid argument) is a 400."""
    try:
        return func(*args, **kwargs)
    except ValueError as exc:
        raise ApiError(400, str(exc), code="invalid_parameter") from exc


# --------------------------------------------------------------------------- formats

_DEFINITIONS_SQL = """
SELECT a.format, v.version, a.activated_at
  FROM active_definitions a JOIN definition_versions v ON v.id = a.version_id
"""


@blueprint.get("/formats")
@endpoint(
    summary="Formats with data: date range, deck counts, windows, definitions version",
    tags=["meta"],
    params=PAGE,
    response="FormatList",
    cached=True,
)
def formats(q: Query) -> ResponseReturnValue:
    """Every format with data and the latest refresh generation."""

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        overview = formats_overview(conn)
        with conn.cursor(row_factory=dict_row) as cur:
            versions = {r["format"]: r for r in cur.execute(_DEFINITIONS_SQL).fetchall()}
        rows = []
        for row in overview["formats"]:
            version = versions.get(row["format"])
            rows.append(
                {
                    **row,
                    "definitions_version": version["version"] if version else None,
                    "definitions_activated_at": version["activated_at"] if version else None,
                }
            )
        generation = overview["generation"]
        info = _generation(conn) if generation is None else {}
        return {
            "generation": generation if generation is not None else info["generation"],
            "as_of": overview["as_of"] if generation is not None else info["as_of"],
            **slice_page(rows, q),
        }

    return serve_cached(build)


# --------------------------------------------------------------------------- meta


def _sorted_rows(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """Rows ordered by ``sort`` (None last in either direction; ties by presence order:
    decks descending, then name)."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    by_rank = sorted(rows, key=lambda r: (-r["decks"], r["archetype"]))
    present = [r for r in by_rank if r.get(key) is not None]
    missing = [r for r in by_rank if r.get(key) is None]
    present.sort(key=lambda r: r[key], reverse=descending)  # stable: rank breaks ties
    return present + missing


@blueprint.get("/formats/<format>/meta")
@endpoint(
    summary="Meta table: share, counts, win rate, draws, intervals and tiers per archetype",
    tags=["meta"],
    params=(FORMAT, *WINDOW_PARAMS, BASIS, PRESENCE, MIN_DECKS, MIN_SEATS, SORT, *PAGE),
    response="Meta",
    errors=WINDOW_ERRORS,
    cached=True,
    description="Fractions in [0, 1] throughout. `share` is the share of the chosen presence "
    "metric; win rates, coverage and intervals are in the named `basis`; `ci_lower`/"
    "`ci_upper` the published interval (`ci_method`: cluster-cr2, or wilson-fallback when "
    "the clustered one degenerates), `wilson_lower`/`wilson_upper` the Wilson interval; "
    "`low_sample` rows never rank or tier.",
)
def meta(format: str, q: Query) -> ResponseReturnValue:
    """One window's meta table."""
    window = window_arg(format, q)

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        data = _call(
            meta_rows,
            conn,
            format,
            window,
            q["event"],
            basis=q["basis"],
            min_decks=q["min_decks"],
            min_seats=q["min_seats"],
            rules=_rules(),
        )
        rows = data.pop("archetypes")
        share = f"share_{q['presence']}"
        for row in rows:
            row["share"] = row[share]
        return {**data, "presence": q["presence"], **slice_page(_sorted_rows(rows, q["sort"]), q)}

    return serve_cached(build)


# --------------------------------------------------------------------------- matchups


def _cell(cell: MatchupCell) -> dict[str, Any]:
    return {
        "opponent": cell.col,
        "wins": cell.wins,
        "losses": cell.losses,
        "draws": cell.draws,
        "n": cell.n,
        "decided": cell.decided,
        "mirrors": cell.mirrors,
        "win_rate": cell.win_rate,
        "ci_lower": cell.lower,
        "ci_upper": cell.upper,
        "mirror": cell.mirror,
    }


def _matrix_rows(matrix: MatchupMatrix) -> list[dict[str, Any]]:
    rows = []
    for label in matrix.labels:
        total = matrix.row_totals[label]
        rows.append(
            {
                "archetype": label,
                "share": matrix.shares[label],
                "other": label == matrix.other_label,
                "total": {
                    "wins": total.wins,
                    "losses": total.losses,
                    "draws": total.draws,
                    "win_rate": total.win_rate,
                },
                "cells": [_cell(matrix.cell(label, col)) for col in matrix.labels],
            }
        )
    return rows


@blueprint.get("/formats/<format>/matchups")
@endpoint(
    summary="Matchup matrix (W/L/D, n, win rate, Clopper-Pearson interval) with an Other bucket",
    tags=["meta"],
    params=(FORMAT, *WINDOW_PARAMS, PRESENCE, MIN_SHARE, MAX_ARCHETYPES, *PAGE),
    response="Matchups",
    errors=WINDOW_ERRORS,
    cached=True,
    description="Rows (paginated) in presence order, `Other` last; each row holds one cell per "
    "column label, from the row archetype's side (recorded rounds only: basis `matches`). The "
    "diagonal holds each mirror match once in `mirrors`, with no rate or interval; "
    "[Other, Other] also holds the matches between different merged archetypes, which the "
    "Other row total includes.",
)
def matchups(format: str, q: Query) -> ResponseReturnValue:
    """One window's matchup matrix."""
    window = window_arg(format, q)

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        if isinstance(window, str):  # the stored window: its dates and generation
            meta_data = _call(meta_rows, conn, format, window, q["event"])
            context = {k: meta_data[k] for k in ("window", "generation", "as_of")}
        else:  # a custom window's statistics are computed once, by matchup_matrix
            resolved = _call(resolve_window, conn, format, window)
            context = {"window": resolved.as_dict(), **_generation(conn)}
        matrix = _call(
            matchup_matrix,
            conn,
            format,
            window,
            q["event"],
            presence=q["presence"],
            min_share=q["min_share"],
            max_archetypes=q["max_archetypes"],
        )
        return {
            "format": format,
            "event_group": q["event"],
            "basis": "matches",
            **context,
            "presence": q["presence"],
            "min_share": q["min_share"],
            "confidence": matrix.confidence,
            "labels": matrix.labels,
            "merged": matrix.merged,
            "other_label": matrix.other_label,
            **slice_page(_matrix_rows(matrix), q),
        }

    return serve_cached(build)


# --------------------------------------------------------------------------- archetypes


@blueprint.get("/formats/<format>/archetypes")
@endpoint(
    summary="Archetypes of a window, by presence",
    tags=["archetypes"],
    params=(FORMAT, *WINDOW_PARAMS, BASIS, *PAGE),
    response="ArchetypeList",
    errors=WINDOW_ERRORS,
    cached=True,
)
def archetypes(format: str, q: Query) -> ResponseReturnValue:
    """The archetypes of a window (summary rows)."""
    window = window_arg(format, q)

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        data = _call(meta_rows, conn, format, window, q["event"], basis=q["basis"], rules=_rules())
        rows = [{key: row[key] for key in ARCHETYPE_LIST_FIELDS} for row in data.pop("archetypes")]
        data.pop("totals", None)
        return {**data, **slice_page(rows, q)}

    return serve_cached(build)


@blueprint.get("/formats/<format>/archetypes/<path:name>")
@endpoint(
    summary="One archetype: weekly trend, colours, card usage, stock list, best decks",
    tags=["archetypes"],
    params=(FORMAT, ARCHETYPE, *WINDOW_PARAMS, BASIS, BEST_DECKS),
    response="ArchetypeDetail",
    errors=WINDOW_ERRORS,
    cached=True,
)
def archetype(format: str, name: str, q: Query) -> ResponseReturnValue:
    """Everything about one archetype over one window."""
    window = window_arg(format, q)

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        detail: dict[str, Any] = _call(
            archetype_detail,
            conn,
            format,
            name,
            window,
            q["event"],
            best_decks=q["best_decks"],
            basis=q["basis"],
            rules=_rules(),
        )
        return detail

    return serve_cached(build)


BOARD = Param("board", description="main or side board", default="main", enum=BOARDS)


@blueprint.get("/formats/<format>/archetypes/<path:name>/cards")
@endpoint(
    summary="Card performance inside an archetype: running vs not, and by copy count",
    tags=["archetypes", "cards"],
    params=(FORMAT, ARCHETYPE, *WINDOW_PARAMS, BASIS, BOARD, *PAGE),
    response="ArchetypeCards",
    errors=WINDOW_ERRORS,
    cached=True,
    description="Per card of the board: the win rate (in `basis`) of the archetype's decks "
    "running it against those not running it, and per copy count, each with decks, decided "
    "matches and a Clopper-Pearson interval; over the whole weeks touching the window "
    "(`card_weeks`). Cards (paginated) most played first.",
)
def archetype_cards_view(format: str, name: str, q: Query) -> ResponseReturnValue:
    """Which cards of an archetype go with better results (flex slots)."""
    window = window_arg(format, q)

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        data = _call(
            archetype_cards,
            conn,
            format,
            name,
            window,
            q["event"],
            basis=q["basis"],
            board=q["board"],
        )
        cards = data.pop("cards")
        if data["generation"] is None:
            data.update(_generation(conn))
        else:
            data["as_of"] = _generation(conn)["as_of"]
        return {**data, **slice_page(cards, q)}

    return serve_cached(build)


# --------------------------------------------------------------------------- trends


@blueprint.get("/formats/<format>/trends")
@endpoint(
    summary="Weekly share and win rate of the top archetypes",
    tags=["meta"],
    params=(FORMAT, *WINDOW_PARAMS, *PAGE),
    response="Trends",
    errors=WINDOW_ERRORS,
    cached=True,
    description="Series (paginated) are archetypes by decks over the window, most first; "
    "default window last90.",
)
def trend(format: str, q: Query) -> ResponseReturnValue:
    """Weekly series per archetype."""
    window = window_arg(format, q, default="last90")

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        # Every series of the window (a few dozen archetypes × weeks), then one page of it.
        data = _call(trends, conn, format, window, q["event"], top_n=10_000)
        series = data.pop("series")
        return {**data, **_generation(conn), **slice_page(series, q)}

    return serve_cached(build)


# --------------------------------------------------------------------------- cards


@blueprint.get("/formats/<format>/cards/<path:card>")
@endpoint(
    summary="Which archetypes run a card, and how much (main and side)",
    tags=["cards"],
    params=(FORMAT, CARD, *WINDOW_PARAMS, *PAGE),
    response="CardUsage",
    errors=WINDOW_ERRORS,
    cached=True,
)
def card(format: str, card: str, q: Query) -> ResponseReturnValue:
    """Card usage per archetype and board."""
    window = window_arg(format, q)

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        data = _call(card_lookup, conn, format, card, window, q["event"])
        rows = data.pop("archetypes")
        return {**data, **_generation(conn), **slice_page(rows, q)}

    return serve_cached(build)
