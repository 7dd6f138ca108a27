"""Request validation in one place, and the ``@endpoint`` declaration every view carries.

Each view declares what it accepts::

    @blueprint.get("/formats/<fmt>/meta")
    @endpoint(summary="…", tags=["meta"], params=[FORMAT, WINDOW, …], response="Meta")
    def meta(fmt: str, q: Query) -> Response: …

and :func:`endpoint` does, in order: authentication/roles (401/403), path and query parameter
validation (400 with ``errors: [{field, reason}]`` for *every* bad parameter at once; unknown
or repeated parameters are errors too, so a typo never silently falls back to a default),
JSON body validation (400), then calls the view with the parsed values. The same declarations
generate the OpenAPI document (:mod:`api.openapi`), so the document cannot drift from what
the code accepts.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any, Literal

import orjson
from flask import g, request
from werkzeug.exceptions import RequestEntityTooLarge

from api.errors import ApiError

ParamType = Literal["string", "integer", "number", "boolean", "date"]
FieldType = Literal["string", "integer", "boolean", "date", "string_array"]
# ASCII digits only (int() would take "٣" and "1_000"); the range decides, not the length.
_INT_RE = re.compile(r"[+-]?[0-9]{1,40}")
# A JSON Schema number as clients write it: decimals and exponents (9.7e-196), bounded in
# length; what float() makes infinite is refused below.
_NUMBER_RE = re.compile(
    r"^[+-]?(?:[0-9]{1,40}(?:\.[0-9]{0,40})?|\.[0-9]{1,40})(?:[eE][+-]?[0-9]{1,4})?$"
)
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
MAX_PAGE = 1000
DEFAULT_PAGE = 50
MAX_OFFSET = 100_000_000
MAX_ID = 2**63 - 1  # bigint
MAX_BODY_FALLBACK = 64 * 1024  # when the app sets no MAX_CONTENT_LENGTH


# What _text_ok refuses, as the OpenAPI documents it: no control character (Unicode Cc).
NO_CONTROL_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
# ... and, for path segments, not blank either.
NOT_BLANK_PATTERN = (
    r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
)


class Invalid(ValueError):
    """One parameter's reason for being refused."""


def _text_ok(value: str, max_length: int) -> str:
    if len(value) > max_length:
        raise Invalid(f"must be at most {max_length} characters")
    # NUL cannot reach PostgreSQL and other control characters are never meaningful here.
    if any(unicodedata.category(c) in {"Cc", "Cs"} for c in value):
        raise Invalid("must not contain control characters")
    return value


