"""The ``@endpoint`` declaration every view carries, and the list envelope of its answers.

Each view declares what it accepts::

    @blueprint.get("/formats/<fmt>/meta")
    @endpoint(summary="…", tags=["meta"], params=[FORMAT, WINDOW, …], response="Meta")
    def meta(fmt: str, q: Query) -> Response: …

and :func:`endpoint` does, in order: authentication/roles (401/403), path and query parameter
validation (400 with ``errors: [{field, reason}]`` for *every* bad parameter at once; unknown
or repeated parameters are errors too, so a typo never silently falls back to a default),
JSON body validation (400), then calls the view with the parsed values. The same declarations
generate the OpenAPI document (:mod:`api.openapi`), so the document cannot drift from what
the code accepts. Parameters and fields are declared with :mod:`api.params`; the request is
checked by :mod:`api.request_parsing`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

from flask import g, request

from api.params import Field, Param
from api.request_parsing import check_path, parse_body, parse_query

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


def page(items: Sequence[Any], total: int, q: Mapping[str, Any]) -> dict[str, Any]:
    """The list envelope every paginated answer uses."""
    return {"items": list(items), "total": total, "limit": q["limit"], "offset": q["offset"]}


def slice_page(items: Sequence[Any], q: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`page` of an in-memory list."""
    start = q["offset"]
    return page(items[start : start + q["limit"]], len(items), q)


__all__ = ["EndpointSpec", "endpoint", "page", "slice_page"]
