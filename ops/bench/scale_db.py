"""An archive-size database, built once by the real pipeline and cached as a template.

``scale_database(name, decks)`` returns the DSN of a fresh throwaway database ``name``: a
copy (``CREATE DATABASE … TEMPLATE``, seconds even at 500k decks) of a cached database
built ONCE by the project's own pipeline from generated files:

    demo generator (archive mix, 2020-01-01 … 2026-11-30)
      -> ingest_cache -> classify_new_decks (demo definitions) -> refresh_all -> VACUUM ANALYZE

The cache is the database ``scale_cache_<decks>_<key>``. ``key`` hashes its data key (the
generator's output, as a fingerprint of a small run, so reorganising its code rebuilds
nothing; the demo definitions; seed, dates, copies, :data:`BUILD_VERSION`) and the checksum
of every migration. When only migrations were added, the newest cache with the same data
whose migrations are all still ours is copied and brought up to date (pending migrations, a
full statistics rebuild, VACUUM ANALYZE: minutes instead of a quarter of an hour at 500k);
otherwise everything is built again. Each cache records its data key and migrations in its
database comment. The newest :data:`KEEP_CACHES` per deck count are kept, so branches with
different migrations do not rebuild each other's. Building runs under an advisory lock:
concurrent callers build once, the others wait and reuse. A cache is built under a
temporary name and renamed when complete, and it refuses connections (so a copy is never
blocked by a stray session, and nobody edits it by mistake).

The generated files are cached too (``files_dir``), for benchmarks that re-ingest them.
Other code changes (e.g. a new refresh algorithm) do not
rebuild the cache: run that code on your copy.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ops.bench.common import server_dsn, timed
from ops.bench.refresh import with_database
from ops.bench.scale_replicate import replicate
from pipelines.core import db
from pipelines.core.settings import REPO_ROOT
from pipelines.storage import migrations

BUILD_VERSION = 1  # bump when the build steps below change what a cache holds
ARCHIVE_DECKS = 500_000
TEST_DECKS = 100_000  # the query-plan tests' size (issue 14: at least 100k decks)
ARCHIVE_START = date(2020, 1, 1)
ARCHIVE_END = date(2026, 11, 30)
DEFAULT_SEED = 14
CACHE_PREFIX = "scale_cache_"
KEEP_CACHES = 3
# Hashed into the data key with the generator's fingerprint: the classifier's definitions.
_KEY_TREES = ("pipelines/demo/definitions",)
# The schema: every migration's checksum is part of the key (tests point this elsewhere).
MIGRATIONS_DIR = migrations.MIGRATIONS_DIR
_FINGERPRINT_DECKS = 1500
_BUILD_LOCK_BASE = 0x5343_0000  # "SC" + low bits of the key
# Generous: a full refresh of 500k decks is 1-2 minutes today; the build must not time out.
_STATEMENT_TIMEOUT_MS = 3_600_000
_FILE_COPY_BYTES = 200 * 2**20


def archive_days() -> int:
    """Days the generated events span (2020-01-01 … 2026-11-30, like the public archive)."""
    return (ARCHIVE_END - ARCHIVE_START).days + 1


def _tree_digest(trees: tuple[str, ...]) -> Any:
    digest = hashlib.sha256()
    for tree in trees:
        for path in sorted((REPO_ROOT / tree).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(REPO_ROOT).as_posix().encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest


@functools.cache
def generator_fingerprint(seed: int = DEFAULT_SEED) -> str:
    """Hash of what the generator writes for a small archive: changes when its output does,
    not when its code is merely reorganised."""
    from pipelines.demo.generator import ARCHIVE_MIX, dumps_event, iter_events

    digest = hashlib.sha256()
    events = iter_events(_FINGERPRINT_DECKS, seed, ARCHIVE_START, archive_days(), mix=ARCHIVE_MIX)
    for event in events:
        digest.update(event.relpath.encode())
        digest.update(dumps_event(event))
    return digest.hexdigest()


def files_key(decks: int, seed: int = DEFAULT_SEED, days: int | None = None) -> str:
    """Key of the generated files: the generator's output, deck count, seed, dates."""
    digest = hashlib.sha256(generator_fingerprint(seed).encode())
    digest.update(f"{decks}/{seed}/{ARCHIVE_START}/{days or archive_days()}".encode())
    return digest.hexdigest()[:16]


def _base(decks: int, copies: int) -> tuple[int, int]:
    """Decks and days the pipeline builds before ``copies`` replication."""
    if copies < 1 or decks < copies:
        raise ValueError(f"copies must be between 1 and decks, got {copies}")
    return decks // copies, archive_days() // copies


def data_key(decks: int, seed: int = DEFAULT_SEED, copies: int = 1) -> str:
    """Key of a cache's data: the generated files, the definitions, the build steps."""
    base_decks, days = _base(decks, copies)
    digest = _tree_digest(_KEY_TREES)
    digest.update(files_key(base_decks, seed, days).encode())
    digest.update(f"build {BUILD_VERSION} copies {copies}".encode())
    return digest.hexdigest()[:16]