@dataclass(frozen=True)
class ParamGroup:
    """Query parameters that constrain each other, documented as one exploded object
    parameter (``style: form``: its properties travel as ordinary query parameters), the
    one way OpenAPI can state such rules: ``together`` must be given together, and a name
    of ``exclusive`` excludes the names paired with it."""

    name: str
    description: str
    together: tuple[str, ...] = ()
    exclusive: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Param:
    """A path or query parameter: its type, bounds and documentation."""

    name: str
    type: ParamType = "string"
    description: str = ""
    default: Any = None
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 200
    location: Literal["query", "path"] = "query"
    group: ParamGroup | None = None

    def parse(self, raw: str) -> Any:
        """The typed value of ``raw`` (raises :class:`Invalid` with the reason)."""
        value: Any
        if self.type == "integer":
            if not _INT_RE.fullmatch(raw):
                raise Invalid("must be an integer")
            value = int(raw)
        elif self.type == "number":
            if not _NUMBER_RE.match(raw) or not math.isfinite(float(raw)):
                raise Invalid("must be a decimal number")
            value = float(raw)
        elif self.type == "boolean":
            lowered = raw.lower()
            if lowered not in _TRUE | _FALSE:
                raise Invalid("must be true or false")
            value = lowered in _TRUE
        elif self.type == "date":
            if not _DATE_RE.match(raw):
                raise Invalid("must be a date YYYY-MM-DD")
            try:
                value = date.fromisoformat(raw)
            except ValueError:
                raise Invalid("must be a valid calendar date YYYY-MM-DD") from None
        else:
            value = _text_ok(raw, self.max_length)
            if self.location == "path" and not value.strip():
                raise Invalid("must not be blank")
            if self.enum is not None and value not in self.enum:
                raise Invalid(f"must be one of {list(self.enum)}")
        minimum, maximum = self.bounds()
        if minimum is not None and value < minimum:
            raise Invalid(f"must be >= {_num(minimum)}")
        if maximum is not None and value > maximum:
            raise Invalid(f"must be <= {_num(maximum)}")
        return value

    def bounds(self) -> tuple[float | None, float | None]:
        """The declared range; integers are bounded by PostgreSQL's bigint at least."""
        if self.type != "integer":
            return self.minimum, self.maximum
        low = -MAX_ID if self.minimum is None else self.minimum
        high = MAX_ID if self.maximum is None else self.maximum
        return low, high

    def schema(self) -> dict[str, Any]:
        """JSON Schema of the parameter (OpenAPI 3.1)."""
        schema: dict[str, Any]
        if self.type == "date":
            schema = {"type": "string", "format": "date"}
        elif self.type == "string":
            schema = {"type": "string", "maxLength": self.max_length}
            schema["pattern"] = NO_CONTROL_PATTERN
            schema["minLength"] = 1  # an empty value is refused (parse_query), not defaulted
            if self.location == "path":
                schema["pattern"] = NOT_BLANK_PATTERN
        else:
            schema = {"type": self.type}
        if self.enum is not None:
            schema = {"type": "string", "enum": list(self.enum)}
        minimum, maximum = self.bounds()
        if minimum is not None:
            schema["minimum"] = minimum
        if maximum is not None:
            schema["maximum"] = maximum
        if self.default is not None:
            schema["default"] = (
                self.default.isoformat() if isinstance(self.default, date) else (self.default)
            )
        return schema

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI ``parameter`` object."""
        return {
            "name": self.name,
            "in": self.location,
            "required": self.location == "path",
            "description": self.description,
            "schema": self.schema(),
        }


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class Field:
    """A property of a JSON request body."""

    name: str
    type: FieldType = "string"
    description: str = ""
    required: bool = False
    max_length: int = 200
    min_length: int = 0
    enum: tuple[str, ...] | None = None
    max_items: int = 10
    # A regular expression the whole value must match (same syntax in Python and ECMA-262).
    pattern: str | None = None

    def parse(self, value: Any) -> Any:
        """The value, checked (raises :class:`Invalid`)."""
        if self.type == "boolean":
            if not isinstance(value, bool):
                raise Invalid("must be true or false")
            return value
        if self.type == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise Invalid("must be an integer")
            return value
        if self.type == "string_array":
            if not isinstance(value, list) or len(value) > self.max_items:
                raise Invalid(f"must be a list of at most {self.max_items} strings")
            items = []
            for item in value:
                if not isinstance(item, str):
                    raise Invalid("must be a list of strings")
                _text_ok(item, self.max_length)
                if self.enum is not None and item not in self.enum:
                    raise Invalid(f"items must be among {list(self.enum)}")
                items.append(item)
            return items
        if not isinstance(value, str):
            raise Invalid("must be a string")
        if self.type == "date":
            try:
                if not _DATE_RE.match(value):
                    raise ValueError(value)
                return date.fromisoformat(value)
            except ValueError:
                raise Invalid("must be a date YYYY-MM-DD") from None
        _text_ok(value, self.max_length)
        if len(value) < self.min_length:
            raise Invalid(f"must be at least {self.min_length} characters")
        if self.enum is not None and value not in self.enum:
            raise Invalid(f"must be one of {list(self.enum)}")
        if self.pattern is not None and not re.search(self.pattern, value):
            raise Invalid(f"must match {self.pattern}")
        return value

    def schema(self) -> dict[str, Any]:
        """JSON Schema of the property."""
        if self.type == "boolean":
            return {"type": "boolean"}
        if self.type == "integer":
            return {"type": "integer"}
        if self.type == "date":
            return {"type": "string", "format": "date"}
        if self.type == "string_array":
            items: dict[str, Any] = {"type": "string", "maxLength": self.max_length}
            if self.enum is not None:
                items = {"type": "string", "enum": list(self.enum)}
            return {"type": "array", "items": items, "maxItems": self.max_items}
        schema: dict[str, Any] = {"type": "string", "maxLength": self.max_length}
        if self.min_length:
            schema["minLength"] = self.min_length
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        schema["pattern"] = self.pattern or NO_CONTROL_PATTERN
        return schema


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

Auth = Literal["operator", "admin", "refresh", "token"]


@dataclass(frozen=True)
class EndpointSpec:
    """What an endpoint accepts and answers (drives validation and the OpenAPI document)."""

    summary: str
    tags: tuple[str, ...]
    params: tuple[Param, ...] = ()
    body: tuple[Field, ...] = ()
    response: str | None = None
    status: int = 200
    auth: Auth | None = None
    errors: tuple[int, ...] = ()
    description: str = ""
    cached: bool = False
    cost: int = 1
    # Alternative sets of body fields, exactly one of which a body must give (OpenAPI oneOf).
    body_alternatives: tuple[tuple[str, ...], ...] = ()


def endpoint(
    *,
    summary: str,
    tags: Iterable[str],
    params: Iterable[Param] = (),
    body: Iterable[Field] = (),
    response: str | None = None,
    status: int = 200,
    auth: Auth | None = None,
    errors: Iterable[int] = (),
    description: str = "",
    cached: bool = False,
    cost: int = 1,
    body_alternatives: Iterable[Iterable[str]] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a view's contract; the wrapper enforces it before calling the view.

    The view receives its path values as keyword arguments, plus ``q`` (a :class:`Query`)
    when it declares query parameters and ``body`` when it declares body fields. ``cost`` is
    what one request takes from the client's rate-limit budget (:mod:`api.limits`).
    """
    spec = EndpointSpec(
        summary=summary,
        tags=tuple(tags),
        params=tuple(params),
        body=tuple(body),
        response=response,
        status=status,
        auth=auth,
        errors=tuple(errors),
        description=description,
        cached=cached,
        cost=cost,
        body_alternatives=tuple(tuple(group) for group in body_alternatives),
    )
    has_query = any(p.location == "query" for p in spec.params)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(**path: Any) -> Any:
            if spec.auth is not None:
                from api.auth import authorize

                authorize(spec.auth)
            check_path(spec.params, path)
            kwargs = dict(path)
            if has_query:
                kwargs["q"] = g.query = parse_query(spec.params)
            elif request.args:
                parse_query(())  # every parameter is unknown: 400
            if spec.body:
                kwargs["body"] = parse_body(spec.body, spec.body_alternatives)
            return view(**kwargs)

        wrapper.endpoint_spec = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate


