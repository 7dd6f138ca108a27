"""Settings -> source objects: which sources run, with what configuration.

``SOURCES_ENABLED`` lists the sources a deployment fetches (default: ``gitcache`` alone, the
community cache repository). A site adapter is built from its settings (base URL,
credentials); one whose credentials are missing is *disabled* — :func:`enabled_sources`
reports it once with the reason, the nightly run logs one line and records a ``disabled``
run instead of failing every night. Adapters are imported lazily, so a build without one
(or without its parser dependencies) still runs the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.core.setting_parsers import NO_LIMIT, calls_per, host_limits
from pipelines.core.settings import Settings
from pipelines.core.vocabulary import SOURCE_NAMES
from pipelines.sources.base import MissingCredentials, Source
from pipelines.sources.gitcache import NAME as GITCACHE
from pipelines.sources.gitcache import GitCacheConfig
from pipelines.sources.http import ClientConfig, RateLimit


@dataclass(frozen=True)
class AdapterSpec:
    """How to build one site adapter from settings."""

    name: str
    target: str  # "module:Class"
    kwargs: Callable[[Settings], dict[str, Any]]
    credentials: tuple[str, ...] = ()  # settings attributes that must be set


def _require(settings: Settings, spec: AdapterSpec) -> None:
    missing = [attr.upper() for attr in spec.credentials if not getattr(settings, attr)]
    if missing:
        raise MissingCredentials(f"{spec.name} needs {' and '.join(missing)}")


ADAPTERS: dict[str, AdapterSpec] = {
    spec.name: spec
    for spec in (
        AdapterSpec(
            "mtgo", "pipelines.sources.mtgo:MtgoSource", lambda s: {"base_url": s.mtgo_base_url}
        ),
        AdapterSpec(
            "melee",
            "pipelines.sources.melee:MeleeSource",
            lambda s: {
                "base_url": s.melee_base_url,
                "email": s.melee_email,
                "password": s.melee_password,
                "session_file": s.sources_dir / "melee" / "session.json",
            },
            credentials=("melee_email", "melee_password"),
        ),
        AdapterSpec(
            "topdeck",
            "pipelines.sources.topdeck:TopdeckSource",
            lambda s: {"base_url": s.topdeck_base_url, "api_key": s.topdeck_api_key},
            credentials=("topdeck_api_key",),
        ),
        AdapterSpec(
            "cardsrealm",
            "pipelines.sources.cardsrealm:CardsRealmSource",
            lambda s: {"base_url": s.cardsrealm_base_url},
        ),
        AdapterSpec(
            "manatraders",
            "pipelines.sources.manatraders:ManatradersSource",
            lambda s: {"base_url": s.manatraders_base_url},
        ),
    )
}


class SourceUnavailable(RuntimeError):
    """The source cannot run in this deployment (unknown, or its adapter is not installed)."""


def build_adapter(settings: Settings, name: str) -> Source:
    """The site adapter ``name`` configured from settings.

    Raises :class:`MissingCredentials` (disabled: tell the operator which settings) or
    :class:`SourceUnavailable`.
    """
    spec = ADAPTERS.get(name)
    if spec is None:
        raise SourceUnavailable(f"unknown source {name!r} (known: {', '.join(SOURCE_NAMES)})")
    _require(settings, spec)
    module_name, _, attr = spec.target.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise SourceUnavailable(f"the {name} adapter is not available: {exc}") from exc
    source: Source = factory(**spec.kwargs(settings))
    return source


def gitcache_config(settings: Settings) -> GitCacheConfig:
    """The cache repository source's configuration."""
    return GitCacheConfig(
        url=settings.gitcache_url,
        branch=settings.gitcache_branch,
        checkout=settings.sources_dir / "gitcache" / "checkout",
        subdir=settings.gitcache_subdir,
    )


def client_config(settings: Settings) -> ClientConfig:
    """The HTTP client's configuration (``SOURCES_DEFAULT_RATE_LIMIT=none`` lifts every
    limit, per-host ones included: the benchmark measures parsing, not politeness)."""
    default = settings.sources_default_rate_limit
    lifted = default in NO_LIMIT
    hosts = host_limits("SOURCES_RATE_LIMITS", settings.sources_rate_limits)
    return ClientConfig(
        user_agent=settings.sources_user_agent,
        connect_timeout=settings.sources_connect_timeout,
        read_timeout=settings.sources_read_timeout,
        max_attempts=settings.sources_max_attempts,
        backoff_max=settings.sources_backoff_max,
        retry_after_max=settings.sources_retry_after_max,
        rate_limits={} if lifted else {h: RateLimit(c, p) for h, c, p in hosts},
        default_rate=None
        if lifted
        else RateLimit(*calls_per("SOURCES_DEFAULT_RATE_LIMIT", default)),
    )


@dataclass(frozen=True)
class SourceState:
    """One known source: whether this deployment fetches it, and if not, why."""

    name: str
    enabled: bool
    reason: str = ""


def source_states(settings: Settings) -> list[SourceState]:
    """Every known source with its state (``sources list``)."""
    states = []
    for name in SOURCE_NAMES:
        if name not in settings.sources_enabled:
            states.append(SourceState(name, False, "not in SOURCES_ENABLED"))
            continue
        if name == GITCACHE:
            states.append(SourceState(name, True))
            continue
        try:
            build_adapter(settings, name)
        except (MissingCredentials, SourceUnavailable) as exc:
            states.append(SourceState(name, False, str(exc)))
        else:
            states.append(SourceState(name, True))
    return states


def enabled_sources(settings: Settings) -> list[str]:
    """Names of the sources a nightly run fetches, in ``SOURCES_ENABLED`` order."""
    usable = {s.name for s in source_states(settings) if s.enabled}
    return [name for name in settings.sources_enabled if name in usable]
