"""The settings module: coercion, validation messages, production checks, Redis databases."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from pipelines.core.setting_parsers import SettingsError
from pipelines.core.settings import REDIS_DBS, REPO_ROOT, SETTINGS_DOC, Settings
from pipelines.core.settings_export import settings_environment, settings_markdown
from pipelines.core.settings_loader import load_settings

STRONG = "k3J9vQ2xLm8pR4tZ7wYb1NcF6hD0sGaE5uVi"
STRONG_2 = "Zq8Lr2Vm5Xt9Bw3Nk7Jh1Fd6Gs0Pc4Ya8Ue2"

# A valid non-default value for every documented variable (checked to change the result).
EXAMPLES = {
    "CORS_ORIGINS": "https://a.example, https://b.example",
    "ALLOWED_HOSTS": "api.example.org, 10.0.0.5:8000",
    "RATELIMIT_DEFAULT": "100/minute",
    "RATELIMIT_AUTHENTICATED": "1000 per hour",
    "RATELIMIT_AUTH": "5/minute",
    "RATELIMIT_FAIL_OPEN": "false",
    "TRUSTED_PROXY_COUNT": "1",
    "FORCE_HTTPS": "true",
    "JWT_ACCESS_TOKEN_MINUTES": "5",
    "JWT_REFRESH_TOKEN_DAYS": "1",
    "JWT_PREVIOUS_SECRET_KEY": STRONG,
    "API_CACHE_SECONDS": "60",
    "STATS_MIN_PLAYERS": "3",
    "STATS_MIN_DECIDED": "10",
    "BACKUP_DIR": "/srv/backups",
    "BACKUP_KEEP": "30",
    "BACKUP_MAX_AGE_HOURS": "50",
    "RUN_HEARTBEAT_SECONDS": "2",
    "RUN_STALE_SECONDS": "20",
    "RUN_REPUBLISH_SECONDS": "300",
    "RUN_MAX_ATTEMPTS": "3",
    "REAPER_INTERVAL_SECONDS": "5",
    "BEAT_LOCK_SECONDS": "10",
    "INGEST_BATCH_DECKS": "500",
    "CLASSIFY_CHUNK_DECKS": "1000",
    "WORKER_METRICS_PORT": "0",
    "WORKER_SOFT_SHUTDOWN_SECONDS": "20",
    "LOG_FORMAT": "text",
    "MANALYTICS_ENV": "test",
    "DATABASE_URL": "postgresql://u@db:5432/x",
    "REDIS_URL": "redis://cache:6379",
    "MANALYTICS_VAR_DIR": "/tmp/manalytics-var",
    "MANALYTICS_DATA_DIR": "/tmp/manalytics-data",
    "MANALYTICS_CACHE_DIR": "/tmp/manalytics-cache",
    "MANALYTICS_FORMATS_DIR": "/tmp/manalytics-formats",
    "MANALYTICS_DEMO_DECKS": "50",
    "SECRET_KEY": STRONG,
    "JWT_SECRET_KEY": STRONG_2,
    "DB_POOL_MIN": "2",
    "DB_POOL_MAX": "8",
    "DB_POOL_TIMEOUT": "2.5",
    "DB_STATEMENT_TIMEOUT_MS": "1500",
    "MIGRATION_LOCK_TIMEOUT_MS": "1000",
    "MIGRATION_STATEMENT_TIMEOUT_MS": "1000",
    "CELERY_VISIBILITY_TIMEOUT": "7200",
    "BEAT_SCHEDULE_FILENAME": "/tmp/beat/schedule",
    "INGEST_HOUR_UTC": "5",
    "LOG_LEVEL": "debug",
    "HTTP_HOST": "0.0.0.0",
    "HTTP_PORT": "8080",
    "EMBEDDED_REDIS_PORT": "6499",
    "PROMETHEUS_MULTIPROC_DIR": "/tmp/prom",
    # sources (issue 10)
    "SOURCES_ENABLED": "gitcache, mtgo,topdeck",
    "SOURCES_DATA_DIR": "/tmp/manalytics-sources",
    "SOURCES_HOUR_UTC": "4",
    "SOURCES_STAGGER_MINUTES": "5",
    "SOURCES_LOOKBACK_DAYS": "14",
    "SOURCES_REFETCH_DAYS": "5",
    "SOURCES_USER_AGENT": "TestBot/1.0",
    "SOURCES_CONNECT_TIMEOUT": "3",
    "SOURCES_READ_TIMEOUT": "30",
    "SOURCES_MAX_ATTEMPTS": "3",
    "SOURCES_BACKOFF_MAX": "10",
    "SOURCES_RETRY_AFTER_MAX": "60",
    "SOURCES_RATE_LIMITS": "topdeck.gg=100/60, melee.gg=5/1",
    "SOURCES_DEFAULT_RATE_LIMIT": "none",
    "GITCACHE_URL": "file:///tmp/cache.git",
    "GITCACHE_BRANCH": "master",
    "GITCACHE_SUBDIR": "cache",
    "MTGO_BASE_URL": "http://127.0.0.1:1/mtgo",
    "MELEE_BASE_URL": "http://127.0.0.1:1/melee",
    "MELEE_EMAIL": "ops@example.org",
    "MELEE_PASSWORD": "hunter2",
    "TOPDECK_BASE_URL": "http://127.0.0.1:1/topdeck",
    "TOPDECK_API_KEY": "key",
    "CARDSREALM_BASE_URL": "http://127.0.0.1:1/cr",
    "MANATRADERS_BASE_URL": "http://127.0.0.1:1/mt",
    "FORMATS_SYNC_HOUR_UTC": "2",
    "API_BASE_URL": "http://api:8000",
}


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"SOURCES_ENABLED": "gitcache,nope"}, "SOURCES_ENABLED"),
        ({"SOURCES_RATE_LIMITS": "topdeck.gg"}, "SOURCES_RATE_LIMITS"),
        ({"SOURCES_RATE_LIMITS": "topdeck.gg=0/60"}, "SOURCES_RATE_LIMITS"),
        ({"SOURCES_DEFAULT_RATE_LIMIT": "fast"}, "SOURCES_DEFAULT_RATE_LIMIT"),
        ({"SOURCES_HOUR_UTC": "24"}, "SOURCES_HOUR_UTC"),
    ],
)
def test_invalid_source_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(env)


def test_source_settings_are_parsed() -> None:
    from pipelines.sources.http import RateLimit
    from pipelines.sources.registry import client_config

    settings = load_settings(EXAMPLES)
    assert settings.sources_enabled == ("gitcache", "mtgo", "topdeck")
    lifted = client_config(settings)  # 'none' lifts every limit, per-host ones too
    assert lifted.default_rate is None and lifted.rate_limits == {}
    limited = client_config(
        load_settings({"SOURCES_RATE_LIMITS": "topdeck.gg=100/60, melee.gg=5/1"})
    )
    assert limited.rate_limits == {
        "topdeck.gg": RateLimit(100, 60.0),
        "melee.gg": RateLimit(5, 1.0),
    }
    assert limited.default_rate == RateLimit(60, 60.0)
    defaults = load_settings({})
    assert defaults.sources_enabled == ("gitcache",)
    assert client_config(defaults).rate_limits == {"topdeck.gg": RateLimit(200, 60.0)}
    assert defaults.sources_dir == defaults.var_dir / "sources"


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "MANALYTICS_ENV": "production",
        "SECRET_KEY": STRONG,
        "JWT_SECRET_KEY": STRONG_2,
        "DATABASE_URL": "postgresql://u:p@db:5432/manalytics",
        "REDIS_URL": "redis://redis:6379",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def test_defaults_leave_services_to_be_embedded() -> None:
    settings = load_settings({})
    assert settings.env == "development"
    assert settings.database_url is None and settings.redis_url is None
    assert settings.cache_dir is None
    assert settings.db_pool_min == 1 and settings.db_pool_max == 4
    assert settings.embedded_redis_port == 6390
    assert settings.beat_schedule_filename == settings.var_dir / "celerybeat-schedule"
    assert not settings.is_production


def test_values_are_coerced() -> None:
    settings = load_settings(EXAMPLES)
    assert settings.db_pool_max == 8 and isinstance(settings.db_pool_max, int)
    assert settings.db_pool_timeout == 2.5
    assert settings.http_port == 8080
    assert settings.log_level == "DEBUG"
    assert settings.var_dir == Path("/tmp/manalytics-var")
    assert settings.prometheus_multiproc_dir == Path("/tmp/prom")
    assert settings.ingest_hour_utc == 5


def test_relative_paths_resolve_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"MANALYTICS_VAR_DIR": "state", "MANALYTICS_CACHE_DIR": "c"})
    assert settings.var_dir == tmp_path / "state"
    assert settings.cache_dir == tmp_path / "c"
    # The beat state file follows the var dir unless set on its own.
    assert settings.beat_schedule_filename == tmp_path / "state" / "celerybeat-schedule"


@pytest.mark.parametrize("doc", SETTINGS_DOC, ids=lambda d: d.env)
def test_every_documented_variable_is_read(doc) -> None:  # type: ignore[no-untyped-def]
    assert doc.env in EXAMPLES, f"add an example value for {doc.env}"
    assert load_settings({doc.env: EXAMPLES[doc.env]}) != load_settings({})


def test_markdown_table_lists_every_variable() -> None:
    table = settings_markdown()
    for doc in SETTINGS_DOC:
        assert f"`{doc.env}`" in table


def test_readme_table_is_the_generated_one() -> None:
    """The README's settings table is exactly what the code declares (regenerate it with
    ``manalytics settings --markdown`` after adding a setting)."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_markdown() in readme
    # ...and no stale copy of a row elsewhere (a merge once left an old block behind).
    for spec in (f.metadata["setting"] for f in fields(Settings)):
        assert readme.count(f"| `{spec.env}` |") == 1, spec.env