# --------------------------------------------------------------------------- shared params

LIMIT = Param(
    "limit",
    "integer",
    f"page size (1-{MAX_PAGE})",
    default=DEFAULT_PAGE,
    minimum=1,
    maximum=MAX_PAGE,
)
OFFSET = Param("offset", "integer", "items to skip", default=0, minimum=0, maximum=MAX_OFFSET)
PAGE = (LIMIT, OFFSET)


def page(items: Sequence[Any], total: int, q: Mapping[str, Any]) -> dict[str, Any]:
    """The list envelope every paginated answer uses."""
    return {"items": list(items), "total": total, "limit": q["limit"], "offset": q["offset"]}


def slice_page(items: Sequence[Any], q: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`page` of an in-memory list."""
    start = q["offset"]
    return page(items[start : start + q["limit"]], len(items), q)


def id_param(name: str, what: str) -> Param:
    """An integer path id (bigint range; anything else is a 404)."""
    return Param(name, "integer", f"{what} id", location="path", minimum=1, maximum=MAX_ID)


__all__ = [
    "LIMIT",
    "MAX_ID",
    "MAX_PAGE",
    "OFFSET",
    "PAGE",
    "EndpointSpec",
    "Field",
    "Invalid",
    "Param",
    "Query",
    "endpoint",
    "id_param",
    "page",
    "parse_body",
    "parse_query",
    "slice_page",
]
