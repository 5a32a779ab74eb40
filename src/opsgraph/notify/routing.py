"""Which receivers a notification goes to and whether now: routes in order (first match wins unless
`continue`), per-route rate limits, repeat intervals by severity; clock-injected, says why.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opsgraph.core.models import Severity
from opsgraph.core.regex import SafePattern
from opsgraph.notify.base import Notification
from opsgraph.notify.settings import Matcher, NotifySettings, RouteSettings

Clock = Callable[[], float]

RATE_WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one matching route: send now, or suppressed (with the reason).

    `audit` is False for a suppression of the same kind already recorded since the last send
    (the count goes into the next send's record instead), so an alert that stays open or
    silenced does not fill the audit log; `suppressed_before` is that count.
    """

    route: int
    receiver: str
    send: bool
    reason: str
    audit: bool = True
    suppressed_before: int = 0


@dataclass(slots=True)
class _Sent:
    ts: float
    severity: Severity


@dataclass(slots=True)
class _Held:
    kind: str
    count: int


class _Route:
    """A route with its matchers compiled."""

    def __init__(self, settings: RouteSettings) -> None:
        self.settings = settings
        self.matchers: list[tuple[Matcher, SafePattern | None]] = [
            (m, m.compiled()) for m in settings.parsed_matchers()
        ]
        self.types = frozenset(settings.types)
        self.owners = frozenset(settings.owners)

    def matches(self, n: Notification, labels: dict[str, str]) -> bool:
        s = self.settings
        if n.type not in self.types or n.severity.rank < s.min_severity.rank:
            return False
        if self.owners and n.owner not in self.owners:
            return False
        for matcher, pattern in self.matchers:
            # As in Alertmanager, a missing label matches as the empty string.
            value = labels.get(matcher.label, "")
            if matcher.op == "=":
                ok = value == matcher.value
            elif matcher.op == "!=":
                ok = value != matcher.value
            else:
                assert pattern is not None
                ok = (pattern.fullmatch(value) is not None) == (matcher.op == "=~")
            if not ok:
                return False
        return True


def human(seconds: float) -> str:
    """A duration the way the configuration writes them: 90s, 15m, 1h30m, 2d."""
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:g}s" if whole != seconds else f"{whole}s"
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, whole = divmod(whole, size)
        if amount:
            out += f"{amount}{unit}"
    return out


class Router:
    """Routes notifications and remembers, per receiver and fingerprint, when each alert was
    last sent (bounded: the least recently sent are forgotten first)."""

    def __init__(
        self, settings: NotifySettings, *, clock: Clock = time.time, memory: int = 100_000
    ) -> None:
        self.settings = settings
        self.routes = [_Route(r) for r in settings.routes]
        self.clock = clock
        self.memory = memory
        self._sent: OrderedDict[tuple[str, str], _Sent] = OrderedDict()
        # Suppressions since the last send, per receiver and alert.
        self._held: OrderedDict[tuple[str, str], _Held] = OrderedDict()
        self._windows: dict[int, deque[float]] = {}

    def route(self, n: Notification) -> list[Decision]:
        labels = {**n.labels, "type": n.type, "status": n.status}
        decisions: list[Decision] = []
        seen: set[str] = set()
        for index, route in enumerate(self.routes):
            if not route.matches(n, labels):
                continue
            receiver = route.settings.receiver
            # Two matching routes to one receiver send it once.
            if receiver not in seen:
                seen.add(receiver)
                decisions.append(self._gate(index, route.settings, n))
            if not route.settings.continue_:
                break
        return decisions

    def _gate(self, index: int, route: RouteSettings, n: Notification) -> Decision:
        now = self.clock()
        receiver = route.receiver
        key = (receiver, n.fingerprint)
        if n.muted is not None:
            if n.status == "resolved":
                self._sent.pop(key, None)
            return self._hold(index, key, "muted", n.muted)
        if n.status == "resolved":
            # Always told, and the alert is forgotten: if it fires again, that is news.
            self._sent.pop(key, None)
            held = self._held.pop(key, None)
            self._count(index, now)
            return Decision(index, receiver, True, "resolved", suppressed_before=_count_of(held))
        if n.acknowledged:
            return self._hold(index, key, "acknowledged", "acknowledged: someone is on it")
        previous = self._sent.get(key)
        reason = "first notification" if previous is None else (n.fresh or "")
        if previous is not None and n.fresh is None:
            interval = route.repeat_interval.get(
                n.severity, self.settings.repeat_interval[n.severity]
            )
            elapsed = now - previous.ts
            if n.severity.rank > previous.severity.rank:
                reason = f"severity rose from {previous.severity.value} to {n.severity.value}"
            elif elapsed < interval:
                return self._hold(
                    index,
                    key,
                    "repeat",
                    f"repeat interval: sent {human(elapsed)} ago, again after {human(interval)}",
                )
            else:
                reason = f"still open after the repeat interval of {human(interval)}"
        limit = route.rate_limit_per_minute
        if limit is not None and self._recent(index, now) >= limit:
            # Every rate-limited notification is recorded: it is what people ask about.
            held = self._held.get(key)
            if held is not None:
                held.count += 1
            return Decision(index, receiver, False, f"rate limit: {limit} per minute reached")
        self._count(index, now)
        _remember(self._sent, key, _Sent(now, n.severity), self.memory)
        held = self._held.pop(key, None)
        return Decision(index, receiver, True, reason, suppressed_before=_count_of(held))

    def _hold(self, index: int, key: tuple[str, str], kind: str, reason: str) -> Decision:
        """A suppression; audited when it starts (or its kind changes), counted after that."""
        held = self._held.get(key)
        if held is not None and held.kind == kind:
            held.count += 1
            return Decision(index, key[0], False, reason, audit=False)
        _remember(self._held, key, _Held(kind, _count_of(held) + 1), self.memory)
        return Decision(index, key[0], False, reason)

    def _recent(self, index: int, now: float) -> int:
        window = self._windows.get(index)
        if window is None:
            return 0
        while window and window[0] <= now - RATE_WINDOW_S:
            window.popleft()
        return len(window)

    def _count(self, index: int, now: float) -> None:
        window = self._windows.setdefault(index, deque())
        window.append(now)
        limit = self.routes[index].settings.rate_limit_per_minute
        # Only the last `limit` sends matter to the limit; resolved ones may go past it.
        while limit is not None and len(window) > limit:
            window.popleft()
        if limit is None:
            window.clear()


def _count_of(held: _Held | None) -> int:
    return held.count if held is not None else 0


def _remember(memory: OrderedDict[Any, Any], key: Any, value: Any, size: int) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > size:
        memory.popitem(last=False)
