"""The OpenAPI 3.1 document, generated from the routes and their ``@endpoint`` declarations.

Paths, methods, parameters (types, bounds, enums, defaults), request bodies, security and
status codes come from the same :class:`api.schemas.EndpointSpec` objects that validate
requests, so the document describes what the code does; response bodies are the schemas
below, checked against real answers by the property-based test (schemathesis) in
``tests/api/test_openapi.py``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from api.schemas import EndpointSpec

OPENAPI_VERSION = "3.1.0"
# 2.0.0 (issue 13): fractions everywhere (tier_cut included), `seats`/`share_seats` replace
# per-archetype `matches`/`share_matches`, win-rate `basis`, coverage, sample flags, shrunk
# win rates, slugs, mirrors once on the matchup diagonal, archetype card performance.
API_VERSION = "2.0.0"
PROBLEM = "application/problem+json"
_RULE_ARG = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>")
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    304: "Not modified (If-None-Match matched the ETag)",
    400: "Invalid parameter or body (`errors` lists each field and reason)",
    401: "Missing, invalid, expired or revoked token, or bad credentials",
    403: "The token lacks the required role",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Semantically invalid body (`errors` lists each field and reason)",
    413: "The request body is larger than 64 KiB",
    414: "The request line (URL) is too long (answered by the server, before the app)",
    429: "Rate limit exceeded (Retry-After and X-RateLimit-* headers)",
    431: "The request headers are too large (answered by the server, before the app)",
    503: "A backing service is unavailable",
}


# --------------------------------------------------------------------------- schema helpers


def _t(kind: str, nullable: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"] if nullable else kind, **extra}


def s_str(nullable: bool = False) -> dict[str, Any]:
    return _t("string", nullable)


def s_int(nullable: bool = False) -> dict[str, Any]:
    return _t("integer", nullable)


def s_num(nullable: bool = False) -> dict[str, Any]:
    return _t("number", nullable)


def s_bool(nullable: bool = False) -> dict[str, Any]:
    return _t("boolean", nullable)


def s_date(nullable: bool = False) -> dict[str, Any]:
    return _t("string", nullable, format="date")


def s_datetime(nullable: bool = False) -> dict[str, Any]:
    return _t("string", nullable, format="date-time")


def s_ref(name: str, nullable: bool = False) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {"oneOf": [ref, {"type": "null"}]} if nullable else ref


def s_arr(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def s_obj(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object whose properties are all required except ``optional``."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
    }


def _page(item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return s_obj(
        {
            **extra,
            "items": s_arr(item),
            "total": s_int(),
            "limit": s_int(),
            "offset": s_int(),
        }
    )


_WINDOW_CONTEXT = {
    "format": s_str(),
    "event_group": s_str(),
    "window": s_ref("Window"),
    "generation": s_int(True),
    "as_of": s_datetime(True),
}

# Units: every share, rate, bound and cut is a fraction in [0, 1] (METHODOLOGY.md).
_FRACTION = {"minimum": 0, "maximum": 1}


def s_frac(nullable: bool = False) -> dict[str, Any]:
    return _t("number", nullable, **_FRACTION)


_BASIS = {"type": "string", "enum": ["matches", "records"]}

_META_ROW = {
    "archetype": s_str(),
    "slug": s_str(),
    "name_raw": s_str(),
    "rankable": s_bool(),
    "decks": s_int(),
    "players": s_int(),
    "seats": s_int(),
    "wins": s_int(),
    "losses": s_int(),
    "draws": s_int(),
    "mirrors": s_int(),
    "covered": s_int(),
    "coverage": s_frac(),
    "decided_players": s_int(),
    "decided_per_deck": s_num(),
    "share_decks": s_frac(),
    "share_players": s_frac(),
    "share_seats": s_frac(),
    "win_rate": s_frac(True),
    "shrunk_win_rate": s_frac(True),
    "ci_lower": s_frac(True),
    "ci_upper": s_frac(True),
    "ci_method": {"type": ["string", "null"], "enum": ["cluster-cr2", "wilson-fallback", None]},
    "ci_std_error": s_num(True),
    "ci_dof": s_num(True),
    "wilson_lower": s_frac(True),
    "wilson_upper": s_frac(True),
    "low_sample": s_bool(),
    "rank": s_int(True),
    "in_tier_table": s_bool(),
    "tier_ci": s_str(True),
    "tier_score": s_str(True),
    "rank_ci": s_int(True),
    "rank_score": s_int(True),
    "score": s_num(True),
    "outlier": s_bool(),
}

_TOURNAMENT_SUMMARY = {
    "id": s_int(),
    "name": s_str(),
    "event_date": s_date(),
    "format": s_str(),
    "event_kind": s_str(),
    "source": s_str(),
    "uri": s_str(True),
    "player_count": s_int(),
    "deck_count": s_int(),
    "match_count": s_int(),
}

_DECK_SUMMARY = {
    "id": s_int(),
    "tournament_id": s_int(),
    "tournament": s_str(),
    "event_date": s_date(),
    "format": s_str(),
    "event_kind": s_str(),
    "player": s_str(),
    "rank": s_int(True),
    "result": s_str(),
    "wins": s_int(True),
    "losses": s_int(True),
    "draws": s_int(True),
    "archetype": s_str(),
    "color": s_str(True),
}

# A run record (task_runs, migration 0008): what operators follow.
_TASK_ROW = {
    "id": s_str(),
    "kind": s_str(),
    "task": s_str(),
    "arguments": s_obj({"args": s_arr({}), "kwargs": {"type": "object"}}),
    "dedup_key": s_str(),
    "state": {
        "type": "string",
        "enum": ["queued", "running", "retrying", "succeeded", "failed", "abandoned"],
    },
    "attempt": s_int(),
    "max_attempts": s_int(),
    "progress": {"type": "object"},
    "result": {},
    "error": s_str(True),
    "requested_by": s_str(True),
    "requested_at": s_datetime(),
    "enqueued_at": s_datetime(True),
    "enqueue_error": s_str(True),
    "started_at": s_datetime(True),
    "finished_at": s_datetime(True),
    "heartbeat_at": s_datetime(True),
    "next_attempt_at": s_datetime(True),
    "worker": s_str(True),
    "pending_requests": s_int(),
    "follow_up_of": s_str(True),
    "history": s_arr({"type": "object"}),
}

_USER = {
    "id": s_int(),
    "username": s_str(),
    "roles": s_arr(s_str()),
    "disabled": s_bool(),
    "created_at": s_datetime(),
    "updated_at": s_datetime(),
    "password_changed_at": s_datetime(),
    "last_login_at": s_datetime(True),
}

_API_KEY = {
    "id": s_int(),
    "user_id": s_int(),
    "name": s_str(),
    "prefix": s_str(),
    "created_at": s_datetime(),
    "last_used_at": s_datetime(True),
    "revoked_at": s_datetime(True),
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

SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": s_obj(
        {
            "type": s_str(),
            "title": s_str(),
            "status": s_int(),
            "code": s_str(),
            "detail": s_str(),
            "request_id": s_str(True),
            "errors": s_arr(s_obj({"field": s_str(), "reason": s_str()})),
        },
        optional=("errors",),
    ),
    "Window": s_obj(
        {
            "key": s_str(),
            "start": s_date(),
            "end": s_date(),
            "latest_date": s_date(),
            "period_name": s_str(True),
        }
    ),
    "FormatList": _page(
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
    "Meta": _page(
        s_ref("MetaRow"),
        **_WINDOW_CONTEXT,
        basis=_BASIS,
        presence=s_str(),
        totals=s_obj(
            {
                "decks": s_int(),
                "players": s_int(),
                "matches": s_int(),
                "seats": s_int(),
                "archetypes": s_int(),
                "covered": s_int(),
                "coverage": s_frac(),
                "tier_cut": s_frac(True),
                "ci_mean": s_frac(True),
                "ci_sd": s_num(True),
                "score_mean": s_num(True),
                "score_sd": s_num(True),
                "shrink_mean": s_frac(True),
                "shrink_strength": s_num(True),
                "min_players": s_int(),
                "min_decided": s_int(),
            }
        ),
    ),
    "Matchups": _page(
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
        **_WINDOW_CONTEXT,
        basis=_BASIS,
        presence=s_str(),
        min_share=s_frac(),
        confidence=s_num(),
        labels=s_arr(s_str()),
        merged=s_arr(s_str()),
        other_label=s_str(True),
    ),
    "ArchetypeList": _page(
        s_obj(
            {
                key: _META_ROW[key]
                for key in (
                    "archetype",
                    "slug",
                    "name_raw",
                    "rankable",
                    "rank",
                    "decks",
                    "players",
                    "seats",
                    "share_decks",
                    "share_players",
                    "share_seats",
                    "coverage",
                    "win_rate",
                    "shrunk_win_rate",
                    "low_sample",
                    "tier_ci",
                    "tier_score",
                    "in_tier_table",
                )
            }
        ),
        **_WINDOW_CONTEXT,
        basis=_BASIS,
    ),
    "ArchetypeDetail": s_obj(
        {
            **_WINDOW_CONTEXT,
            "basis": _BASIS,
            "archetype": s_str(),
            "slug": s_str(),
            "name_raw": s_str(),
            "summary": s_obj(_META_ROW),
            "weekly": s_arr(
                s_obj(
                    {
                        "week_start": s_date(),
                        "label": s_str(),
                        "start": s_date(),
                        "end": s_date(),
                        "decks": s_int(),
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
    "ArchetypeCards": _page(
        s_obj(
            {
                "card": s_str(),
                "share": s_frac(),
                "running": s_ref("CardSplit"),
                "not_running": s_ref("CardSplit"),
                "by_copies": s_arr(s_obj({"copies": s_int(), **_CARD_SPLIT})),
            }
        ),
        **_WINDOW_CONTEXT,
        basis=_BASIS,
        archetype=s_str(),
        slug=s_str(True),
        board=s_str(),
        confidence=s_frac(),
        card_weeks=s_obj({"start": s_date(), "end": s_date()}),
        decks=s_int(),
        overall=s_ref("CardSplit"),
    ),
    "CardSplit": s_obj(_CARD_SPLIT),
    "Trends": _page(
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
        **_WINDOW_CONTEXT,
        basis=_BASIS,
        weeks=s_arr(
            s_obj(
                {
                    "week_start": s_date(),
                    "label": s_str(),
                    "start": s_date(),
                    "end": s_date(),
                    "decks": s_int(),
                }
            )
        ),
    ),
    "CardUsage": _page(
        s_obj(
            {
                "archetype": s_str(),
                "board": {"type": "string", "enum": ["main", "side"]},
                "archetype_decks": s_int(),
                **{k: v for k, v in _CARD_USE.items() if k != "card"},
            }
        ),
        **_WINDOW_CONTEXT,
        card=s_str(),
        card_weeks=s_obj({"start": s_date(), "end": s_date()}),
    ),
    "TournamentList": _page(s_obj(_TOURNAMENT_SUMMARY), total_exact=s_bool()),
    "Tournament": s_obj(
        {
            **_TOURNAMENT_SUMMARY,
            "starts_at": s_datetime(True),
            "format_inferred": s_bool(),
            "updated_at": s_datetime(),
            "standings": s_arr(
                s_obj(
                    {
                        "position": s_int(),
                        "rank": s_int(True),
                        "player": s_str(),
                        "points": s_int(True),
                        "wins": s_int(True),
                        "losses": s_int(True),
                        "draws": s_int(True),
                        "omwp": s_num(True),
                        "gwp": s_num(True),
                        "ogwp": s_num(True),
                        "deck_id": s_int(True),
                    }
                )
            ),
            "rounds": s_arr(
                s_obj(
                    {
                        "round_index": s_int(),
                        "round_name": s_str(),
                        "matches": s_arr(
                            s_obj(
                                {
                                    "position": s_int(),
                                    "player1": s_str(True),
                                    "player2": s_str(True),
                                    "p1_games": s_int(),
                                    "p2_games": s_int(),
                                    "draw_games": s_int(),
                                    "is_bye": s_bool(),
                                    "deck1_id": s_int(True),
                                    "deck2_id": s_int(True),
                                }
                            )
                        ),
                    }
                )
            ),
            "decks": s_arr(
                s_obj(
                    {
                        "id": s_int(),
                        "position": s_int(),
                        "player": s_str(),
                        "rank": s_int(True),
                        "result": s_str(),
                        "wins": s_int(True),
                        "losses": s_int(True),
                        "draws": s_int(True),
                        "archetype": s_str(),
                        "color": s_str(True),
                    }
                )
            ),
        }
    ),
    "DeckList": _page(s_obj(_DECK_SUMMARY), total_exact=s_bool()),
    "Deck": s_obj(
        {
            **{k: v for k, v in _DECK_SUMMARY.items() if k not in {"archetype", "color"}},
            "tournament_uri": s_str(True),
            "position": s_int(),
            "anchor_uri": s_str(True),
            "deck_date": s_datetime(True),
            "main_total": s_int(),
            "side_total": s_int(),
            "main": s_arr(s_obj({"card": s_str(), "canonical": s_str(), "count": s_int()})),
            "side": s_arr(s_obj({"card": s_str(), "canonical": s_str(), "count": s_int()})),
            "classification": {
                "oneOf": [
                    {"type": "null"},
                    s_obj(
                        {
                            "archetype": s_str(),
                            "definition": s_str(True),
                            "variant": s_str(True),
                            "color": s_str(),
                            "companion": s_str(),
                            "method": s_str(),
                            "score": s_num(True),
                            "candidates": s_arr(s_str()),
                            "definitions_version": s_str(),
                        }
                    ),
                ]
            },
            "explanation": s_str(True),
            "explanation_error": s_str(True),
            "nearest_archetype": {
                "oneOf": [
                    {"type": "null"},
                    s_obj({"archetype": s_str(), "similarity": s_num()}),
                ]
            },
        }
    ),
    "SimilarDecks": s_obj(
        {
            "deck_id": s_int(),
            "format": s_str(),
            "items": s_arr(
                s_obj(
                    {
                        "rank": s_int(),
                        "id": s_int(),
                        "similarity": s_num(),
                        "event_date": s_date(),
                        "tournament": s_str(),
                        "player": s_str(),
                        "archetype": s_str(),
                    }
                )
            ),
        }
    ),
    "DiscoveryList": _page(
        s_obj(
            {
                "run_id": s_int(),
                "format": s_str(),
                "window": s_str(),
                "start_date": s_date(True),
                "end_date": s_date(True),
                "created_at": s_datetime(),
                "cluster_id": s_int(),
                "name": s_str(),
                "cards": s_arr(s_str()),
                "decks": s_int(),
                "definition": {"type": "object"},
                "exclusive": s_bool(),
                "precision": s_num(),
                "recall": s_num(),
                "relabel": s_arr(s_obj({"from": s_str(), "to": s_str(), "decks": s_int()})),
                "notes": s_arr(s_str()),
            }
        )
    ),
    "Tokens": s_obj(
        {
            "access_token": s_str(),
            "refresh_token": s_str(),
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "expires_in": s_int(),
            "refresh_expires_in": s_int(),
            "roles": s_arr(s_str()),
        }
    ),
    "Logout": s_obj({"revoked": s_arr({"type": "string", "enum": ["access", "refresh"]})}),
    "OperatorTask": s_obj(
        {
            **_TASK_ROW,
            # How this request was served: created (a new run), queued (joined the waiting
            # run), pending (runs once after the running one), running (joined it).
            "request": {"type": "string", "enum": ["created", "queued", "pending", "running"]},
        },
        optional=("request",),
    ),
    "OperatorTaskList": _page(s_obj(_TASK_ROW)),
    "User": s_obj(_USER),
    "UserList": _page(s_obj(_USER)),
    "ApiKey": s_obj(_API_KEY),
    "ApiKeyList": _page(s_obj(_API_KEY)),
    "NewApiKey": s_obj({**_API_KEY, "key": s_str()}),
    "Status": s_obj({"status": s_str()}),
    "Chart": s_obj(
        {
            "format": s_str(),
            "chart": s_str(),
            "archetype": s_str(True),
            "window": s_str(),
            "event_group": s_str(),
            "generation": s_int(),
            "rendered_at": s_datetime(),
            "title": s_str(),
            "alt": s_str(),
            "svg_url": s_str(),
            "png_url": s_str(),
            "data_url": s_str(),
            "spec": {"type": "object", "description": "Vega-Lite specification, data inline"},
        }
    ),
    "Ready": s_obj(
        {
            "status": {"type": "string", "enum": ["ok", "degraded", "unavailable"]},
            "checks": {
                "type": "object",
                "additionalProperties": s_obj(
                    {"status": {"type": "string", "enum": ["ok", "low", "down"]}, "ms": s_num()}
                ),
            },
        }
    ),
}


# --------------------------------------------------------------------------- operations


def _json(schema: str, media: str = "application/json") -> dict[str, Any]:
    return {"content": {media: {"schema": s_ref(schema)}}}


def _response(status: int, schema: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "OK")}
    if status >= 400:
        out.update(_json("Problem", PROBLEM))
    elif schema is not None and status != 304:
        out.update(_json(schema))
    return out


def operation(spec: EndpointSpec, operation_id: str, rate_limited: bool = True) -> dict[str, Any]:
    """The OpenAPI operation of one declared endpoint."""
    statuses = {spec.status, 400, *spec.errors}
    if spec.cached:
        statuses.add(304)
    if spec.auth is not None:
        statuses |= {401, 503}  # 503: the revocation list (Redis) is unreachable
        if spec.auth not in {"token", "refresh"}:
            statuses.add(403)
    if rate_limited:
        statuses.add(429)
    statuses |= {414, 431}  # gunicorn's limits, as problem documents (ops/gunicorn_errors.py)
    if spec.body:
        statuses.add(413)
    op: dict[str, Any] = {
        "operationId": operation_id,
        "summary": spec.summary,
        "tags": list(spec.tags),
        "parameters": [p.openapi() for p in spec.params],
        "responses": {
            str(status): _response(status, spec.response if status < 300 else None)
            for status in sorted(statuses)
        },
    }
    if spec.description:
        op["description"] = spec.description
    if spec.cached:
        op["parameters"].append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "ETag of a previous answer: 304 when unchanged",
                "schema": {"type": "string"},
            }
        )
    if spec.auth is not None:
        op["security"] = [{"bearerAuth": []}]
    else:
        op["security"] = []
    if spec.body:
        properties = {f.name: {**f.schema(), "description": f.description} for f in spec.body}
        body_schema: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "required": [f.name for f in spec.body if f.required],
            "additionalProperties": False,
        }
        if spec.body_alternatives:
            named = {name for group in spec.body_alternatives for name in group}
            body_schema["oneOf"] = [
                {
                    "required": list(group),
                    "not": {"anyOf": [{"required": [n]} for n in sorted(named - set(group))]},
                }
                for group in spec.body_alternatives
            ]
        op["requestBody"] = {
            "required": any(f.required for f in spec.body) or bool(spec.body_alternatives),
            "content": {"application/json": {"schema": body_schema}},
        }
    return op


def _plain(summary: str, schema: str | None, statuses: dict[int, str | None]) -> dict[str, Any]:
    responses = {}
    for status, name in statuses.items():
        responses[str(status)] = (
            _response(status, name)
            if status >= 400 or name
            else {"description": _STATUS_TEXT.get(status, "OK")}
        )
    return {
        "summary": summary,
        "tags": ["service"],
        "security": [],
        "parameters": [],
        "responses": responses,
    }


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of ``app``'s routes."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        spec: EndpointSpec | None = getattr(view, "endpoint_spec", None)
        if spec is None:
            continue
        path = _RULE_ARG.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation_id = rule.endpoint.replace(".", "_")
            paths.setdefault(path, {})[method.lower()] = operation(spec, operation_id)
    paths["/health"] = {"get": _plain("Liveness (no dependency)", "Status", {200: "Status"})}
    paths["/ready"] = {
        "get": _plain(
            "Readiness with per-check status (database, redis, disk, memory)",
            "Ready",
            {200: "Ready", 503: None},
        )
    }
    paths["/ready"]["get"]["responses"]["503"] = {
        "description": "The database is unreachable",
        **_json("Ready"),
    }
    paths["/metrics"] = {
        "get": {
            **_plain("Prometheus metrics", None, {}),
            "responses": {
                "200": {
                    "description": "Prometheus text exposition",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    }
    paths["/api/v1/ping"] = {
        "get": {
            **_plain("Trivial JSON answer (connectivity check)", "Status", {200: "Status"}),
            "responses": {"200": _response(200, "Status"), "429": _response(429)},
        }
    }
    for path in ("/openapi.json", "/api/v1/openapi.json"):
        paths[path] = {
            "get": {
                **_plain("This document", None, {}),
                "responses": {
                    "200": {
                        "description": "OpenAPI document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "429": _response(429),
                },
            }
        }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Manalytics read API",
            "version": API_VERSION,
            "description": (
                "Magic: The Gathering metagame statistics, precomputed and cached. Lists are "
                "paginated with limit/offset and report their total. Errors use RFC 9457 "
                "problem details. Public reads are cached (ETag, Cache-Control); operator "
                "routes need a JWT with the operator role, user management the admin role. "
                "Units: every share, rate, interval bound and cut is a fraction in [0, 1]; "
                "statistics name their win-rate basis (matches or records). Version 2.0.0 "
                "changed statistics fields (CHANGELOG.md, issue 13)."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


__all__ = ["SCHEMAS", "build_document", "operation"]