def test_child_environment_round_trips() -> None:
    """A child process given the settings as variables reads the same settings."""
    settings = load_settings(EXAMPLES)
    variables = {k: v for k, v in settings_environment(settings).items() if v is not None}
    assert load_settings(variables) == settings
    assert load_settings(
        {k: v for k, v in settings_environment(load_settings({})).items() if v is not None}
    ) == load_settings({})


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DB_POOL_MIN": "lots"}, "DB_POOL_MIN"),
        ({"DB_POOL_MAX": "0"}, "DB_POOL_MAX"),
        ({"DB_POOL_MIN": "5", "DB_POOL_MAX": "2"}, "DB_POOL_MAX"),
        ({"DB_POOL_TIMEOUT": "soon"}, "DB_POOL_TIMEOUT"),
        ({"HTTP_PORT": "http"}, "HTTP_PORT"),
        ({"EMBEDDED_REDIS_PORT": "-1"}, "EMBEDDED_REDIS_PORT"),
        ({"INGEST_HOUR_UTC": "24"}, "INGEST_HOUR_UTC"),
        ({"CELERY_VISIBILITY_TIMEOUT": "10"}, "CELERY_VISIBILITY_TIMEOUT"),
        ({"MANALYTICS_DEMO_DECKS": "0"}, "MANALYTICS_DEMO_DECKS"),
        ({"MANALYTICS_ENV": "staging"}, "MANALYTICS_ENV"),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(env)


