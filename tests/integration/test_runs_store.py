"""Run records against real PostgreSQL: coalescing, claims, takeovers, the reaper."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from pipelines.runs import store

REFRESH = "refresh.meta_views"


@pytest.fixture
def conn(pg_dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        yield c


def _claim(conn: psycopg.Connection, run_id: uuid.UUID | str, **kw: object) -> store.Claim:
    return store.claim(conn, run_id, REFRESH, (), {}, worker="w1", **kw)  # type: ignore[arg-type]


def _claim_after_death(conn: psycopg.Connection, run_id: uuid.UUID | str) -> store.Claim:
    """Claim once the previous holder's backend is gone: closing a connection releases its
    session lock when the server has processed the disconnection, a moment later."""
    deadline = time.monotonic() + 15
    while (claimed := _claim(conn, run_id)).action == "duplicate":
        assert time.monotonic() < deadline, "the dead connection's lock was never released"
        time.sleep(0.05)
    return claimed


def _wait_released(conn: psycopg.Connection, run_id: uuid.UUID | str) -> None:
    deadline = time.monotonic() + 15
    while not store.take_lock(conn, run_id):
        assert time.monotonic() < deadline, "the dead connection's lock was never released"
        time.sleep(0.05)
    store.unlock(conn, run_id)


def test_identical_requests_join_the_queued_run_then_become_one_follow_up(
    conn: psycopg.Connection, pg_dsn: str
) -> None:
    first = store.request_run(conn, REFRESH, requested_by="a")
    assert first.outcome == "created" and first.publish
    again = store.request_run(conn, REFRESH, requested_by="b")
    assert again.outcome == "queued" and again.run.id == first.run.id and not again.publish
    other = store.request_run(conn, REFRESH, kwargs={"confidence": 0.9})
    assert other.outcome == "created"  # other arguments: another run

    with psycopg.connect(pg_dsn, autocommit=True) as worker:
        assert _claim(worker, first.run.id).action == "run"
        # Three requests while it runs: recorded as pending on the running run.
        for _ in range(3):
            pending = store.request_run(conn, REFRESH)
            assert pending.outcome == "pending" and pending.run.id == first.run.id
        done, follow = store.finish(worker, first.run.id, "succeeded", result={"n": 1})
    assert done is not None and done.state == "succeeded" and done.result == {"n": 1}
    assert follow is not None and follow.follow_up_of == first.run.id  # exactly one
    assert follow.state == "queued" and follow.dedup_key == first.run.dedup_key
    runs, total = store.list_runs(conn, kind="refresh")
    assert total == 3 and sum(r.state == "queued" for r in runs) == 2
    assert [e["event"] for e in done.history] == ["requested", "started", "succeeded"]
    assert all("at" in e for e in done.history)


def test_requested_by_is_not_part_of_the_identity() -> None:
    key_a = store.dedup_key("classify.reclassify_format", (), {"format_name": "Modern",
                                                                "requested_by": "a"})  # fmt: skip
    key_b = store.dedup_key("classify.reclassify_format", (), {"format_name": "Modern",
                                                                "requested_by": "b"})  # fmt: skip
    assert key_a == key_b
    assert key_a != store.dedup_key("classify.reclassify_format", (), {"format_name": "Legacy"})


def test_concurrent_identical_requests_make_one_run(pg_dsn: str, conn: psycopg.Connection) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def ask() -> None:
        with psycopg.connect(pg_dsn, autocommit=True) as own:
            barrier.wait()
            outcomes.append(store.request_run(own, REFRESH).outcome)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["created"] + ["queued"] * 5
    assert store.list_runs(conn)[1] == 1


def test_a_copy_of_a_live_run_is_dropped_and_a_dead_one_is_taken_over(
    pg_dsn: str, conn: psycopg.Connection
) -> None:
    run = store.request_run(conn, REFRESH).run
    first = psycopg.connect(pg_dsn, autocommit=True)
    assert _claim(first, run.id).action == "run"
    with psycopg.connect(pg_dsn, autocommit=True) as second:
        copy = _claim(second, run.id)
        assert copy.action == "duplicate"  # the lock is held: its worker is alive
        assert store.get_run(conn, run.id).attempt == 1  # type: ignore[union-attr]
        first.close()  # the first worker dies: PostgreSQL releases its lock
        taken = _claim_after_death(second, run.id)
        assert taken.action == "run" and taken.run is not None and taken.run.attempt == 2
        assert taken.run.history[-1]["event"] == "taken over"
        store.finish(second, run.id, "succeeded")
        assert _claim(second, run.id).action == "finished"  # a late copy changes nothing
    assert store.get_run(conn, run.id).state == "succeeded"  # type: ignore[union-attr]


def test_a_message_without_a_row_is_recorded_or_joins_the_identical_run(
    pg_dsn: str, conn: psycopg.Connection
) -> None:
    beat_id = uuid.uuid4()
    with psycopg.connect(pg_dsn, autocommit=True) as worker:
        claimed = _claim(worker, beat_id)
        assert claimed.action == "run" and claimed.run is not None and claimed.run.id == beat_id
        # A second beat message while it runs: pending follow-up, the message is dropped.
        with psycopg.connect(pg_dsn, autocommit=True) as other:
            assert _claim(other, uuid.uuid4()).action == "coalesced"
        assert store.get_run(conn, beat_id).pending_requests == 1  # type: ignore[union-attr]


def test_a_message_that_kills_its_worker_every_time_is_given_up(
    pg_dsn: str, conn: psycopg.Connection
) -> None:
    run = store.request_run(conn, REFRESH, max_attempts=2).run
    for _ in range(2):
        dying = psycopg.connect(pg_dsn, autocommit=True)
        assert _claim_after_death(dying, run.id).action == "run"
        dying.close()
    with psycopg.connect(pg_dsn, autocommit=True) as last:
        poison = _claim_after_death(last, run.id)
    assert poison.action == "poison"
    final = store.get_run(conn, run.id)
    assert final is not None and final.state == "failed" and "gave up after 2" in str(final.error)


def test_the_reaper_requeues_runs_whose_worker_is_gone_and_spares_live_ones(
    pg_dsn: str, conn: psycopg.Connection
) -> None:
    dead = store.request_run(conn, REFRESH).run
    alive = store.request_run(conn, "ingest.nightly").run
    worn = store.request_run(conn, "classify.new_decks", max_attempts=1).run
    holder = psycopg.connect(pg_dsn, autocommit=True)
    for run in (dead, worn):
        gone = psycopg.connect(pg_dsn, autocommit=True)
        store.claim(gone, run.id, run.task_name, (), {}, worker="w-gone")
        gone.close()
        _wait_released(conn, run.id)
    store.claim(holder, alive.id, alive.task_name, (), {}, worker="w-alive")
    conn.execute("UPDATE task_runs SET heartbeat_at = now() - interval '1 hour'")
    reaped = store.reap(conn, stale_after=30, republish_after=900)
    assert reaped is not None
    assert [r.id for r in reaped.requeue] == [dead.id]
    assert [r.id for r in reaped.abandoned] == [worn.id]
    states = {r.id: r.state for r in store.list_runs(conn)[0]}
    assert states == {dead.id: "queued", alive.id: "running", worn.id: "abandoned"}
    assert store.get_run(conn, dead.id).history[-1]["event"] == "abandoned"  # type: ignore[union-attr]
    holder.close()


def test_the_reaper_republishes_runs_whose_message_may_be_lost(conn: psycopg.Connection) -> None:
    queued = store.request_run(conn, REFRESH).run
    conn.execute("UPDATE task_runs SET requested_at = now() - interval '1 hour'")
    reaped = store.reap(conn, stale_after=30, republish_after=600)
    assert reaped is not None and [r.id for r in reaped.requeue] == [queued.id]
    again = store.reap(conn, stale_after=30, republish_after=600)
    assert again is not None and again.requeue == []  # published just now


def test_transient_retries_do_not_make_a_run_poison(pg_dsn: str, conn: psycopg.Connection) -> None:
    # A redelivered run that finds its work still locked (e.g. by the dying attempt's query)
    # retries with back-off: those attempts lost no worker and must not exhaust the run.
    run = store.request_run(conn, REFRESH, max_attempts=2).run
    dying = psycopg.connect(pg_dsn, autocommit=True)
    assert _claim(dying, run.id).action == "run"
    dying.close()  # one attempt lost its worker
    for _ in range(4):
        with psycopg.connect(pg_dsn, autocommit=True) as worker:
            claimed = _claim_after_death(worker, run.id)
            assert claimed.action == "run", claimed
            store.mark_retrying(worker, run.id, "RunBusy: the refresh lock is held", 0)
    with psycopg.connect(pg_dsn, autocommit=True) as worker:
        assert _claim_after_death(worker, run.id).action == "run"
        store.finish(worker, run.id, "succeeded")
    final = store.get_run(conn, run.id)
    assert final is not None and final.state == "succeeded" and final.attempt == 6
    assert final.worker_losses == 1


def test_the_query_of_a_killed_client_is_aborted_and_its_locks_freed(
    pg_dsn: str, conn: psycopg.Connection
) -> None:
    # kill -9 of a process in the middle of a long statement: PostgreSQL must not run the
    # statement on (holding its locks) until it next writes to the dead socket.
    import subprocess
    import sys

    script = (
        "import sys\nfrom pipelines.core.db import connect\n"
        "with connect(sys.argv[1]) as c:\n"
        "    c.execute('SELECT pg_advisory_xact_lock(424242)')\n"
        "    print('locked', flush=True)\n"
        "    c.execute('SELECT pg_sleep(120)')\n"
    )
    with subprocess.Popen([sys.executable, "-c", script, pg_dsn], stdout=subprocess.PIPE) as child:
        assert child.stdout is not None and child.stdout.readline().strip() == b"locked"
        time.sleep(0.5)  # inside pg_sleep
        child.kill()
    deadline = time.monotonic() + 20  # the check runs every second; generous on a busy box
    while not conn.execute("SELECT pg_try_advisory_lock(424242)").fetchone()[0]:  # type: ignore[index]
        assert time.monotonic() < deadline, "the dead client's statement still holds its lock"
        time.sleep(0.2)
    conn.execute("SELECT pg_advisory_unlock(424242)")


def test_the_tasks_cli_shows_the_run_records(pg_dsn: str, conn: psycopg.Connection) -> None:
    # What an operator sees with `manalytics tasks list|show` is the row the workers write.
    import json
    import os
    import subprocess
    import sys

    run = store.request_run(conn, REFRESH, requested_by="cli test").run
    with psycopg.connect(pg_dsn, autocommit=True) as worker:
        _claim(worker, run.id)
        store.heartbeat(worker, run.id, {"generation": 7})

    def cli(*argv: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", "from pipelines.cli import main; raise SystemExit(main())",
             "tasks", *argv],
            env=dict(os.environ, DATABASE_URL=pg_dsn),
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return done.stdout

    shown = json.loads(cli("show", str(run.id), "--json"))
    assert shown["state"] == "running" and shown["attempt"] == 1
    assert shown["progress"] == {"generation": 7} and shown["worker"] == "w1"
    assert [e["event"] for e in shown["history"]] == ["requested", "started"]
    listed = cli("list", "--kind", "refresh")
    assert str(run.id) in listed and "running" in listed and "(1 of 1)" in listed
