"""Response schemas of the statistics endpoints (meta, matchups, archetypes, cards,
trends, formats): declarative data, checked against real answers by schemathesis."""

from __future__ import annotations

from typing import Any

from api.openapi.types import (
    BASIS,
    WINDOW_CONTEXT,
    s_arr,
    s_bool,
    s_date,
    s_datetime,
    s_frac,
    s_int,
    s_num,
    s_obj,
    s_page,
    s_ref,
    s_str,
    s_typed,
)
from pipelines.stats.rows import ARCHETYPE_LIST_FIELDS, MetaRow, MetaTotals

_META_ROW = s_typed(MetaRow)

# One week of a weekly series (archetype detail, format trends): its days and its decks.
_WEEK = {
    "week_start": s_date(),
    "label": s_str(),
    "start": s_date(),
    "end": s_date(),
    "decks": s_int(),
}

_CARD_USE = {
    "card": s_str(),
    "decks": s_int(),
    "share": s_num(),
    "total_copies": s_int(),
    "average_copies": s_num(),
    "most_common_count": s_int(),
}

_CARD_SPLIT = {
    "decks": s_int(),
    "wins": s_int(),
    "losses": s_int(),
    "decided": s_int(),
    "win_rate": s_frac(True),
    "ci_lower": s_frac(True),
    "ci_upper": s_frac(True),
}

STATS_SCHEMAS: dict[str, dict[str, Any]] = {
    "Window": s_obj(
        {
            "key": s_str(),
            "start": s_date(),
            "end": s_date(),
            "latest_date": s_date(),
            "period_name": s_str(True),
        }
    ),
    "FormatList": s_page(
        s_obj(
            {
                "format": s_str(),
                "first_date": s_date(),
                "last_date": s_date(),
                "decks": s_int(),
                "decks_default": s_int(),
                "windows": s_arr(
                    s_obj(
                        {
                            "key": s_str(),
                            "start": s_date(),
                            "end": s_date(),
                            "period_name": s_str(True),
                        }
                    )
                ),
                "definitions_version": s_str(True),
                "definitions_activated_at": s_datetime(True),
            }
        ),
        generation=s_int(True),
        as_of=s_datetime(True),
    ),
    "MetaRow": s_obj({**_META_ROW, "share": s_frac()}, optional=("share",)),
    "Meta": s_page(
        s_ref("MetaRow"),
        **WINDOW_CONTEXT,
        basis=BASIS,
        presence=s_str(),
        totals=s_obj(s_typed(MetaTotals)),
    ),
    "Matchups": s_page(
        s_obj(
            {
                "archetype": s_str(),
                "share": s_frac(),
                "other": s_bool(),
                "total": s_obj(
                    {
                        "wins": s_int(),
                        "losses": s_int(),
                        "draws": s_int(),
                        "win_rate": s_frac(True),
                    }
                ),
                "cells": s_arr(
                    s_obj(
                        {
                            "opponent": s_str(),
                            "wins": s_int(),
                            "losses": s_int(),
                            "draws": s_int(),
                            "n": s_int(),
                            "decided": s_int(),
                            "mirrors": s_int(),
                            "win_rate": s_frac(True),
                            "ci_lower": s_frac(True),
                            "ci_upper": s_frac(True),
                            "mirror": s_bool(),
                        }
                    )
                ),
            }
        ),
        **WINDOW_CONTEXT,
        basis=BASIS,
        presence=s_str(),
        min_share=s_frac(),
        confidence=s_num(),
        labels=s_arr(s_str()),
        merged=s_arr(s_str()),
        other_label=s_str(True),
    ),
    "ArchetypeList": s_page(
        s_obj({key: _META_ROW[key] for key in ARCHETYPE_LIST_FIELDS}),
        **WINDOW_CONTEXT,
        basis=BASIS,
    ),
    "ArchetypeDetail": s_obj(
        {
            **WINDOW_CONTEXT,
            "basis": BASIS,
            "archetype": s_str(),
            "slug": s_str(),
            "name_raw": s_str(),
            "summary": s_obj(_META_ROW),
            "weekly": s_arr(
                s_obj(
                    {
                        **_WEEK,
                        "share_decks": s_num(),
                        "players": s_int(True),
                        "wins": s_int(),
                        "losses": s_int(),
                        "draws": s_int(),
                        "mirrors": s_int(),
                        "seats": s_int(),
                        "win_rate": s_frac(True),
                    }
                )
            ),
            "colors": s_arr(
                s_obj(
                    {
                        "color": s_str(),
                        "decks": s_int(),
                        "share": s_num(),
                        "wins": s_int(),
                        "losses": s_int(),
                        "draws": s_int(),
                        "win_rate": s_num(True),
                        "cp_lower": s_num(True),
                        "cp_upper": s_num(True),
                    }
                )
            ),
            "card_weeks": s_obj({"start": s_date(), "end": s_date()}),
            "card_decks": s_int(),
            "cards": s_obj({"main": s_arr(s_obj(_CARD_USE)), "side": s_arr(s_obj(_CARD_USE))}),
            "stock_decklist": s_obj(
                {
                    "main": s_arr(s_arr({"type": ["string", "integer"]})),
                    "side": s_arr(s_arr({"type": ["string", "integer"]})),
                    "main_size": s_int(),
                    "side_size": s_int(),
                    "deck_count": s_int(),
                }
            ),
            "best_decks": s_arr(
                s_obj(
                    {
                        "deck_id": s_int(),
                        "player": s_str(),
                        "event": s_str(),
                        "event_date": s_date(),
                        "event_kind": s_str(),
                        "uri": s_str(True),
                        "anchor_uri": s_str(True),
                        "rank": s_int(True),
                        "color": s_str(),
                        "wins": s_int(True),
                        "losses": s_int(True),
                        "draws": s_int(True),
                        "record_source": s_str(True),
                    }
                )
            ),
        }
    ),
    "ArchetypeCards": s_page(
        s_obj(
            {
                "card": s_str(),
                "share": s_frac(),
                "running": s_ref("CardSplit"),
                "not_running": s_ref("CardSplit"),
                "by_copies": s_arr(s_obj({"copies": s_int(), **_CARD_SPLIT})),
            }
        ),
        **WINDOW_CONTEXT,
        basis=BASIS,
        archetype=s_str(),
        slug=s_str(True),
        board=s_str(),
        confidence=s_frac(),
        card_weeks=s_obj({"start": s_date(), "end": s_date()}),
        decks=s_int(),
        overall=s_ref("CardSplit"),
    ),
    "CardSplit": s_obj(_CARD_SPLIT),
    "Trends": s_page(
        s_obj(
            {
                "archetype": s_str(),
                "decks": s_int(),
                "points": s_arr(
                    s_obj(
                        {
                            "week_start": s_date(),
                            "decks": s_int(),
                            "share_decks": s_num(),
                            "wins": s_int(),
                            "losses": s_int(),
                            "draws": s_int(),
                            "seats": s_int(),
                            "win_rate": s_frac(True),
                        }
                    )
                ),
            }
        ),
        **WINDOW_CONTEXT,
        basis=BASIS,
        weeks=s_arr(s_obj(_WEEK)),
    ),
    "CardUsage": s_page(
        s_obj(
            {
                "archetype": s_str(),
                "board": {"type": "string", "enum": ["main", "side"]},
                "archetype_decks": s_int(),
                **{k: v for k, v in _CARD_USE.items() if k != "card"},
            }
        ),
        **WINDOW_CONTEXT,
        card=s_str(),
        card_weeks=s_obj({"start": s_date(), "end": s_date()}),
    ),
}
