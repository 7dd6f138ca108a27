"""What a request may carry: path and query parameters (:class:`Param`, grouped by
:class:`ParamGroup`) and JSON body fields (:class:`Field`), each with its type, bounds and
documentation, and how one value is checked (:class:`Invalid` names the reason). The same
declarations validate requests (:mod:`api.request_parsing`, through ``@endpoint`` in
:mod:`api.schemas`) and generate the OpenAPI document (:mod:`api.openapi`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

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


# Shared parameters.
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


def id_param(name: str, what: str) -> Param:
    """An integer path id (bigint range; anything else is a 404)."""
    return Param(name, "integer", f"{what} id", location="path", minimum=1, maximum=MAX_ID)


__all__ = [
    "LIMIT",
    "MAX_ID",
    "MAX_PAGE",
    "NOT_BLANK_PATTERN",
    "NO_CONTROL_PATTERN",
    "OFFSET",
    "PAGE",
    "Field",
    "Invalid",
    "Param",
    "ParamGroup",
    "id_param",
]