def test_production_accepts_strong_secrets_and_urls() -> None:
    settings = load_settings(production_env())
    assert settings.is_production
    assert settings.secret_key == STRONG


def test_production_refuses_missing_secrets_and_says_which() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(production_env(SECRET_KEY="", JWT_SECRET_KEY=""))
    message = str(info.value)
    assert "SECRET_KEY is missing" in message
    assert "JWT_SECRET_KEY is missing" in message


@pytest.mark.parametrize(
    "weak",
    ["changeme", "short-but-random-Xy7", "a" * 40, "abababababababababababababababababab"],
)
def test_production_refuses_weak_secrets(weak: str) -> None:
    with pytest.raises(SettingsError, match="JWT_SECRET_KEY is weak") as info:
        load_settings(production_env(JWT_SECRET_KEY=weak))
    assert "SECRET_KEY is weak" not in str(info.value).replace("JWT_SECRET_KEY", "")


def test_production_refuses_embedded_services() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(production_env(DATABASE_URL="", REDIS_URL=""))
    assert "DATABASE_URL is missing" in str(info.value)
    assert "REDIS_URL is missing" in str(info.value)


def test_development_keeps_its_dev_secrets() -> None:
    settings = load_settings({"SECRET_KEY": ""})
    assert settings.secret_key == Settings().secret_key


@pytest.mark.parametrize("base", ["redis://cache:6379", "redis://cache:6379/"])
def test_redis_db_url_without_a_number_uses_one_logical_db_per_purpose(base: str) -> None:
    settings = Settings(redis_url=base)
    for purpose, index in REDIS_DBS.items():
        assert settings.redis_db_url(purpose) == f"redis://cache:6379/{index}"
    urls = {settings.redis_db_url(purpose) for purpose in REDIS_DBS}
    assert len(urls) == len(REDIS_DBS)


@pytest.mark.parametrize(
    "url",
    [
        "redis://cache:6379/7",
        "redis://cache:6379/7?health_check_interval=10",
        "redis://:s3cret@cache:6379/0",
        "redis://cache:6379?db=7",
    ],
)
def test_redis_db_url_honours_the_database_number(url: str) -> None:
    # Issue 12 (13): the number in REDIS_URL is the deployment's one database.
    settings = Settings(redis_url=url)
    assert {settings.redis_db_url(purpose) for purpose in REDIS_DBS} == {url}


def test_redis_db_url_keeps_credentials() -> None:
    settings = Settings(redis_url="redis://:s3cret@cache:6379")
    assert settings.redis_db_url("broker") == "redis://:s3cret@cache:6379/0"
    assert settings.redis_db_url("limiter") == "redis://:s3cret@cache:6379/2"


def test_redis_db_url_needs_a_resolved_url() -> None:
    with pytest.raises(SettingsError, match="REDIS_URL"):
        Settings().redis_db_url("broker")


def test_redis_db_url_rejects_unknown_purposes() -> None:
    with pytest.raises(KeyError):
        Settings(redis_url="redis://cache:6379").redis_db_url("sessions")


@pytest.mark.parametrize(
    ("env", "raw"),
    [("STATS_MIN_PLAYERS", "1"), ("STATS_MIN_DECIDED", "0"), ("STATS_MIN_DECIDED", "x")],
)
def test_minimum_sample_settings_are_validated(env: str, raw: str) -> None:
    with pytest.raises(SettingsError, match=env):
        load_settings({env: raw})


def test_a_live_run_can_never_look_stale() -> None:
    with pytest.raises(SettingsError, match="RUN_STALE_SECONDS"):
        load_settings({"RUN_HEARTBEAT_SECONDS": "10", "RUN_STALE_SECONDS": "15"})
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        load_settings({"LOG_FORMAT": "xml"})
