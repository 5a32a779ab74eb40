"""Login throttling: a hard limit per client address and per (account, address) pair, and a
growing back-off per account.

- An address that fails `max_failures` times within `window_s` is refused until the window has
  room again, whatever name it tries; a success on some account of its own does not reset it
  (that reset let 4 wrong guesses plus 1 login on a self-registered account repeat for ever).
- The same holds for one account from one address.
- An account on its own is never locked: after `max_failures` failures from anywhere, each
  further attempt waits 1, 2, 4 … up to `max_backoff_s` seconds after the last failure. Guesses
  spread over many addresses slow to a crawl, and the account's owner, from an address of their
  own, waits seconds instead of being locked out by a stranger.
A success clears the account's back-off and the pair's count, never the address's.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("opsgraph.auth")


class Limiter(Protocol):
    def retry_after(self, username: str, client: str) -> float: ...
    def failed(self, username: str, client: str) -> None: ...
    def succeeded(self, username: str, client: str) -> None: ...


def keys_for(username: str, client: str) -> tuple[str, str, str]:
    """(address, pair, account) keys of one attempt."""
    name = username.casefold()
    return f"addr:{client}", f"pair:{name}|{client}", f"user:{name}"


class LoginLimiter:
    def __init__(
        self,
        *,
        max_failures: int,
        window_s: float,
        max_backoff_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_backoff_s = max_backoff_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        seen = self._failures.setdefault(key, deque())
        while seen and now - seen[0] >= self.window_s:
            seen.popleft()
        return seen

    def retry_after(self, username: str, client: str) -> float:
        """Seconds until this name may be tried from this address (0: now)."""
        now = self._clock()
        addr, pair, user = keys_for(username, client)
        wait = 0.0
        with self._lock:
            for key in (addr, pair):
                seen = self._recent(key, now)
                if len(seen) >= self.max_failures:
                    wait = max(wait, self.window_s - (now - seen[0]))
            seen = self._recent(user, now)
            excess = len(seen) - self.max_failures
            if excess >= 0:
                backoff = min(2.0**excess, self.max_backoff_s)
                wait = max(wait, backoff - (now - seen[-1]))
        return max(wait, 0.0)

    def failed(self, username: str, client: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys_for(username, client):
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:  # bound memory under a spray of names
                for key in [k for k, v in self._failures.items() if not v][:50_000]:
                    del self._failures[key]

    def succeeded(self, username: str, client: str) -> None:
        _, pair, user = keys_for(username, client)
        with self._lock:
            self._failures.pop(pair, None)
            self._failures.pop(user, None)


class RedisLoginLimiter:
    """The same rules with the counts in Redis (sorted sets of failure times), shared by every
    replica (`events.redis_url`). When Redis cannot be reached the process falls back to its
    own counts, with a warning, rather than refusing every login."""

    PREFIX = "opsgraph:login:"

    def __init__(
        self,
        url: str,
        *,
        max_failures: int,
        window_s: float,
        max_backoff_s: float = 60.0,
        client: Any = None,
    ) -> None:
        from opsgraph.core.extras import require

        redis = require("redis", "login limits shared by replicas (events.redis_url)")
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_backoff_s = max_backoff_s
        self._redis = client or redis.Redis.from_url(url, socket_timeout=2.0)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._local = LoginLimiter(
            max_failures=max_failures, window_s=window_s, max_backoff_s=max_backoff_s
        )

    def _key(self, key: str) -> str:
        return self.PREFIX + key

    def retry_after(self, username: str, client: str) -> float:
        now = time.time()
        addr, pair, user = keys_for(username, client)
        try:
            pipe = self._redis.pipeline()
            for key in (addr, pair, user):
                pipe.zremrangebyscore(self._key(key), "-inf", now - self.window_s)
                pipe.zrange(self._key(key), 0, -1, withscores=True)
            answers = pipe.execute()[1::2]
        except self._errors as exc:
            log.warning("login limits: Redis unreachable (%s); counting in this process", exc)
            return self._local.retry_after(username, client)
        wait = 0.0
        for times in answers[:2]:
            if len(times) >= self.max_failures:
                wait = max(wait, self.window_s - (now - float(times[0][1])))
        excess = len(answers[2]) - self.max_failures
        if excess >= 0:
            backoff = min(2.0**excess, self.max_backoff_s)
            wait = max(wait, backoff - (now - float(answers[2][-1][1])))
        return max(wait, 0.0)

    def failed(self, username: str, client: str) -> None:
        now = time.time()
        self._local.failed(username, client)
        try:
            pipe = self._redis.pipeline()
            for key in keys_for(username, client):
                pipe.zadd(self._key(key), {uuid.uuid4().hex: now})
                pipe.expire(self._key(key), int(self.window_s) + 1)
            pipe.execute()
        except self._errors as exc:
            log.warning("login limits: Redis unreachable (%s); counting in this process", exc)

    def succeeded(self, username: str, client: str) -> None:
        self._local.succeeded(username, client)
        _, pair, user = keys_for(username, client)
        try:
            self._redis.delete(self._key(pair), self._key(user))
        except self._errors as exc:
            log.warning("login limits: Redis unreachable (%s)", exc)
