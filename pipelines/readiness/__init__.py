"""``manalytics readiness``: probe a running deployment, print the production checklist.

Each check returns PASS or FAIL with the evidence it saw. HTTP checks go to the public URL
(through the proxy, as a client would); configuration checks read this process's settings
(run the command with the deployment's environment); database checks use DATABASE_URL;
"alerts loaded" asks Prometheus' API; backups are looked for in BACKUP_DIR.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.core.settings import Settings

#: Alerts that must be loaded in Prometheus (the seed's and the pipeline's).
REQUIRED_ALERTS = (
    "ManalyticsApiErrorRate", "ManalyticsDatabaseDown", "ManalyticsRedisDown",
    "ManalyticsDiskLow", "ManalyticsMemoryHigh", "ManalyticsSourceFetchStale",
    "ManalyticsTaskFailureRate", "ManalyticsRefreshStale", "ManalyticsQueueBacklog",
    "ManalyticsApiLatencyP95", "ManalyticsBackupStale",
)  # fmt: skip
SECURITY_HEADERS = ("Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options",
                    "Content-Security-Policy")  # fmt: skip


@dataclass(frozen=True)
class Result:
    name: str
    passed: bool
    evidence: str


@dataclass
class Target:
    """What to probe. ``url``: the public HTTPS base URL."""

    url: str
    settings: Settings
    http_url: str | None = None
    database_url: str | None = None
    prometheus_url: str | None = None
    backup_dir: Path | None = None
    insecure: bool = False  # accept a self-signed certificate (local stacks)
    _cache: dict[str, Any] = field(default_factory=dict)

    def fetch(self, url: str, method: str = "GET", headers: Mapping[str, str] | None = None,
              body: bytes | None = None) -> tuple[int, Any, bytes]:  # fmt: skip
        """(status, headers, body); redirects are answers, not followed."""

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        context = ssl.create_default_context()
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        opener = urllib.request.build_opener(
            NoRedirect, urllib.request.HTTPSHandler(context=context)
        )
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def get(self, path: str, **kwargs: Any) -> tuple[int, Any, bytes]:
        return self.fetch(self.url.rstrip("/") + path, **kwargs)


Check = Callable[[Target], Result]


def check_https_enforced(t: Target) -> Result:
    name = "HTTPS enforced"
    if not t.url.startswith("https://"):
        return Result(name, False, f"public URL is not HTTPS: {t.url}")
    plain = t.http_url or f"http://{urllib.parse.urlsplit(t.url).hostname}"
    try:
        status, headers, _ = t.fetch(plain.rstrip("/") + "/api/v1/ping")
    except OSError as exc:
        return Result(name, True, f"plain HTTP refused ({type(exc).__name__}); HTTPS only")
    location = headers.get("Location", "")
    ok = status in (301, 308) and location.startswith("https://")
    return Result(name, ok, f"GET {plain}/api/v1/ping -> {status} Location={location or '-'}")


def check_security_headers(t: Target) -> Result:
    _, headers, _ = t.get("/api/v1/ping")
    missing = [h for h in SECURITY_HEADERS if not headers.get(h)]
    hsts = headers.get("Strict-Transport-Security", "")
    return Result("security headers", not missing,
                  f"missing {missing}" if missing else f"all present (HSTS: {hsts})")  # fmt: skip


def check_cors(t: Target) -> Result:
    _, headers, _ = t.get("/api/v1/ping", headers={"Origin": "https://evil.example"})
    allowed = headers.get("Access-Control-Allow-Origin")
    origins = t.settings.cors_origins
    ok = allowed is None and "*" not in origins
    return Result("CORS restricted", ok,
                  f"foreign origin got Access-Control-Allow-Origin={allowed!r}; "
                  f"CORS_ORIGINS={','.join(origins) or '(none)'}")  # fmt: skip


def check_rate_limiting(t: Target) -> Result:
    _, headers, _ = t.get("/api/v1/ping")
    limit = headers.get("X-RateLimit-Limit") or headers.get("RateLimit-Limit")
    evidence = f"X-RateLimit-Limit={limit}, RATELIMIT_DEFAULT={t.settings.ratelimit_default}"
    return Result("rate limiting active", bool(limit), evidence)


def check_health(t: Target) -> Result:
    health, _, _ = t.get("/health")
    status, _, body = t.get("/ready")
    try:
        ready = json.loads(body).get("status")
    except ValueError:
        ready = None
    return Result("health and readiness", health == 200 and status == 200 and ready == "ok",
                  f"/health {health}, /ready {status} status={ready}")  # fmt: skip


def check_metrics(t: Target) -> Result:
    public, _, _ = t.get("/metrics")
    evidence = f"public /metrics -> {public}"
    ok = public == 404
    if t.prometheus_url:
        data = _prometheus(
            t, "/api/v1/query?query=" + urllib.parse.quote('up{job="manalytics-api"}')
        )
        values = [r["value"][1] for r in data.get("data", {}).get("result", [])]
        ok = ok and bool(values) and all(v == "1" for v in values)
        evidence += f"; Prometheus scrapes the API: up={values}"
    return Result("metrics scraped, not public", ok, evidence)


def _prometheus(t: Target, path: str) -> dict[str, Any]:
    assert t.prometheus_url
    with urllib.request.urlopen(t.prometheus_url.rstrip("/") + path, timeout=10) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def check_alerts_loaded(t: Target) -> Result:
    name = "alerts loaded"
    if not t.prometheus_url:
        return Result(name, False, "no --prometheus-url given")
    try:
        data = _prometheus(t, "/api/v1/rules?type=alert")
    except OSError as exc:
        return Result(name, False, f"Prometheus unreachable: {exc}")
    loaded = {r["name"] for g in data["data"]["groups"] for r in g["rules"]}
    missing = [a for a in REQUIRED_ALERTS if a not in loaded]
    evidence = f"{len(loaded)} alerting rules loaded" + (f"; missing {missing}" if missing else "")
    return Result(name, not missing, evidence)


def check_jwt_and_passwords(t: Target) -> Result:
    from pipelines.auth.passwords import check_password

    minutes, days = t.settings.jwt_access_token_minutes, t.settings.jwt_refresh_token_days
    weak = check_password("password1")
    ok = minutes <= 60 and days <= 30 and bool(weak)
    refused = "; ".join(weak)[:80]
    evidence = f"access {minutes} min, refresh {days} d; 'password1' refused: {refused}"
    return Result("JWT expiry and password rules", ok, evidence)


def check_api_keys_hashed(t: Target) -> Result:
    name = "API keys hashed"
    if not t.database_url:
        return Result(name, False, "no DATABASE_URL")
    from pipelines.core.db import connect

    with connect(t.database_url, application_name="manalytics-readiness", autocommit=True) as c:
        columns = {row[0]: row[1] for row in c.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'api_keys'")}  # fmt: skip
    plain = [col for col in columns if col in {"key", "secret", "token", "api_key"}]
    ok = columns.get("secret_hash") == "bytea" and not plain
    return Result(name, ok, f"api_keys columns: {sorted(columns)}")


def check_migrations(t: Target) -> Result:
    name = "migrations current"
    if not t.database_url:
        return Result(name, False, "no DATABASE_URL")
    from pipelines.storage import migrations

    rows = migrations.status(t.database_url)
    pending = [r.version for r in rows if not r.applied]
    changed = [r.version for r in rows if not r.checksum_ok]
    head = max((r.version for r in rows if r.applied), default=None)
    return Result(name, not pending and not changed,
                  f"head {head}, pending {pending}, changed since applied {changed}")  # fmt: skip


def check_backups(t: Target) -> Result:
    from pipelines.backup import BackupError, list_backups, verify_backup

    name = "backups recent and restorable"
    directory = t.backup_dir or t.settings.backup_dir
    backups = list_backups(directory)
    if not backups:
        return Result(name, False, f"no backup in {directory}")
    newest = backups[0]
    age_h = (datetime.now(UTC) - newest.created_at).total_seconds() / 3600
    try:
        verify_backup(newest.path)
    except BackupError as exc:
        return Result(name, False, str(exc))
    ok = age_h <= t.settings.backup_max_age_hours
    limit = t.settings.backup_max_age_hours
    evidence = f"{newest.path.name}: {age_h:.1f} h old (max {limit}), checksum and listing OK"
    return Result(name, ok, evidence)


CHECKS: tuple[Check, ...] = (
    check_rate_limiting, check_cors, check_https_enforced, check_security_headers,
    check_jwt_and_passwords, check_api_keys_hashed, check_metrics, check_health,
    check_alerts_loaded, check_backups, check_migrations,
)  # fmt: skip


def run_checks(target: Target, checks: tuple[Check, ...] = CHECKS) -> list[Result]:
    results = []
    for check in checks:
        try:
            results.append(check(target))
        except Exception as exc:  # a probe that breaks is a FAIL with its reason
            name = check.__name__.removeprefix("check_").replace("_", " ")
            results.append(Result(name, False, f"{type(exc).__name__}: {exc}"))
    return results


def render(results: list[Result], markdown: bool = False) -> str:
    if markdown:
        lines = ["| Check | Result | Evidence |", "|---|---|---|"]
        for r in results:
            verdict = "PASS" if r.passed else "**FAIL**"
            lines.append(f"| {r.name} | {verdict} | {r.evidence.replace('|', '/')} |")
    else:
        width = max(len(r.name) for r in results)
        lines = [
            f"{'PASS' if r.passed else 'FAIL'}  {r.name:<{width}}  {r.evidence}" for r in results
        ]
    failed = sum(not r.passed for r in results)
    lines.append("")
    lines.append(
        f"{len(results) - failed}/{len(results)} checks pass"
        + (f", {failed} FAIL" if failed else "")
    )
    return "\n".join(lines)
