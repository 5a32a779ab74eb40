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

import threading
import time
from collections import deque
from collections.abc import Callable


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
