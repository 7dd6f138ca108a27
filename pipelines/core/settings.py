"""The one place environment variables are read, coerced and validated.

Every process (CLI, Celery worker and beat, gunicorn) calls :func:`get_settings`; nothing else
reads ``os.environ``. In production (``MANALYTICS_ENV=production``) a missing or weak secret
stops the process with a message naming the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_DEFINITIONS_DIR = REPO_ROOT / "pipelines" / "demo" / "definitions"

# Secrets shorter than this are refused in production (32 random bytes ≈ 43 base64 chars).
MIN_SECRET_LENGTH = 32
_WEAK_SECRETS = {"changeme", "secret", "dev", "development", "test", "password"}


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be a boolean (true/false), got {raw!r}")


def _int(name: str, raw: str, minimum: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be >= {minimum}, got {value}")
    return value


def _float(name: str, raw: str) -> float:
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


def _rate(name: str, raw: str) -> str:
    value = raw.strip()
    items = [item for item in re.split(r"[;,]", value) if item.strip()]
    if not items or not all(_RATE_ITEM.match(item) for item in items):
        raise SettingsError(
            f"{name} must be a rate limit such as '600/minute' or '10 per second', got {raw!r}"
        )
    return value


def _origins(name: str, raw: str) -> tuple[str, ...]:
    origins = tuple(item.strip().rstrip("/") for item in raw.split(",") if item.strip())
    for origin in origins:
        if origin != "*" and not re.match(r"^https?://[^/\s]+$", origin):
            raise SettingsError(
                f"{name} entries must be origins like https://example.org or '*', got {origin!r}"
            )
    return origins


def _hosts(name: str, raw: str) -> tuple[str, ...]:
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


# Parsers: (variable name, raw text) -> value; each raises SettingsError naming the variable.
def _text(name: str, raw: str) -> str:
    return raw


def _upper(name: str, raw: str) -> str:
    return raw.upper()


def _path(raw: str) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (Path.cwd() / path).resolve()


def _path_setting(name: str, raw: str) -> Path:
    return _path(raw)


def _env_mode(name: str, raw: str) -> str:
    mode = raw.strip().lower()
    if mode not in {"development", "test", "production"}:
        raise SettingsError(f"{name} must be development, test or production, got {mode!r}")
    return mode


def _at_least(minimum: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        return _int(name, raw, minimum)

    return parse


def _between(low: int, high: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        value = _int(name, raw, low)
        if value > high:
            raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
        return value

    return parse


SOURCE_NAMES = ("gitcache", "mtgo", "melee", "topdeck", "cardsrealm", "manatraders")


def _source_list(name: str, raw: str) -> tuple[str, ...]:
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


def _host_limits(name: str, raw: str) -> str:
    host_limits(name, raw)  # validated here, parsed where used (the text round-trips)
    return raw.strip()


def _default_limit(name: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in NO_LIMIT:
        calls_per(name, value)
    return value


NO_LIMIT = frozenset({"none", "off", "0"})


def _subdir(name: str, raw: str) -> str:
    return raw.strip().strip("/")


def _log_format(name: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"json", "text"}:
        raise SettingsError(f"{name} must be json or text, got {raw!r}")
    return value


DEFAULT_RATE = "600/minute"


@dataclass(frozen=True)
class Settings:
    """Validated runtime settings; build with :func:`load_settings` or :func:`get_settings`.

    Each field is one environment variable, declared once here with :func:`setting`.
    """

    env: str = setting(
        "MANALYTICS_ENV", "development", _env_mode, "development, test or production"
    )
    database_url: str | None = setting(
        "DATABASE_URL",
        None,
        _text,
        "libpq URL of PostgreSQL; unset = embedded PostgreSQL under ./var/pg",
        shown="(embedded)",
    )
    redis_url: str | None = setting(
        "REDIS_URL",
        None,
        _text,
        "Redis base URL; unset = embedded Redis under ./var/redis",
        shown="(embedded)",
    )
    var_dir: Path = setting(
        "MANALYTICS_VAR_DIR",
        REPO_ROOT / "var",
        _path_setting,
        "where embedded services and runtime files live",
        shown="./var",
    )
    data_dir: Path = setting(
        "MANALYTICS_DATA_DIR",
        REPO_ROOT.parent / "shared" / "data",
        _path_setting,
        "real data: tournaments/ and formats/",
        shown="../shared/data",
    )
    cache_dir: Path | None = setting(
        "MANALYTICS_CACHE_DIR",
        None,
        _path_setting,
        "tournament cache folder the run command ingests",
        shown="(demo set)",
    )
    formats_dir: Path | None = setting(
        "MANALYTICS_FORMATS_DIR",
        None,
        _path_setting,
        "MTGOFormatData Formats folder: archetype rules and meta periods, for workers and API",
        shown="(demo definitions)",
    )
    demo_decks: int = setting(
        "MANALYTICS_DEMO_DECKS",
        3000,
        _at_least(1),
        "decks in the demo set generated by the run command",
    )
    secret_key: str = setting(
        "SECRET_KEY",
        "dev-secret-key-not-for-production-use-000",
        _text,
        "Flask secret; >= 32 chars in production",
        shown="(dev only)",
    )
    jwt_secret_key: str = setting(
        "JWT_SECRET_KEY",
        "dev-jwt-key-not-for-production-use-00000",
        _text,
        "JWT signing key; >= 32 chars in production",
        shown="(dev only)",
    )
    db_pool_min: int = setting(
        "DB_POOL_MIN", 1, _at_least(0), "psycopg pool minimum size per process"
    )
    db_pool_max: int = setting(
        "DB_POOL_MAX", 4, _at_least(1), "psycopg pool maximum size per process"
    )
    db_pool_timeout: float = setting(
        "DB_POOL_TIMEOUT", 10.0, _float, "seconds to wait for a pooled connection", shown="10"
    )
    db_statement_timeout_ms: int = setting(
        "DB_STATEMENT_TIMEOUT_MS", 5000, _at_least(1), "statement timeout of API read transactions"
    )
    migration_lock_timeout_ms: int = setting(
        "MIGRATION_LOCK_TIMEOUT_MS", 5000, _at_least(1), "lock_timeout while applying a migration"
    )
    migration_statement_timeout_ms: int = setting(
        "MIGRATION_STATEMENT_TIMEOUT_MS",
        600_000,
        _at_least(1),
        "statement_timeout of a migration",
    )
    celery_visibility_timeout: int = setting(
        "CELERY_VISIBILITY_TIMEOUT", 14400, _at_least(60), "Redis visibility timeout (seconds)"
    )
    beat_schedule_filename: Path = setting(
        "BEAT_SCHEDULE_FILENAME",
        REPO_ROOT / "var" / "celerybeat-schedule",
        _path_setting,
        "beat state file",
        shown="./var/celerybeat-schedule",
        derive=lambda values: values["var_dir"] / "celerybeat-schedule",
    )
    ingest_hour_utc: int = setting(
        "INGEST_HOUR_UTC", 3, _between(0, 23), "hour of the nightly ingestion"
    )
    log_level: str = setting("LOG_LEVEL", "INFO", _upper, "logging level")
    http_host: str = setting("HTTP_HOST", "127.0.0.1", _text, "address the run command serves on")
    http_port: int = setting("HTTP_PORT", 8000, _at_least(1), "port the run command serves on")
    embedded_redis_port: int = setting(
        "EMBEDDED_REDIS_PORT",
        6390,
        _at_least(1),
        "127.0.0.1 port of the embedded Redis (REDIS_URL unset)",
    )
    prometheus_multiproc_dir: Path | None = setting(
        "PROMETHEUS_MULTIPROC_DIR",
        None,
        _path_setting,
        "prometheus multiprocess dir of gunicorn; set and wiped by the entrypoint",
        shown="(unset)",
    )
    cors_origins: tuple[str, ...] = setting(
        "CORS_ORIGINS",
        (),
        _origins,
        "comma-separated browser origins allowed to read the API; '*' refused in production",
        shown="(none)",
    )
    ratelimit_default: str = setting(
        "RATELIMIT_DEFAULT", DEFAULT_RATE, _rate, "API limit per client IP for anonymous requests"
    )
    ratelimit_authenticated: str = setting(
        "RATELIMIT_AUTHENTICATED",
        "3000/minute",
        _rate,
        "API limit per user for authenticated requests",
    )
    ratelimit_auth: str = setting(
        "RATELIMIT_AUTH", "10/minute", _rate, "limit per client IP on /auth endpoints (stricter)"
    )
    ratelimit_fail_open: bool = setting(
        "RATELIMIT_FAIL_OPEN",
        True,
        _bool,
        "limiter storage (Redis) down: true = keep serving with per-process in-memory limits, "
        "false = answer 503",
        shown="true",
    )
    trusted_proxy_count: int = setting(
        "TRUSTED_PROXY_COUNT",
        0,
        _at_least(0),
        "reverse proxies in front of the API whose X-Forwarded-For/-Proto are trusted",
    )
    allowed_hosts: tuple[str, ...] = setting(
        "ALLOWED_HOSTS",
        (),
        _hosts,
        "comma-separated host names the API answers for (others get 400); the only targets "
        "of the HTTPS redirect",
        shown="(any)",
    )
    # Unset: on in production only (the proxy should redirect too; this is a second line).
    force_https: bool = setting(
        "FORCE_HTTPS",
        False,
        _bool,
        "redirect plain-HTTP requests to HTTPS (not /health)",
        shown="(production)",
        derive=lambda values: values["env"] == "production",
    )
    jwt_access_token_minutes: int = setting(
        "JWT_ACCESS_TOKEN_MINUTES",
        15,
        _between(1, 24 * 60),
        "lifetime of access tokens (at most 1440: access tokens are short)",
    )
    jwt_refresh_token_days: int = setting(
        "JWT_REFRESH_TOKEN_DAYS",
        7,
        _between(1, 30),
        "lifetime of refresh tokens (at most 30: refresh tokens are revocable)",
    )
    jwt_previous_secret_key: str | None = setting(
        "JWT_PREVIOUS_SECRET_KEY",
        None,
        _text,
        "previous JWT signing key, still accepted while rotating (runbook ops/runbooks/api.md)",
        shown="(unset)",
    )
    api_cache_seconds: int = setting(
        "API_CACHE_SECONDS", 300, _at_least(0), "Cache-Control max-age of public API reads"
    )
    stats_min_players: int = setting(
        "STATS_MIN_PLAYERS",
        5,
        _at_least(2),
        "players with a decided match an archetype needs to rank and tier (METHODOLOGY.md §6)",
    )
    stats_min_decided: int = setting(
        "STATS_MIN_DECIDED",
        20,
        _at_least(1),
        "decided matches an archetype needs to rank and tier (METHODOLOGY.md §6)",
    )
    backup_dir: Path = setting(
        "BACKUP_DIR",
        REPO_ROOT / "var" / "backups",
        _path_setting,
        "where `manalytics backup` writes and looks for dumps",
        shown="./var/backups",
        derive=lambda values: values["var_dir"] / "backups",
    )
    backup_keep: int = setting(
        "BACKUP_KEEP", 14, _at_least(1), "backups kept by `manalytics backup create`, newest first"
    )
    backup_max_age_hours: int = setting(
        "BACKUP_MAX_AGE_HOURS", 26, _at_least(1), "`manalytics readiness` fails on an older backup"
    )
    # -- sources (issue 10) ---------------------------------------------------------------
    sources_enabled: tuple[str, ...] = setting(
        "SOURCES_ENABLED",
        ("gitcache",),
        _source_list,
        "comma list of sources fetched nightly: gitcache, mtgo, melee, topdeck, cardsrealm, "
        "manatraders",
    )
    sources_data_dir: Path = setting(
        "SOURCES_DATA_DIR",
        REPO_ROOT / "var" / "sources",
        _path_setting,
        "fetched cache files (cache/) and the cache repository clone (gitcache/)",
        shown="<MANALYTICS_VAR_DIR>/sources",
        derive=lambda values: values["var_dir"] / "sources",
    )
    sources_hour_utc: int = setting(
        "SOURCES_HOUR_UTC", 1, _between(0, 23), "hour of the nightly source fetches"
    )
    sources_stagger_minutes: int = setting(
        "SOURCES_STAGGER_MINUTES", 20, _at_least(0), "minutes between two sources' fetches"
    )
    sources_lookback_days: int = setting(
        "SOURCES_LOOKBACK_DAYS", 7, _at_least(1), "days a nightly run lists (today - N .. today)"
    )
    sources_refetch_days: int = setting(
        "SOURCES_REFETCH_DAYS", 3, _at_least(0), "events younger than N days are fetched again"
    )
    sources_user_agent: str = setting(
        "SOURCES_USER_AGENT",
        "Manalytics/0.1 (metagame statistics; +https://github.com/fbettega/MTG_decklistcache)",
        _text,
        "User-Agent of every request to a site",
    )
    sources_connect_timeout: float = setting(
        "SOURCES_CONNECT_TIMEOUT", 10.0, _float, "seconds to connect to a site"
    )
    sources_read_timeout: float = setting(
        "SOURCES_READ_TIMEOUT", 60.0, _float, "seconds without a byte from a site"
    )
    sources_max_attempts: int = setting(
        "SOURCES_MAX_ATTEMPTS", 5, _at_least(1), "attempts per request (connection, 429, 5xx)"
    )
    sources_backoff_max: float = setting(
        "SOURCES_BACKOFF_MAX", 60.0, _float, "longest back-off between two attempts (seconds)"
    )
    sources_retry_after_max: float = setting(
        "SOURCES_RETRY_AFTER_MAX", 300.0, _float, "longest Retry-After honoured (seconds)"
    )
    sources_rate_limits: str = setting(
        "SOURCES_RATE_LIMITS",
        "topdeck.gg=200/60",
        _host_limits,
        "per-host limits host=calls/seconds, comma-separated (subdomains included)",
    )
    sources_default_rate_limit: str = setting(
        "SOURCES_DEFAULT_RATE_LIMIT",
        "60/60",
        _default_limit,
        "calls/seconds for every other host; 'none' lifts every limit (benchmarks)",
    )
    gitcache_url: str = setting(
        "GITCACHE_URL",
        "https://github.com/fbettega/MTG_decklistcache",
        _text,
        "the community decklist cache repository",
    )
    gitcache_branch: str = setting("GITCACHE_BRANCH", "main", _text, "its branch")
    gitcache_subdir: str = setting(
        "GITCACHE_SUBDIR",
        "Tournaments",
        _subdir,
        "its folder holding <Source>/yyyy/mm/dd/*.json",
    )
    mtgo_base_url: str = setting("MTGO_BASE_URL", "https://www.mtgo.com", _text, "MTGO site")
    melee_base_url: str = setting("MELEE_BASE_URL", "https://melee.gg", _text, "Melee site")
    melee_email: str | None = setting(
        "MELEE_EMAIL", None, _text, "Melee login (melee is disabled without it)", shown="(unset)"
    )
    melee_password: str | None = setting(
        "MELEE_PASSWORD", None, _text, "Melee password", shown="(unset)"
    )
    topdeck_base_url: str = setting("TOPDECK_BASE_URL", "https://topdeck.gg", _text, "Topdeck site")
    topdeck_api_key: str | None = setting(
        "TOPDECK_API_KEY",
        None,
        _text,
        "Topdeck API key (topdeck is disabled without it)",
        shown="(unset)",
    )
    cardsrealm_base_url: str = setting(
        "CARDSREALM_BASE_URL", "https://mtg.cardsrealm.com", _text, "CardsRealm site"
    )
    manatraders_base_url: str = setting(
        "MANATRADERS_BASE_URL", "https://www.manatraders.com", _text, "Manatraders site"
    )
    formats_sync_hour_utc: int = setting(
        "FORMATS_SYNC_HOUR_UTC", 0, _between(0, 23), "hour of the daily definitions sync"
    )
    api_base_url: str | None = setting(
        "API_BASE_URL",
        None,
        _text,
        "where workers reach the API to warm its cache after a refresh",
        shown="http://<HTTP_HOST>:<HTTP_PORT>",
    )
    # Background runs (issue 11): run records, heartbeats, the reaper, one beat, shutdown.
    run_heartbeat_seconds: float = setting(
        "RUN_HEARTBEAT_SECONDS", 5.0, _float, "how often a running task refreshes its heartbeat"
    )
    run_stale_seconds: float = setting(
        "RUN_STALE_SECONDS",
        30.0,
        _float,
        "a running run with an older heartbeat (and its lock free) is re-queued by the reaper",
    )
    run_republish_seconds: float = setting(
        "RUN_REPUBLISH_SECONDS",
        900.0,
        _float,
        "a queued run not started this long after its message was published is published again",
    )
    run_max_attempts: int = setting(
        "RUN_MAX_ATTEMPTS",
        5,
        _at_least(1),
        "attempts of one run that may lose their worker before it is given up (poison message)",
    )
    reaper_interval_seconds: float = setting(
        "REAPER_INTERVAL_SECONDS", 10.0, _float, "how often beat runs the run reaper"
    )
    beat_lock_seconds: int = setting(
        "BEAT_LOCK_SECONDS",
        30,
        _at_least(2),
        "lifetime of the running beat's Redis lock: a second beat takes over this long after "
        "the first died",
    )
    ingest_batch_decks: int = setting(
        "INGEST_BATCH_DECKS",
        4000,
        _at_least(1),
        "decks per committed (checkpointed) ingestion batch",
    )
    classify_chunk_decks: int = setting(
        "CLASSIFY_CHUNK_DECKS",
        2500,
        _at_least(1),
        "decks per checkpointed chunk of a reclassification",
    )
    worker_metrics_port: int = setting(
        "WORKER_METRICS_PORT",
        9808,
        _at_least(0),
        "port of the worker's Prometheus endpoint (main process, all pool processes); 0 = off",
    )
    worker_soft_shutdown_seconds: float = setting(
        "WORKER_SOFT_SHUTDOWN_SECONDS",
        45.0,
        _float,
        "on SIGTERM a worker lets running tasks finish this long, then re-queues them; keep it "
        "below the platform's grace period (compose stop_grace_period 60 s)",
    )
    log_format: str = setting(
        "LOG_FORMAT", "json", _log_format, "worker and beat log lines: json or text"
    )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def definitions_dir(self) -> Path:
        """Archetype definitions in use: MANALYTICS_FORMATS_DIR, else the shipped demo set."""
        return self.formats_dir or DEMO_DEFINITIONS_DIR

    @property
    def sources_dir(self) -> Path:
        """Data directory of the sources (``SOURCES_DATA_DIR``)."""
        return self.sources_data_dir

    @property
    def api_url(self) -> str:
        """Base URL of the API for workers (``API_BASE_URL``, else the run command's)."""
        return (self.api_base_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    @property
    def demo_cache_dir(self) -> Path:
        """Where the run command writes the generated demo tournaments."""
        return self.var_dir / "demo-cache"

    @property
    def tournaments_dir(self) -> Path:
        """The real sample's tournament folder (``<data_dir>/tournaments``)."""
        return self.data_dir / "tournaments"

    @property
    def real_formats_dir(self) -> Path:
        """The real sample's MTGOFormatData folder (``<data_dir>/formats``)."""
        return self.data_dir / "formats"

    def redis_db_url(self, purpose: str) -> str:
        """URL of the Redis database that holds ``purpose``'s keys.

        ``REDIS_URL`` with a database number (``redis://host:6379/7``) is honoured: every
        purpose lives in that one database, kept apart by key prefixes
        (``manalytics:<env>:<purpose>:…``; Celery's own keys are its queue names), so two
        deployments — or a deployment and a test run — sharing one server never touch each
        other's data as long as each has its own number. Without a number
        (``redis://host:6379``) each purpose gets its own logical database (:data:`REDIS_DBS`),
        so a FLUSHDB of the cache never touches queued tasks or revocations.
        """
        if self.redis_url is None:
            raise SettingsError("REDIS_URL is not resolved yet (embedded Redis not started)")
        index = REDIS_DBS[purpose]
        if redis_url_db(self.redis_url) is not None:
            return self.redis_url
        base = self.redis_url.split("?", 1)[0].rstrip("/")
        return f"{base}/{index}"


def redis_url_db(url: str) -> int | None:
    """The database number written in a Redis URL (path ``/N`` or ``?db=N``), else None."""
    parts = urlsplit(url)
    path = parts.path.strip("/")
    if path.isdigit():
        return int(path)
    db = parse_qs(parts.query).get("db")
    return int(db[0]) if db and db[0].isdigit() else None


REDIS_DBS = {"broker": 0, "results": 1, "limiter": 2, "blocklist": 3, "locks": 4, "cache": 5}

# Every setting, in declaration order (the README table, the loader, child environments).
SETTINGS_DOC: tuple[Setting, ...] = tuple(f.metadata["setting"] for f in fields(Settings))
_FIELDS = tuple((f, f.metadata["setting"]) for f in fields(Settings))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate settings from ``environ`` (default: the process environment)."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for f, spec in _FIELDS:
        raw = env.get(spec.env)
        if raw is not None and (raw != "" or not spec.empty_is_unset):
            values[f.name] = spec.parse(spec.env, raw)
        elif spec.derive is not None:
            values[f.name] = spec.derive(values)
        else:
            values[f.name] = f.default
    if values["db_pool_max"] < values["db_pool_min"]:
        raise SettingsError("DB_POOL_MAX must be >= DB_POOL_MIN")
    if not 0 < values["run_heartbeat_seconds"] * 2 <= values["run_stale_seconds"]:
        raise SettingsError(
            "RUN_STALE_SECONDS must be at least twice RUN_HEARTBEAT_SECONDS (and both > 0): a "
            "live run must never look stale"
        )
    settings = Settings(**values)
    if settings.is_production:
        _check_production(settings, env)
    return settings


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def settings_environment(settings: Settings) -> dict[str, str | None]:
    """``settings`` written back as environment variables (None: the variable is unset).

    A child process given these reads the same settings (round trip tested).
    """
    return {
        spec.env: None if getattr(settings, f.name) is None else _render(getattr(settings, f.name))
        for f, spec in _FIELDS
    }


def _check_production(settings: Settings, env: Mapping[str, str]) -> None:
    """Refuse to run in production with a missing or weak secret or an embedded service."""
    problems = []
    for var in ("SECRET_KEY", "JWT_SECRET_KEY"):
        value = env.get(var, "")
        if not value:
            problems.append(f"{var} is missing")
        elif len(value) < MIN_SECRET_LENGTH or value.lower() in _WEAK_SECRETS:
            problems.append(f"{var} is weak (use at least {MIN_SECRET_LENGTH} random characters)")
        elif len(set(value)) < 10:
            problems.append(f"{var} is weak (too few distinct characters)")
    # The development defaults are in this public repository: as good as no secret.
    published = {Settings.secret_key, Settings.jwt_secret_key}
    for var in ("SECRET_KEY", "JWT_SECRET_KEY", "JWT_PREVIOUS_SECRET_KEY"):
        if env.get(var) in published:
            problems.append(f"{var} is the published development default")
    if env.get("SECRET_KEY") and env.get("SECRET_KEY") == env.get("JWT_SECRET_KEY"):
        # One leaked key must not give away the other (session signing vs token signing).
        problems.append("SECRET_KEY and JWT_SECRET_KEY must differ")
    previous = env.get("JWT_PREVIOUS_SECRET_KEY", "")
    if previous and (len(previous) < MIN_SECRET_LENGTH or len(set(previous)) < 10):
        problems.append("JWT_PREVIOUS_SECRET_KEY is weak")
    for var in ("DATABASE_URL", "REDIS_URL"):
        if not env.get(var):
            problems.append(f"{var} is missing (embedded services are for development only)")
    if "*" in settings.cors_origins:
        # A wildcard would let any web page read the API with a visitor's browser.
        problems.append("CORS_ORIGINS must list origins explicitly ('*' is refused)")
    if problems:
        raise SettingsError("refusing to start in production: " + "; ".join(problems))


def require_services(settings: Settings) -> Settings:
    """``settings`` when both service URLs are set, else a clear error.

    Production processes (gunicorn, Celery worker and beat) connect to configured services
    only; ``manalytics run`` starts embedded ones for development and hands their URLs to
    the processes it starts.
    """
    missing = [
        var
        for var, value in (
            ("DATABASE_URL", settings.database_url),
            ("REDIS_URL", settings.redis_url),
        )
        if not value
    ]
    if missing:
        raise SettingsError(
            f"{' and '.join(missing)} must be set (for development, `manalytics run` starts "
            "embedded services and passes their URLs to the processes it starts)"
        )
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once."""
    return load_settings()


def settings_markdown() -> str:
    """The README table of environment variables."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for f, spec in _FIELDS:
        default = spec.shown_default if spec.shown_default is not None else _render(f.default)
        rows.append(f"| `{spec.env}` | `{default}` | {spec.help} |")
    return "\n".join(rows)


__all__ = [
    "NO_LIMIT",
    "REDIS_DBS",
    "SETTINGS_DOC",
    "SOURCE_NAMES",
    "Settings",
    "SettingsError",
    "calls_per",
    "get_settings",
    "host_limits",
    "load_settings",
    "redis_url_db",
    "require_services",
    "settings_environment",
    "settings_markdown",
]