def schema() -> dict[str, str]:
    """Migration number -> checksum of every migration of this tree."""
    return {str(m.version): m.checksum for m in migrations.discover(MIGRATIONS_DIR)}


def cache_key(decks: int, seed: int = DEFAULT_SEED, copies: int = 1) -> str:
    """Key of the cached database: its data and its schema (see the module docstring)."""
    digest = hashlib.sha256(data_key(decks, seed, copies).encode())
    digest.update(json.dumps(schema(), sort_keys=True).encode())
    return digest.hexdigest()[:16]


def cache_name(decks: int, seed: int = DEFAULT_SEED, copies: int = 1) -> str:
    """Name of the cached database of ``decks`` decks."""
    return f"{CACHE_PREFIX}{decks}_{cache_key(decks, seed, copies)}"


def files_root() -> Path:
    """Folder of the generated archives (``MANALYTICS_SCALE_FILES``, default under /tmp)."""
    default = Path(tempfile.gettempdir()) / "manalytics-scale"
    return Path(os.environ.get("MANALYTICS_SCALE_FILES", default))


def files_dir(
    decks: int = ARCHIVE_DECKS, seed: int = DEFAULT_SEED, days: int | None = None
) -> Path:
    """The generated archive of ``decks`` decks (a decklist-cache folder), written once.

    Written to a temporary sibling and renamed when complete, so a folder that exists is
    whole. Callers that may run concurrently hold :func:`_build_lock` (as the builder does).
    """
    from pipelines.demo.generator import ARCHIVE_MIX, generate

    days = days or archive_days()
    target = files_root() / f"{decks}_{files_key(decks, seed, days)}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        generate(partial, decks, seed, start=ARCHIVE_START, days=days, mix=ARCHIVE_MIX)
        partial.rename(target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    for stale in target.parent.glob(f"{decks}_*"):  # older generator versions of this size
        if stale != target:
            shutil.rmtree(stale, ignore_errors=True)
    return target


def build_pipeline(dsn: str, root: Path, copies: int = 1, span_days: int = 0) -> dict[str, float]:
    """Run the project's pipeline on an empty database: migrate, ingest ``root``, classify
    with the demo definitions, replicate ``copies`` times in SQL (``span_days`` apart,
    :mod:`ops.bench.scale_replicate`), refresh the statistics, VACUUM ANALYZE; returns each
    step's seconds (also printed on stderr: a build takes minutes)."""
    from pipelines.classify.labels import classify_new_decks
    from pipelines.demo import DEMO_DEFINITIONS_DIR
    from pipelines.ingest.cache import ingest_cache

    def replicate_copies() -> None:
        with db.connect(dsn) as conn:
            replicate(conn, copies, span_days)
            conn.commit()

    steps: dict[str, Callable[[], object]] = {
        "migrate": lambda: migrations.upgrade(dsn, directory=MIGRATIONS_DIR),
        "ingest": lambda: ingest_cache(dsn, root),
        "classify": lambda: classify_new_decks(dsn, DEMO_DEFINITIONS_DIR),
        "replicate": replicate_copies,
        "refresh": lambda: full_refresh(dsn),
        "vacuum_analyze": lambda: vacuum_analyze(dsn),
    }
    return _run_steps(steps)


def derive(dsn: str) -> dict[str, float]:
    """Bring a copy of an older cache (same data, older schema) up to date: the pending
    migrations, a full statistics rebuild, VACUUM ANALYZE (what production does after a
    migration, far faster than generating and ingesting everything again)."""
    return _run_steps(
        {
            "migrate": lambda: migrations.upgrade(dsn, directory=MIGRATIONS_DIR),
            "refresh": lambda: full_refresh(dsn),
            "vacuum_analyze": lambda: vacuum_analyze(dsn),
        }
    )


def full_refresh(dsn: str) -> object:
    """Every statistic recomputed (``manalytics stats refresh --full``)."""
    from pipelines.demo import DEMO_DEFINITIONS_DIR
    from pipelines.stats.periods import load_periods
    from pipelines.stats.refresh import refresh_all

    return refresh_all(
        dsn,
        periods=load_periods(DEMO_DEFINITIONS_DIR),
        statement_timeout_ms=_STATEMENT_TIMEOUT_MS,
        full=True,
    )


def vacuum_analyze(dsn: str) -> None:
    # VACUUM too: the visibility map decides whether plans use index-only scans.
    with db.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _run_steps(steps: dict[str, Callable[[], object]]) -> dict[str, float]:
    seconds = {}
    for step, run in steps.items():
        _, seconds[step] = timed(run)
        print(f"scale database: {step} {seconds[step]:.1f} s", file=sys.stderr, flush=True)
    return seconds


def _admin() -> psycopg.Connection[Any]:
    return db.connect(server_dsn(), autocommit=True, application_name="manalytics-scale-db")


def _exists(conn: psycopg.Connection[Any], name: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
    )


def _drop(conn: psycopg.Connection[Any], name: str) -> None:
    """Drop ``name`` even when it is a template that refuses connections."""
    if _exists(conn, name):
        ident = sql.Identifier(name)
        conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(ident))
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(ident))


