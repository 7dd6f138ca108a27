"""The statistics refresh: one run of :func:`refresh_all` brings the statistics tables and the
standard windows up to date, in **one transaction**, and stamps the result with a new
**generation**.

1. ``pg_try_advisory_lock(REFRESH_LOCK_KEY)`` on the run's own connection — when another
   refresh holds it the run returns ``status="skipped"`` at once instead of queueing behind it
   (beat may fire while a slow run is still going, or an operator may trigger one by hand).
   The lock belongs to the connection, so it goes when the connection closes, even if the
   process dies.
2. A ``refresh_log`` row is written as ``running`` on a second, autocommit connection (so it
   is visible while the run lasts and survives a rollback); its identity is the generation.
3. The transaction starts (``REPEATABLE READ``: every statement sees the same snapshot, so
   the days read from ``stats_dirty_days`` and the data recomputed for them agree; a change
   committed meanwhile stays dirty for the next run). The **scope** is the dirty days
   (incremental, the default) or every day (``full=True``); the archetype names of its
   labels are synced, then every statistics table's rows of those days and of their weeks
   are brought up to date — only rows that changed are deleted or inserted
   (:mod:`pipelines.stats.aggregates`) — and the tables the window queries read are analysed
   after a full run.
4. The standard windows (current meta period and last 7/14/30/90 days of each format, every
   event group) are written for the new generation (:mod:`pipelines.stats.generation`):
   computed again for the formats the scope touched, copied from the previous generation
   for the others; rows of older generations are deleted except the previous succeeded one
   (a reader that looked the generation up in an earlier statement still finds its rows);
   the consumed dirty days are deleted; the log row becomes ``succeeded``. All of it
   commits together, so readers never see an empty or half-written generation.

On any error the transaction rolls back (the previous generation and the dirty days stay)
and the log row is marked ``failed``. Incremental and full runs give identical tables
(``tests/integration/test_incremental_refresh.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg.types.json import Jsonb

from pipelines.core import db
from pipelines.stats.aggregates import open_scope, refill
from pipelines.stats.generation import current_periods, prune_generations, write_windows
from pipelines.stats.intervals import DEFAULT_CONFIDENCE
from pipelines.stats.name_sync import sync_archetype_names
from pipelines.stats.periods import Periods
from pipelines.stats.samples import SampleRules

__all__ = [
    "REFRESH_LOCK_KEY",
    "Generation",
    "RefreshResult",
    "latest_generation",
    "refresh_all",
]

log = logging.getLogger(__name__)

# Arbitrary but fixed, distinct from the migration ("MANA") and ingestion ("INGS") keys.
REFRESH_LOCK_KEY: Final = 0x52465348  # "RFSH"

DEFAULT_LOCK_TIMEOUT_MS: Final = 10_000
# Below the refresh task's soft time limit (1700 s) so a stuck statement fails cleanly first.
DEFAULT_STATEMENT_TIMEOUT_MS: Final = 900_000
# The card-usage table hashes millions of card lines in a full run; below this it spills.
REFRESH_WORK_MEM: Final = "128MB"
# The tables of a run's scope and its freshly computed rows are temporary (no WAL); a full
# run's largest (every deck's facts) is ~100 MB: in memory rather than in temporary files.
REFRESH_TEMP_BUFFERS: Final = "128MB"
# Tables the window queries read. A full run analyses them (everything changed); an
# incremental one leaves it to autoanalyze, which migration 0018 sets to follow a night's
# rows (an ANALYZE samples 30,000 rows of each table: seconds, most of a night's refresh).
_ANALYZED: Final = ("mv_archetype_daily", "mv_player_archetype_daily", "mv_matchup_daily")


@dataclass(frozen=True, slots=True)
class Generation:
    """The latest succeeded refresh: what readers see (API ``ETag`` / ``as_of``)."""

    generation: int
    started_at: datetime
    finished_at: datetime


@dataclass(slots=True)
class RefreshResult:
    """Outcome of :func:`refresh_all`.

    ``status`` is ``"succeeded"`` or ``"skipped"`` (another refresh held the lock; nothing was
    done or logged). ``kind`` is ``"full"`` or ``"incremental"``; ``days`` the (format, day)
    pairs recomputed; ``formats`` the formats whose windows were computed (the others were
    copied). ``durations`` are seconds per step: each table, then ``window_stats``.
    """

    status: str
    generation: int | None = None
    kind: str = "incremental"
    days: int = 0
    formats: list[str] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    meta_rows: int = 0
    matchup_rows: int = 0
    windows: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the Celery task's return value)."""
        return {
            "status": self.status,
            "generation": self.generation,
            "kind": self.kind,
            "days": self.days,
            "formats": self.formats,
            "durations": {k: round(v, 4) for k, v in self.durations.items()},
            "seconds": round(self.seconds, 4),
            "meta_rows": self.meta_rows,
            "matchup_rows": self.matchup_rows,
            "windows": self.windows,
        }


