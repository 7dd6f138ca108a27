"""JSON Schema building blocks of the OpenAPI document (one call per field keeps the
schemas declarative and short)."""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pipelines.stats.rows import FRACTION


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


def s_page(item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return s_obj(
        {
            **extra,
            "items": s_arr(item),
            "total": s_int(),
            "limit": s_int(),
            "offset": s_int(),
        }
    )


# Units: every share, rate, bound and cut is a fraction in [0, 1] (METHODOLOGY.md).
_FRACTION = {"minimum": 0, "maximum": 1}


def s_frac(nullable: bool = False) -> dict[str, Any]:
    return _t("number", nullable, **_FRACTION)


BASIS = {"type": "string", "enum": ["matches", "records"]}

# The context every statistics answer carries (which window of which format and group).
WINDOW_CONTEXT = {
    "format": s_str(),
    "event_group": s_str(),
    "window": s_ref("Window"),
    "generation": s_int(True),
    "as_of": s_datetime(True),
}


_SCALARS: dict[type, Any] = {str: s_str, int: s_int, float: s_num, bool: s_bool}


def _s_hint(hint: Any) -> dict[str, Any]:
    """The schema of one field type of a typed row (``X | None`` is nullable)."""
    nullable = False
    if get_origin(hint) in (Union, types.UnionType):
        members = [a for a in get_args(hint) if a is not type(None)]
        nullable = len(members) < len(get_args(hint))
        (hint,) = members
    if get_origin(hint) is Annotated:
        base, *marks = get_args(hint)
        if base is float and FRACTION in marks:
            return s_frac(nullable)
        hint = base
    if get_origin(hint) is Literal:
        values: list[Any] = list(get_args(hint))
        kind = ["string", "null"] if nullable else "string"
        return {"type": kind, "enum": [*values, None] if nullable else values}
    return dict(_SCALARS[hint](nullable))


def s_typed(row: type, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The properties of a typed row (:mod:`pipelines.stats.rows`), in declaration order
    (``only``: these fields, in this order)."""
    hints = get_type_hints(row, include_extras=True)
    return {name: _s_hint(hints[name]) for name in (only or tuple(hints))}