@contextmanager
def _build_lock(conn: psycopg.Connection[Any], key: str) -> Iterator[None]:
    lock = _BUILD_LOCK_BASE + int(key[:4], 16)
    conn.execute("SELECT pg_advisory_lock(%s)", (lock,))
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (lock,))


def _create_copy(conn: psycopg.Connection[Any], name: str, template: str) -> None:
    row = conn.execute("SELECT pg_database_size(%s)", (template,)).fetchone()
    # A big database is copied file by file (one checkpoint) rather than WAL-logged block by
    # block, several times faster; a small one is faster without the checkpoint.
    strategy = "FILE_COPY" if row and row[0] > _FILE_COPY_BYTES else "WAL_LOG"
    conn.execute(
        sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY {}").format(
            sql.Identifier(name), sql.Identifier(template), sql.SQL(strategy)
        )
    )


def _older_cache(conn: psycopg.Connection[Any], decks: int, data: str) -> str | None:
    """The newest cache with the same data whose migrations are all ours, unchanged (so the
    pending ones can be applied on top), if any."""
    ours = schema()
    rows = conn.execute(
        """SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database
            WHERE datname LIKE %s ORDER BY oid DESC""",
        (f"{CACHE_PREFIX}{decks}\\_%",),
    ).fetchall()
    for name, comment in rows:
        try:
            meta = json.loads(comment or "")
        except ValueError:
            continue
        applied = meta.get("migrations", {})
        if meta.get("data") == data and all(ours.get(v) == c for v, c in applied.items()):
            return str(name)
    return None


def _prune(conn: psycopg.Connection[Any], decks: int, keep: str) -> None:
    """Drop all but the newest KEEP_CACHES caches of this deck count (``keep`` stays)."""
    rows = conn.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY oid DESC",
        (f"{CACHE_PREFIX}{decks}\\_%",),
    ).fetchall()
    others = [r[0] for r in rows if r[0] != keep]
    for name in others[KEEP_CACHES - 1 :]:
        _drop(conn, name)


def ensure_cache(
    decks: int = ARCHIVE_DECKS, seed: int = DEFAULT_SEED, copies: int = 1
) -> tuple[str, bool]:
    """Name of the cached database of ``decks`` decks, building it when missing; and whether
    this call built it. ``copies > 1`` builds ``decks / copies`` with the pipeline and
    replicates them in SQL (:mod:`ops.bench.scale_replicate`): several times faster."""
    key = cache_key(decks, seed, copies)
    name = cache_name(decks, seed, copies)
    with _admin() as conn:
        if _exists(conn, name):
            return name, False
        with _build_lock(conn, key):
            if _exists(conn, name):  # built by the caller we waited for
                return name, False
            building = f"scale_build_{decks}_{key}"
            _drop(conn, building)  # left over by a build that died
            data = data_key(decks, seed, copies)
            base = _older_cache(conn, decks, data)
            dsn = with_database(server_dsn(), building)
            if base is not None:
                print(f"scale database: from {base} (older schema)", file=sys.stderr, flush=True)
                _create_copy(conn, building, base)
                derive(dsn)
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
                base_decks, span = _base(decks, copies)
                build_pipeline(dsn, files_dir(base_decks, seed, span), copies, span)
            conn.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(building), sql.Identifier(name)
                )
            )
            conn.execute(
                sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(
                    sql.Identifier(name)
                )
            )
            description = json.dumps({"data": data, "migrations": schema()})
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(name), sql.Literal(description)
                )
            )
            _prune(conn, decks, name)
    return name, True


def scale_database(
    name: str, decks: int = ARCHIVE_DECKS, *, seed: int = DEFAULT_SEED, copies: int = 1
) -> str:
    """DSN of a fresh database ``name`` holding the cached archive of ``decks`` decks.

    ``name`` is dropped first when it exists; it is yours to modify and to drop
    (:func:`drop_database`). Prefix it with your area (e.g. ``lists_plans``).
    """
    if name.startswith((CACHE_PREFIX, "scale_build_")):
        raise ValueError(f"{name!r} is reserved for the cache itself")
    template, _ = ensure_cache(decks, seed, copies)
    with _admin() as conn:
        _drop(conn, name)
        _create_copy(conn, name, template)
    return with_database(server_dsn(), name)


def drop_database(name: str) -> None:
    """Drop a copy made by :func:`scale_database` (no error when it is gone)."""
    if name.startswith((CACHE_PREFIX, "scale_build_")):
        raise ValueError(f"{name!r} is the cache itself")
    with _admin() as conn:
        _drop(conn, name)
