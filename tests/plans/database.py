"""The query-plan tests' database: a copy of a ≥100k-deck archive made once per test run.

The archive is the cached database of :mod:`ops.bench.scale_db` (demo generator → ingestion
→ classification → statistics refresh → VACUUM ANALYZE, :data:`PLAN_DECKS` decks): it
outlives test runs and is rebuilt only when the schema, the demo definitions or the
generator's output change. A test run copies it ONCE: the first xdist worker to take the
file lock makes the copy and writes its name beside the lock, the other worker reads it; the
controller (or the only process, without xdist) drops it at the end of the session
(``pytest_sessionfinish`` in ``tests/conftest.py``: an xdist controller loads no other
conftest).

Two tables of the copy are padded to archive size before use, so the planner sees the sizes
it will see in production: ``cards`` (the generator draws from ~700 names; the real archive
holds ~20,000: the shared sample alone, 1/30 of it, has 6,400) and the discovery tables
(``deck_neighbours``, ``deck_nearest_archetype``: the build does not run discovery). The
padding rows have the real shape (ids, ranks, similarities) and no meaning: the plan tests
read plans, never values.
"""

from __future__ import annotations

import fcntl
import json
import uuid
from pathlib import Path

import pytest

PLAN_DECKS = 100_000
_STATE = "plans_db.json"


def _shared_dir(config: pytest.Config, factory: pytest.TempPathFactory) -> Path:
    """The folder of this test run shared by its processes (xdist workers' base temp folders
    are children of the controller's)."""
    base = factory.getbasetemp()
    return base.parent if hasattr(config, "workerinput") else base


def run_copy(config: pytest.Config, factory: pytest.TempPathFactory) -> str:
    """DSN of this run's copy, made by the first process that asks."""
    from ops.bench.scale_db import scale_database

    shared = _shared_dir(config, factory)
    with open(shared / "plans_db.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        state = shared / _STATE
        if state.exists():
            known = json.loads(state.read_text())
            if known["dsn"]:
                return str(known["dsn"])
        name = f"plans_{uuid.uuid4().hex[:12]}"
        state.write_text(json.dumps({"name": name, "dsn": ""}))  # dropped even if copying fails
        dsn = scale_database(name, PLAN_DECKS)
        _pad(dsn)
        state.write_text(json.dumps({"name": name, "dsn": dsn}))
        return dsn


ARCHIVE_CARDS = 20_000
NEIGHBOURS = 10  # per deck, as discovery stores them (pipelines.discovery.store.NEIGHBOURS)
_PAD = (
    """INSERT INTO cards (name, canonical_name)
       SELECT 'plan padding ' || g, 'plan padding ' || g
         FROM generate_series(1, %(cards)s - (SELECT count(*) FROM cards)) g""",
    # Every 10th deck gets its neighbours (the ten next decks) and every 20th a nearest
    # archetype: enough rows for the planner to prefer the indexes, cheap to write.
    """INSERT INTO deck_neighbours (deck_id, rank, neighbour_id, similarity)
       SELECT d.id, r, n.id, 1.0 / r
         FROM decks d CROSS JOIN generate_series(1, %(k)s) r
         JOIN decks n ON n.id = d.id + r
        WHERE d.id %% 10 = 0
       ON CONFLICT DO NOTHING""",
    """INSERT INTO deck_nearest_archetype (deck_id, archetype, similarity)
       SELECT id, 'plan padding', 0.5 FROM decks WHERE id %% 20 = 0
       ON CONFLICT DO NOTHING""",
    "ANALYZE cards, deck_neighbours, deck_nearest_archetype",
)


def _pad(dsn: str) -> None:
    from pipelines.core import db

    with db.connect(dsn, autocommit=True) as conn:
        for statement in _PAD:
            conn.execute(statement, {"cards": ARCHIVE_CARDS, "k": NEIGHBOURS})


def drop_run_copy(config: pytest.Config) -> None:
    """Drop this run's copy, if the run made one (controller or only process)."""
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is None or hasattr(config, "workerinput"):
        return
    state = Path(factory.getbasetemp()) / _STATE
    if state.exists():
        from ops.bench.scale_db import drop_database

        drop_database(json.loads(state.read_text())["name"])
        state.unlink()
