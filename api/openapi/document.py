"""The OpenAPI 3.1 document, generated from the routes and their ``@endpoint`` declarations
(paths, parameters, bodies, security, status codes); response bodies are
:data:`api.openapi.schemas.SCHEMAS`."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from api.openapi.schemas import SCHEMAS
from api.openapi.types import s_ref
from api.params import Param, ParamGroup
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
    422: "The request conforms to this document but a rule its description states in words "
    "refuses it (`errors` lists each field and reason)",
    413: "The request body is larger than 64 KiB",
    414: "The request line (URL) is too long (answered by the server, before the app)",
    429: "Rate limit exceeded (Retry-After and X-RateLimit-* headers)",
    431: "The request headers are too large (answered by the server, before the app)",
    503: "A backing service is unavailable",
}


def _json(schema: str, media: str = "application/json") -> dict[str, Any]:
    return {"content": {media: {"schema": s_ref(schema)}}}


def _response(status: int, schema: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "OK")}
    if status >= 400:
        out.update(_json("Problem", PROBLEM))
    elif schema is not None and status != 304:
        out.update(_json(schema))
    return out


def _group_schema(group: ParamGroup, members: list[Param]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {p.name: {**p.schema(), "description": p.description} for p in members},
        "additionalProperties": False,
    }
    if group.together:
        schema["dependentRequired"] = {
            name: [other for other in group.together if other != name] for name in group.together
        }
    if group.exclusive:
        schema["not"] = {"anyOf": [{"required": list(pair)} for pair in group.exclusive]}
    return schema


def parameters(params: tuple[Param, ...]) -> list[dict[str, Any]]:
    """The OpenAPI parameters; the members of a :class:`ParamGroup` as one object parameter
    in the place of its first member."""
    out: list[dict[str, Any]] = []
    for param in params:
        group = param.group
        if group is None:
            out.append(param.openapi())
        elif not any(p.get("name") == group.name for p in out):
            members = [p for p in params if p.group == group]
            out.append(
                {
                    "name": group.name,
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": True,
                    "description": group.description,
                    "schema": _group_schema(group, members),
                }
            )
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
        "parameters": parameters(spec.params),
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


__all__ = ["build_document", "operation"]
