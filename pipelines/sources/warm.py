"""Warm the API's response cache after a refresh: request the standard windows once.

The API caches public reads in Redis per refresh generation (``api/cache.py``), so the first
reader after a refresh pays for building each answer. After the nightly chain a worker asks
the API itself — the one code path that builds and caches answers — for the list of formats
and, per format, the meta and matchup tables of every standard window. A failure here is
logged and reported, never raised: warming is an optimisation.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from pipelines.core.vocabulary import STANDARD_WINDOW_KEYS

log = logging.getLogger("manalytics.sources.warm")

PAGES = ("meta", "matchups")


@dataclass
class WarmReport:
    """Requests made and how they went."""

    requested: int = 0
    ok: int = 0
    absent: int = 0  # 404: a window the format does not have (no meta period: no "current")
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def warm_api_cache(base_url: str, *, timeout: float = 30.0, user_agent: str) -> WarmReport:
    """GET ``/api/v1/formats`` then each format's standard-window pages from ``base_url``."""
    report = WarmReport()
    base = base_url.rstrip("/") + "/api/v1"
    with requests.Session() as session:
        session.headers["User-Agent"] = user_agent

        def get(path: str, params: dict[str, str] | None = None) -> Any:
            report.requested += 1
            try:
                response = session.get(base + path, params=params, timeout=timeout)
                if response.status_code == 404:
                    report.absent += 1
                    return None
                response.raise_for_status()
            except requests.RequestException as exc:
                report.errors.append(f"{path}: {exc}")
                return None
            report.ok += 1
            return response.json()

        listing = get("/formats", {"limit": "100"})
        formats = [item["format"] for item in (listing or {}).get("items", [])]
        for fmt in formats:
            for page in PAGES:
                get(f"/formats/{fmt}/{page}")  # the default window, as most readers ask
            for window in STANDARD_WINDOW_KEYS:
                for page in PAGES:
                    get(f"/formats/{fmt}/{page}", {"window": window})
    if report.errors:
        log.warning(
            "API cache warming: %d of %d requests failed (first: %s)",
            len(report.errors),
            report.requested,
            report.errors[0],
        )
    else:
        log.info("API cache warmed: %d requests", report.requested)
    return report