def latest_generation(conn: psycopg.Connection[Any]) -> Generation | None:
    """The latest succeeded refresh, or ``None`` before the first one."""
    row = conn.execute(
        "SELECT generation, started_at, finished_at FROM refresh_log"
        " WHERE status = 'succeeded' ORDER BY generation DESC LIMIT 1"
    ).fetchone()
    return Generation(*row) if row else None


def _start_log(dsn: str, confidence: float, kind: str, rules: SampleRules) -> int:
    """Insert the ``running`` row on an autocommit connection; returns the generation.

    Rows left ``running`` by a run that died are marked failed first: the caller holds the
    refresh lock, so no other run can be in progress.
    """
    with db.connect(dsn, autocommit=True, application_name="manalytics-refresh") as log_conn:
        log_conn.execute(
            "UPDATE refresh_log SET status = 'failed', finished_at = clock_timestamp(),"
            " error = 'abandoned: the refresh process stopped before finishing'"
            " WHERE status = 'running'"
        )
        row = log_conn.execute(
            "INSERT INTO refresh_log (confidence, periods, kind, rules)"
            " VALUES (%s, '{}', %s, %s) RETURNING generation",
            (confidence, kind, Jsonb(asdict(rules))),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _fail_log(dsn: str, generation: int, error: str, durations: Mapping[str, float]) -> None:
    try:
        with db.connect(dsn, autocommit=True, application_name="manalytics-refresh") as log_conn:
            log_conn.execute(
                "UPDATE refresh_log SET status = 'failed', finished_at = clock_timestamp(),"
                " error = %s, durations = %s WHERE generation = %s",
                (error[:4000], Jsonb(dict(durations)), generation),
            )
    except psycopg.Error:  # pragma: no cover - the original error matters more
        log.exception("could not mark refresh generation %s as failed", generation)


def _previous(
    conn: psycopg.Connection[Any], generation: int, confidence: float, rules: SampleRules
) -> int | None:
    """The previous succeeded generation when its windows were computed with the same
    parameters (then its rows can be copied), else ``None``."""
    row = conn.execute(
        "SELECT generation, confidence, rules FROM refresh_log"
        " WHERE status = 'succeeded' AND generation < %s ORDER BY generation DESC LIMIT 1",
        (generation,),
    ).fetchone()
    if row is None or row[1] != confidence or row[2] != asdict(rules):
        return None
    return int(row[0])


def _set_limits(
    conn: psycopg.Connection[Any], lock_timeout_ms: int, statement_timeout_ms: int
) -> None:
    # jit: the statements are cheap but their estimates are not, and compiling them costs
    # more than running them. statement_timeout last: it must not cut the settings short.
    for name, value in (
        ("lock_timeout", f"{int(lock_timeout_ms)}ms"),
        ("jit", "off"),
        ("work_mem", REFRESH_WORK_MEM),
        ("temp_buffers", REFRESH_TEMP_BUFFERS),  # before the first temporary table
        ("statement_timeout", f"{int(statement_timeout_ms)}ms"),
    ):
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))


