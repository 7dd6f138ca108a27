"""How a setting is declared (:class:`Setting`, :func:`setting`) and the parsers that turn
its environment text into a value.

A parser takes ``(variable name, raw text)`` and returns the value or raises
:class:`SettingsError` naming the variable. The declarations themselves are the fields of
:class:`pipelines.core.settings.Settings`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipelines.core.vocabulary import SOURCE_NAMES


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


def boolean(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be a boolean (true/false), got {raw!r}")


def integer(name: str, raw: str, minimum: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be >= {minimum}, got {value}")
    return value


def number(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


# Rate-limit strings as flask-limiter/limits parse them: "10/minute", "100 per hour",
# "5/10 seconds"; several separated by ";" or ",".
_RATE_ITEM = re.compile(
    r"^\s*\d+\s*(?:/|per)\s*(?:\d+\s*)?"
    r"(?:second|minute|hour|day|month|year)s?\s*$",
    re.IGNORECASE,
)


def rate_limit(name: str, raw: str) -> str:
    value = raw.strip()
    items = [item for item in re.split(r"[;,]", value) if item.strip()]
    if not items or not all(_RATE_ITEM.match(item) for item in items):
        raise SettingsError(
            f"{name} must be a rate limit such as '600/minute' or '10 per second', got {raw!r}"
        )
    return value


def origins(name: str, raw: str) -> tuple[str, ...]:
    origins = tuple(item.strip().rstrip("/") for item in raw.split(",") if item.strip())
    for origin in origins:
        if origin != "*" and not re.match(r"^https?://[^/\s]+$", origin):
            raise SettingsError(
                f"{name} entries must be origins like https://example.org or '*', got {origin!r}"
            )
    return origins


def hosts(name: str, raw: str) -> tuple[str, ...]:
    hosts = tuple(item.strip().lower().rstrip(".") for item in raw.split(",") if item.strip())
    for host in hosts:
        if not re.fullmatch(
            r"(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:[0-9]{1,5})?", host
        ):
            raise SettingsError(
                f"{name} entries must be host names like api.example.org, got {host!r}"
            )
    return hosts


@dataclass(frozen=True)
class Setting:
    """One environment variable: how it is read, its default, and its documentation.

    Declared once, as the ``metadata`` of its :class:`Settings` field (see :func:`setting`);
    the loader, the README table and child-process environments are all derived from it.
    """

    env: str
    parse: Callable[[str, str], Any]
    help: str
    # What the README shows as the default when the value is computed (e.g. "(embedded)").
    shown_default: str | None = None
    # Computes the default from the values read so far (fields are read in declaration order).
    derive: Callable[[dict[str, Any]], Any] | None = None
    # Empty values count as unset (secrets, URLs); else "" reaches the parser.
    empty_is_unset: bool = True


def setting(
    env: str,
    default: Any,
    parse: Callable[[str, str], Any],
    help: str,
    *,
    shown: str | None = None,
    derive: Callable[[dict[str, Any]], Any] | None = None,
) -> Any:
    """A :class:`Settings` field read from ``env`` (the one declaration of a setting)."""
    spec = Setting(env, parse, help, shown_default=shown, derive=derive)
    return field(default=default, metadata={"setting": spec})


def text(name: str, raw: str) -> str:
    return raw


def upper(name: str, raw: str) -> str:
    return raw.upper()


def _path(raw: str) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (Path.cwd() / path).resolve()


def path(name: str, raw: str) -> Path:
    return _path(raw)


def env_mode(name: str, raw: str) -> str:
    mode = raw.strip().lower()
    if mode not in {"development", "test", "production"}:
        raise SettingsError(f"{name} must be development, test or production, got {mode!r}")
    return mode


def at_least(minimum: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        return integer(name, raw, minimum)

    return parse


def between(low: int, high: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        value = integer(name, raw, low)
        if value > high:
            raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
        return value

    return parse


def source_list(name: str, raw: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(item.strip().lower() for item in raw.split(",") if item.strip()))
    unknown = [n for n in names if n not in SOURCE_NAMES]
    if unknown:
        raise SettingsError(
            f"{name}: unknown source(s) {', '.join(unknown)} (known: {', '.join(SOURCE_NAMES)})"
        )
    return names


def calls_per(name: str, raw: str) -> tuple[int, float]:
    """``"200/60"`` -> (200, 60.0): calls per seconds (a rate-limit setting)."""
    calls, sep, seconds = raw.strip().partition("/")
    try:
        value = (int(calls), float(seconds))
    except ValueError:
        value = (0, 0.0)
    if not sep or value[0] < 1 or value[1] <= 0:
        raise SettingsError(f"{name} must look like 200/60 (calls/seconds), got {raw!r}")
    return value


def host_limits(name: str, raw: str) -> tuple[tuple[str, int, float], ...]:
    """``"topdeck.gg=200/60,melee.gg=5/1"`` -> ((host, calls, seconds), ...)."""
    limits = []
    for item in (i.strip() for i in raw.split(",")):
        if not item:
            continue
        host, sep, rate = item.partition("=")
        if not sep or not host.strip():
            raise SettingsError(f"{name} entries must look like topdeck.gg=200/60, got {item!r}")
        limits.append((host.strip().lower(), *calls_per(name, rate)))
    return tuple(limits)


def host_limits_text(name: str, raw: str) -> str:
    host_limits(name, raw)  # validated here, parsed where used (the text round-trips)
    return raw.strip()


def default_limit(name: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in NO_LIMIT:
        calls_per(name, value)
    return value


NO_LIMIT = frozenset({"none", "off", "0"})


def subdir(name: str, raw: str) -> str:
    return raw.strip().strip("/")


def log_format(name: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"json", "text"}:
        raise SettingsError(f"{name} must be json or text, got {raw!r}")
    return value


def redis_url_db(url: str) -> int | None:
    """The database number written in a Redis URL (path ``/N`` or ``?db=N``), else None."""
    parts = urlsplit(url)
    path = parts.path.strip("/")
    if path.isdigit():
        return int(path)
    db = parse_qs(parts.query).get("db")
    return int(db[0]) if db and db[0].isdigit() else None


__all__ = [
    "NO_LIMIT",
    "Setting",
    "SettingsError",
    "at_least",
    "between",
    "boolean",
    "calls_per",
    "default_limit",
    "env_mode",
    "host_limits",
    "host_limits_text",
    "hosts",
    "integer",
    "log_format",
    "number",
    "origins",
    "path",
    "rate_limit",
    "redis_url_db",
    "setting",
    "source_list",
    "subdir",
    "text",
    "upper",
]
