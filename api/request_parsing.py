"""Validating a request against its declared parameters and body fields: every problem of
a part (query, path, body) is reported at once in a 400 (``errors: [{field, reason}]``);
unknown or repeated parameters are errors too, so a typo never silently falls back to a
default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import orjson
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from api.errors import ApiError
from api.params import Field, Invalid, Param

MAX_BODY_FALLBACK = 64 * 1024  # when the app sets no MAX_CONTENT_LENGTH


class Query(dict[str, Any]):
    """Parsed query parameters (declared ones only, defaults applied)."""

    def canonical(self) -> str:
        """Stable text of the values, for cache keys (same meaning → same text)."""
        return "&".join(f"{key}={_canon(self[key])}" for key in sorted(self))


def _canon(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def parse_query(params: Sequence[Param]) -> Query:
    """Validate ``request.args`` against ``params`` (raises a 400 listing every problem)."""
    declared = {p.name: p for p in params if p.location == "query"}
    errors: list[dict[str, str]] = []
    query = Query()
    for name in request.args:
        if name not in declared:
            errors.append({"field": name, "reason": "unknown parameter"})
        elif len(request.args.getlist(name)) > 1:
            errors.append({"field": name, "reason": "given more than once"})
    for name, param in declared.items():
        raw = request.args.get(name)
        if raw is None:
            query[name] = param.default
            continue
        if raw == "":  # "?limit=" is a mistake, not a request for the default
            errors.append({"field": name, "reason": "must not be empty"})
            continue
        try:
            query[name] = param.parse(raw)
        except Invalid as exc:
            errors.append({"field": name, "reason": str(exc)})
    if errors:
        raise ApiError(400, "invalid query parameters", code="invalid_parameter", errors=errors)
    return query


def check_path(params: Sequence[Param], values: Mapping[str, Any]) -> None:
    """Validate path values Flask already matched (string content, integer ranges)."""
    errors = []
    for param in params:
        if param.location != "path" or param.name not in values:
            continue
        value = values[param.name]
        try:
            if isinstance(value, str):
                param.parse(value)
            elif (param.minimum is not None and value < param.minimum) or (
                param.maximum is not None and value > param.maximum
            ):
                # An id outside the column's range cannot exist (and must not reach SQL).
                raise ApiError(404, f"no such {param.name.replace('_', ' ')}")
        except Invalid as exc:
            errors.append({"field": param.name, "reason": str(exc)})
    if errors:
        raise ApiError(400, "invalid path parameters", code="invalid_parameter", errors=errors)


def _json_body() -> Any:
    """The decoded body (``{}`` when there is none; ``None`` when it is not JSON).

    Reads ``Content-Length`` and chunked bodies alike (gunicorn de-chunks and marks the input
    terminated; werkzeug then stops at ``MAX_CONTENT_LENGTH``), so a chunked body beyond the
    limit is a 413 like any other, never silently "empty".
    """
    limit = request.max_content_length or MAX_BODY_FALLBACK
    if request.content_length is not None:
        if request.content_length > limit:
            raise RequestEntityTooLarge()
        raw = request.get_data(cache=True)
    elif request.environ.get("wsgi.input_terminated"):
        # Chunked: read one byte past the limit ourselves (werkzeug's limited stream stops
        # at the limit silently, which would turn a huge body into a truncated one).
        raw = request.environ["wsgi.input"].read(limit + 1)
        if len(raw) > limit:
            raise RequestEntityTooLarge()
    else:
        raw = b""
    if not raw:
        return {}
    if not request.is_json:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def check_alternatives(body: Mapping[str, Any], groups: Sequence[Sequence[str]]) -> None:
    """400 unless ``body`` gives exactly the fields of one of ``groups`` (of those named)."""
    if not groups:
        return
    named = {name for group in groups for name in group}
    given = set(body) & named
    if not any(given == set(group) for group in groups):
        choices = " or ".join("+".join(group) for group in groups)
        raise ApiError(
            400,
            f"give exactly one of: {choices}",
            code="invalid_body",
            errors=[{"field": "body", "reason": f"give exactly one of: {choices}"}],
        )


def parse_body(
    fields: Sequence[Field], alternatives: Sequence[Sequence[str]] = ()
) -> dict[str, Any]:
    """Validate the JSON object body against ``fields`` (400 listing every problem)."""
    data = _json_body()
    if not isinstance(data, dict):
        raise ApiError(
            400,
            "the request body must be a JSON object (Content-Type: application/json)",
            code="invalid_body",
            errors=[{"field": "body", "reason": "must be a JSON object"}],
        )
    declared = {f.name: f for f in fields}
    errors = [{"field": name, "reason": "unknown field"} for name in data if name not in declared]
    body: dict[str, Any] = {}
    for name, spec in declared.items():
        if name not in data:
            if spec.required:
                errors.append({"field": name, "reason": "is required"})
            continue
        if data[name] is None:  # no field is nullable: omit it instead
            errors.append({"field": name, "reason": "must not be null"})
            continue
        try:
            body[name] = spec.parse(data[name])
        except Invalid as exc:
            errors.append({"field": name, "reason": str(exc)})
    if errors:
        raise ApiError(400, "invalid request body", code="invalid_body", errors=errors)
    check_alternatives(body, alternatives)
    return body


# --------------------------------------------------------------------------- @endpoint


__all__ = ["Query", "check_alternatives", "check_path", "parse_body", "parse_query"]
