"""Beat and publishing across a Redis restart, on the objects themselves (private Redis):
the scheduler neither exits nor sends without the lock; a publish waits for Redis to come
back instead of leaving the run to the reaper."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
import redis

from pipelines.runs import store
from tests.faults.conftest import Cluster
from tests.faults.harness import RedisServer

pytestmark = pytest.mark.faults


def test_the_scheduler_rides_out_redis_down_and_waits_for_a_lost_lock(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    from workers.beat import RETRY_SECONDS, Scheduler

    app = cluster.client
    scheduler = Scheduler(app=app, lazy=True)
    assert scheduler.tick() == app.conf.beat_max_loop_interval  # took the lock, ticked
    client = redis.Redis.from_url(app.conf.redbeat_redis_url)
    lock_key = scheduler.lock_key

    redis_server.stop()
    assert scheduler.tick() == RETRY_SECONDS  # Redis down: try again soon, never exit
    redis_server.start()  # AOF: the lock is still this beat's
    assert scheduler.tick() == app.conf.beat_max_loop_interval

    # The lock expired while Redis was away and another beat took it: stop sending...
    client.set(lock_key, "another beat", ex=30)
    assert scheduler.tick() == RETRY_SECONDS and scheduler.lock is None
    # ...and wait for it like a standby beat, until the other one lets it go.
    waited: list[float] = []
    ticking = threading.Thread(target=lambda: waited.append(scheduler.tick()), daemon=True)
    ticking.start()
    ticking.join(2.0)
    assert ticking.is_alive() and not waited  # blocked on the lock: sends nothing
    client.delete(lock_key)
    ticking.join(30)
    assert waited == [app.conf.beat_max_loop_interval] and scheduler.lock is not None
    scheduler.close()
    assert client.get(lock_key) is None  # released on close


def _restart_later(server: RedisServer) -> threading.Timer:
    """Start ``server`` again in 2 s, from another thread. The test joins it before it ends:
    a restart still waiting for its first ping when the fixture stops the server would fail
    in its thread and be reported against whichever test runs next."""
    timer = threading.Timer(2.0, server.start)
    timer.start()
    return timer


def test_the_scheduler_starts_while_redis_is_still_down(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    from workers.beat import Scheduler

    redis_server.stop()
    restart = _restart_later(redis_server)
    began = time.monotonic()
    scheduler = Scheduler(app=cluster.client)  # installs the schedule in Redis
    assert time.monotonic() - began >= 1.5  # it waited for Redis instead of exiting
    assert scheduler.tick() > 0
    scheduler.close()
    restart.join(30)  # the restart has finished before the fixture stops the server


def test_a_publish_waits_for_a_restarting_redis(
    cluster: Cluster, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workers.runs

    monkeypatch.setattr(workers.runs, "app", cluster.client)
    with psycopg.connect(cluster.dsn, autocommit=True) as conn:
        run = store.request_run(conn, "refresh.meta_views").run
    redis_server.stop()
    restart = _restart_later(redis_server)
    began = time.monotonic()
    assert workers.runs.publish(run) is True
    restart.join(30)
    assert time.monotonic() - began >= 1.5  # it did wait for the restart
    queued = redis.Redis.from_url(redis_server.url + "/0").lrange("refresh", 0, -1)
    assert any(str(run.id).encode() in message for message in queued)