def _run(
    conn: psycopg.Connection[Any],
    result: RefreshResult,
    *,
    full: bool,
    periods: Periods | None,
    confidence: float,
    rules: SampleRules,
    keep_generations: int,
) -> None:
    """Steps 3 and 4 of the module docstring, inside the caller's transaction."""
    generation = result.generation
    assert generation is not None
    step = time.perf_counter()
    scope = open_scope(conn, full=full)
    result.days = scope.days
    result.durations["scope"] = time.perf_counter() - step
    # Display names and slugs of new labels first: mv_deck_facts groups by them.
    step = time.perf_counter()
    sync_archetype_names(conn, scoped=True)
    result.durations["archetype_names"] = time.perf_counter() - step
    changes: dict[str, int] = {}
    result.durations.update(refill(conn, scope, changes))
    step = time.perf_counter()
    # A full run analyses the tables it changed (all of them after a change of definitions;
    # none when the statistics were already right); small changes are autoanalyze's.
    analyzed = [table for table in _ANALYZED if changes.get(table)]
    if scope.full and analyzed:
        conn.execute("ANALYZE " + ", ".join(analyzed))
    result.durations["analyze"] = time.perf_counter() - step

    step = time.perf_counter()
    written = write_windows(
        conn,
        generation,
        previous=None if full else _previous(conn, generation, confidence, rules),
        changed_formats=scope.formats,
        periods=periods,
        confidence=confidence,
        rules=rules,
    )
    result.formats = sorted(written.computed)
    result.windows = len(written.windows)
    result.meta_rows = written.meta_rows
    result.matchup_rows = written.matchup_rows
    # Keep the previous succeeded generation(s); drop everything older.
    kept = [
        row[0]
        for row in conn.execute(
            "SELECT generation FROM refresh_log WHERE status = 'succeeded'"
            " ORDER BY generation DESC LIMIT %s",
            (keep_generations - 1,),
        )
    ]
    prune_generations(conn, min([generation, *kept]))
    # The days of this snapshot are done; days marked since stay for the next run.
    conn.execute("DELETE FROM stats_dirty_days")
    result.durations["window_stats"] = time.perf_counter() - step
    conn.execute(
        "UPDATE refresh_log SET status = 'succeeded', finished_at = clock_timestamp(),"
        " durations = %s, seconds = %s, meta_rows = %s, matchup_rows = %s,"
        " periods = %s, days = %s WHERE generation = %s",
        (
            Jsonb({k: round(v, 4) for k, v in result.durations.items()}),
            result.seconds,
            result.meta_rows,
            result.matchup_rows,
            Jsonb(current_periods(written.windows)),
            result.days,
            generation,
        ),
    )


def _unlock(conn: psycopg.Connection[Any]) -> None:
    try:
        conn.autocommit = True
        conn.execute("SELECT pg_advisory_unlock(%s)", (REFRESH_LOCK_KEY,))
    except psycopg.Error:  # a broken connection took the lock with it
        log.warning("could not release the refresh lock explicitly", exc_info=True)


def refresh_all(
    dsn: str,
    *,
    full: bool = False,
    periods: Periods | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    keep_generations: int = 2,
    rules: SampleRules | None = None,
) -> RefreshResult:
    """Bring the statistics up to date and write a new generation (module docstring).

    Args:
        dsn: PostgreSQL connection string.
        full: recompute every day and every format (after a definitions change, a migration
            of the statistics, or by hand); else only the dirty days and their formats.
        periods: ``{format: [(start date, meta name), ...]}`` (e.g.
            :func:`pipelines.stats.periods.load_periods`); formats without periods get no
            ``current`` window.
        confidence: level of every interval (stored in ``refresh_log``).
        lock_timeout_ms / statement_timeout_ms: limits of every statement of the run.
        keep_generations: succeeded generations kept in the window tables, the new one
            included (2 = the new one and the previous one).
        rules: minimum sample of the tier table (settings ``STATS_MIN_PLAYERS`` and
            ``STATS_MIN_DECIDED``; default :class:`SampleRules`).

    Returns:
        ``status="skipped"`` immediately when another refresh holds the lock, else
        ``"succeeded"`` with the new generation and per-step durations.

    Raises:
        Whatever failed; the transaction is rolled back (readers keep the previous
        generation, the dirty days stay) and the log row is marked ``failed``.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    if keep_generations < 1:
        raise ValueError("keep_generations must be >= 1")
    rules = rules or SampleRules()
    kind = "full" if full else "incremental"
    started = time.perf_counter()
    with db.connect(dsn, autocommit=True, application_name="manalytics-refresh") as conn:
        locked = conn.execute("SELECT pg_try_advisory_lock(%s)", (REFRESH_LOCK_KEY,)).fetchone()
        if not locked or not locked[0]:
            log.info("statistics refresh skipped: another refresh holds the lock")
            return RefreshResult(status="skipped", kind=kind, seconds=time.perf_counter() - started)
        generation = _start_log(dsn, confidence, kind, rules)
        result = RefreshResult(status="succeeded", generation=generation, kind=kind)
        conn.autocommit = False
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        try:
            _set_limits(conn, lock_timeout_ms, statement_timeout_ms)
            _run(
                conn,
                result,
                full=full,
                periods=periods,
                confidence=confidence,
                rules=rules,
                keep_generations=keep_generations,
            )
            result.seconds = time.perf_counter() - started
            conn.execute(
                "UPDATE refresh_log SET seconds = %s WHERE generation = %s",
                (result.seconds, generation),
            )
            conn.commit()
        except BaseException as exc:
            conn.rollback()
            _fail_log(dsn, generation, repr(exc), result.durations)
            raise
        finally:
            _unlock(conn)
    log.info(
        "statistics refresh generation %s (%s, %s days): %.2f s, %s archetype rows,"
        " %s matchup cells",
        generation,
        kind,
        result.days,
        result.seconds,
        result.meta_rows,
        result.matchup_rows,
    )
    return result
