"""Per-app resources (database pool, caches, blocklist, account states, task queue,
metrics) and the Redis database of each purpose.

``REDIS_URL`` without a database number: one logical database per purpose (``REDIS_DBS``:
limiter 2, blocklist 3, cache 5, broker 0, results 1), so a FLUSHDB of the cache never touches
revocations or queued tasks. With a number (``redis://host/7``): every purpose in that one
database (see :meth:`pipelines.core.settings.Settings.redis_db_url`). Keys are prefixed per
purpose (``manalytics:<env>:<purpose>:…``) either way, so they cannot collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Flask, current_app

from api.auth import Blocklist
from api.cache import GenerationTracker, ResponseCache
from api.db import Database
from api.observability import ApiMetrics
from api.tasks import TaskQueue
from pipelines.auth.backoff import LoginBackoff
from pipelines.auth.stamps import StateCache, accounts_prefix
from pipelines.core.settings import Settings

EXTENSION_KEY = "manalytics"


def redis_url(app: Flask, settings: Settings, purpose: str) -> str:
    """URL of the logical Redis database for ``purpose``."""
    return settings.redis_db_url(purpose)


def key_prefix(settings: Settings, purpose: str) -> str:
    """Prefix of every key the API writes for ``purpose``."""
    return f"manalytics:{settings.env}:{purpose}"


@dataclass
class Resources:
    """What views need besides the request; one per app, in ``app.extensions``."""

    settings: Settings
    db: Database
    cache: ResponseCache
    generations: GenerationTracker
    blocklist: Blocklist
    accounts: StateCache
    logins: LoginBackoff
    tasks: TaskQueue
    metrics: ApiMetrics
    # Built on first use, then kept for the life of the process.
    openapi_document: bytes | None = None
    meta_periods: dict[str, list[tuple[date, str]]] | None = None

    def close(self) -> None:
        """Release pools and connections (tests; workers simply exit)."""
        self.db.close()
        self.cache.close()
        self.blocklist.close()
        self.tasks.close()


def init_resources(app: Flask, settings: Settings, metrics: ApiMetrics) -> Resources:
    """Create the resources of ``app`` (nothing connects until first use)."""
    db = Database(settings)
    blocklist = Blocklist(redis_url(app, settings, "blocklist"), key_prefix(settings, "revoked"))
    res = Resources(
        settings=settings,
        db=db,
        cache=ResponseCache(
            redis_url(app, settings, "cache"),
            key_prefix(settings, "cache"),
            local_bytes=int(app.config["API_LOCAL_CACHE_BYTES"]),
        ),
        generations=GenerationTracker(db, float(app.config["API_GENERATION_CHECK_SECONDS"])),
        blocklist=blocklist,
        # Same Redis database and client as the revocation list: both are checked together.
        accounts=StateCache(lambda: blocklist.client, accounts_prefix(settings)),
        logins=LoginBackoff(lambda: blocklist.client, key_prefix(settings, "logins")),
        tasks=TaskQueue(
            settings, redis_url(app, settings, "broker"), redis_url(app, settings, "results")
        ),
        metrics=metrics,
    )
    app.extensions[EXTENSION_KEY] = res
    return res


def resources(app: Flask | None = None) -> Resources:
    """The resources of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    res: Resources = target.extensions[EXTENSION_KEY]
    return res


__all__ = ["EXTENSION_KEY", "Resources", "init_resources", "key_prefix", "redis_url", "resources"]
