"""Per-source status from the run records: ``sources status`` and the Prometheus gauges."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

_STATUS_SQL = """
WITH last AS (
    SELECT DISTINCT ON (source) source, id, status, started_at, finished_at, error, failures,
           fetched, quarantined
      FROM source_runs ORDER BY source, id DESC
), success AS (
    SELECT source, max(finished_at) AS last_success
      FROM source_runs WHERE status IN ('succeeded', 'partial') GROUP BY source
), totals AS (
    SELECT source, sum(pages) AS pages, sum(retries) AS retries, max(newest_event) AS newest
      FROM source_runs GROUP BY source
), quarantine AS (
    SELECT source, count(*) AS quarantined FROM source_quarantine GROUP BY source
), events AS (
    SELECT source, count(*) AS events, max(event_date) AS newest_event,
           count(*) FILTER (WHERE status = 'failed') AS failed_events
      FROM source_events GROUP BY source
)
SELECT l.source, l.status AS last_status, l.started_at AS last_started_at,
       l.finished_at AS last_finished_at, l.error AS last_error, l.failures AS last_failures,
       s.last_success, t.pages, t.retries,
       GREATEST(t.newest, e.newest_event) AS newest_event,
       COALESCE(q.quarantined, 0) AS quarantined, COALESCE(e.events, 0) AS events,
       COALESCE(e.failed_events, 0) AS failed_events
  FROM last l
  LEFT JOIN success s USING (source)
  LEFT JOIN totals t USING (source)
  LEFT JOIN quarantine q USING (source)
  LEFT JOIN events e USING (source)
 ORDER BY l.source
"""

_FAILURES_SQL = """
SELECT source, key, sum(value::bigint) AS n
  FROM source_runs, jsonb_each_text(failures)
 GROUP BY source, key ORDER BY source, key
"""


@dataclass
class SourceStatus:
    """What an operator wants to know about one source."""

    source: str
    last_status: str | None = None
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_error: str | None = None
    last_failures: dict[str, int] = field(default_factory=dict)
    last_success: datetime | None = None
    newest_event: date | None = None
    pages: int = 0
    retries: int = 0
    quarantined: int = 0
    events: int = 0
    failed_events: int = 0
    failures_total: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out: dict[str, Any] = {}
        for key, value in vars(self).items():
            out[key] = value.isoformat() if isinstance(value, date | datetime) else value
        return out


def source_status(conn: psycopg.Connection) -> list[SourceStatus]:
    """One entry per source that ever ran (runs of all time: the table is small — one row a
    source a night)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_STATUS_SQL).fetchall()
        failures = cur.execute(_FAILURES_SQL).fetchall()
    conn.commit()
    result = {}
    for row in rows:
        row["pages"] = int(row["pages"] or 0)
        row["retries"] = int(row["retries"] or 0)
        row["last_failures"] = dict(row["last_failures"] or {})
        result[row["source"]] = SourceStatus(**row)
    for row in failures:
        if row["source"] in result:
            result[row["source"]].failures_total[row["key"]] = int(row["n"])
    return list(result.values())
