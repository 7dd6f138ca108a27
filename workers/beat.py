"""The beat scheduler: RedBeat (one beat at a time, by a Redis lock) that rides out a Redis
restart instead of exiting.

RedBeat's own ``tick`` lets a Redis connection error escape, and Celery's beat then exits
(a restart of Redis took beat — and with it the reaper and the nightly chain — down). Here
a tick (or the start-up) that cannot reach Redis is tried again a second later; a lock lost
meanwhile (it expired while Redis was away, or was never taken because Redis was down at
start-up) is waited for again, like a second beat waits for the first: never two beats
sending.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import redis
from redbeat.schedulers import LUA_EXTEND_TO_SCRIPT, RedBeatScheduler, get_redis
from redis.exceptions import LockError

log = logging.getLogger("celery.beat")

#: Seconds between attempts while Redis is unreachable.
RETRY_SECONDS = 1.0


class Scheduler(RedBeatScheduler):
    """RedBeat that survives Redis restarts (module docstring)."""

    lock: Any = None  # the redis-py Lock while this beat leads

    def setup_schedule(self) -> None:
        """Install the schedule in Redis, waiting for Redis if it is (re)starting."""
        while True:
            try:
                super().setup_schedule()
                return
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("beat: Redis unreachable at start-up (%s); waiting", exc)
                time.sleep(RETRY_SECONDS)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            if self.lock_key and self.lock is None:
                self._acquire_lock()
            return float(super().tick(*args, **kwargs))
        except LockError as exc:  # no longer ours: another beat may lead now
            log.warning("beat: lost the lock (%s); waiting for it again", exc)
            self.lock = None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning("beat: Redis unreachable (%s); trying again in %s s", exc, RETRY_SECONDS)
        return RETRY_SECONDS

    def _acquire_lock(self) -> None:
        """Wait for the beat lock (blocking: a standby beat waits here), as RedBeat does at
        start-up."""
        client = get_redis(self.app)
        # One lock per beat process, whatever thread ticks: no thread-local token.
        lock = client.lock(
            self.lock_key, timeout=self.lock_timeout, sleep=self.max_interval, thread_local=False
        )
        lock.lua_extend = client.register_script(LUA_EXTEND_TO_SCRIPT)
        lock.acquire()
        log.info("beat: Acquired lock")
        self.lock = lock

    def close(self) -> None:
        # Releasing the lock needs Redis; if it is down the lock simply expires.
        with contextlib.suppress(redis.RedisError):
            super().close()


__all__ = ["RETRY_SECONDS", "Scheduler"]
