"""Response schemas of the other endpoints (problems, events, decks, accounts, operator
tasks, charts, service) and :data:`SCHEMAS`, every component of the document."""

from __future__ import annotations

from typing import Any

from api.openapi.stats_schemas import STATS_SCHEMAS
from api.openapi.types import (
    s_arr,
    s_bool,
    s_date,
    s_datetime,
    s_int,
    s_num,
    s_obj,
    s_page,
    s_str,
)

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

# A deck's player, finish and label: in deck lists and in a tournament's decks.
_DECK_RESULT = {
    "player": s_str(),
    "rank": s_int(True),
    "result": s_str(),
    "wins": s_int(True),
    "losses": s_int(True),
    "draws": s_int(True),
    "archetype": s_str(),
    "color": s_str(True),
}

_DECK_SUMMARY = {
    "id": s_int(),
    "tournament_id": s_int(),
    "tournament": s_str(),
    "event_date": s_date(),
    "format": s_str(),
    "event_kind": s_str(),
    **_DECK_RESULT,
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
    "TournamentList": s_page(s_obj(_TOURNAMENT_SUMMARY), total_exact=s_bool()),
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
            "decks": s_arr(s_obj({"id": s_int(), "position": s_int(), **_DECK_RESULT})),
        }
    ),
    "DeckList": s_page(s_obj(_DECK_SUMMARY), total_exact=s_bool()),
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
    "DiscoveryList": s_page(
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
    "OperatorTaskList": s_page(s_obj(_TASK_ROW)),
    "User": s_obj(_USER),
    "UserList": s_page(s_obj(_USER)),
    "ApiKey": s_obj(_API_KEY),
    "ApiKeyList": s_page(s_obj(_API_KEY)),
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
    **STATS_SCHEMAS,
}
