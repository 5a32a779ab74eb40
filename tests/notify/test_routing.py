"""Routing: matchers, first match and continue, severity, owner, types, rate limits, repeat
intervals (on an injected clock), resolved always passing, silences, and the audit records."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from opsgraph.core.models import Severity
from opsgraph.notify.base import MemoryNotifier, Notification
from opsgraph.notify.dispatch import Dispatcher
from opsgraph.notify.hub import EventHub, Message
from opsgraph.notify.routing import Router, human
from opsgraph.notify.settings import NotifySettings, parse_duration

from .conftest import AuditStore, anomaly


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _settings(routes: list[dict[str, Any]], **extra: Any) -> NotifySettings:
    names = {r["receiver"] for r in routes}
    return NotifySettings(
        receivers=[{"name": n, "type": "memory"} for n in sorted(names)],
        routes=routes,
        **extra,
    )


def _sent_to(router: Router, n: Notification) -> list[str]:
    return [d.receiver for d in router.route(n) if d.send]


def test_first_match_wins_unless_continue(make_notification: Callable[..., Notification]) -> None:
    routes = [
        {"receiver": "db", "matchers": ['kind="rds"'], "continue": True},
        {"receiver": "pager", "matchers": ["severity=~critical|high"]},
        {"receiver": "catch-all"},
    ]
    router = Router(_settings(routes), clock=Clock())
    assert _sent_to(router, make_notification()) == ["db", "pager"]
    assert _sent_to(router, make_notification(id=2, severity=Severity.MEDIUM)) == [
        "db",
        "catch-all",
    ]
    web = make_notification(id=3, resource_id="web-1", severity=Severity.LOW)
    assert _sent_to(router, web) == ["catch-all"]


def test_matchers_equality_regex_and_negation(
    make_notification: Callable[..., Notification],
) -> None:
    routes = [
        {"receiver": "a", "matchers": ['region!="eu-west-1"']},
        {"receiver": "b", "matchers": ["resource=~db-.*", 'metric!~"cpu|memory"']},
        {"receiver": "c", "matchers": ["nolabel="]},  # a missing label is the empty string
    ]
    router = Router(_settings(routes), clock=Clock())
    assert _sent_to(router, make_notification()) == ["b"]
    assert _sent_to(router, make_notification(id=2, resource_id="web-1")) == ["a"]
    assert _sent_to(router, make_notification(id=3, metric="cpu")) == ["c"]


def test_severity_minimum_owner_and_types(make_notification: Callable[..., Notification]) -> None:
    routes = [
        {"receiver": "payments", "owners": ["payments"], "min_severity": "high", "continue": True},
        {"receiver": "resolutions", "types": ["anomaly:resolved"]},
    ]
    router = Router(_settings(routes), clock=Clock())
    assert _sent_to(router, make_notification()) == ["payments"]
    assert _sent_to(router, make_notification(id=2, severity=Severity.MEDIUM)) == []
    assert _sent_to(router, make_notification(id=3, resource_id="web-1")) == []  # no owner
    assert _sent_to(router, make_notification("anomaly:resolved")) == ["payments", "resolutions"]


def test_rate_limit_per_route(make_notification: Callable[..., Notification]) -> None:
    clock = Clock()
    router = Router(_settings([{"receiver": "r", "rate_limit_per_minute": 2}]), clock=clock)
    decisions = [router.route(make_notification(id=i))[0] for i in range(4)]
    assert [d.send for d in decisions] == [True, True, False, False]
    assert decisions[2].reason == "rate limit: 2 per minute reached"
    assert all(d.audit for d in decisions)  # every rate-limited notification is recorded
    clock.now += 30
    assert not router.route(make_notification(id=5))[0].send
    clock.now += 31  # the first two sends left the minute
    assert router.route(make_notification(id=6))[0].send


def test_repeat_interval_by_severity(make_notification: Callable[..., Notification]) -> None:
    clock = Clock()
    settings = _settings([{"receiver": "r"}], repeat_interval={"critical": "15m", "medium": "1h"})
    router = Router(settings, clock=clock)
    critical = make_notification("anomaly:update")
    assert router.route(critical)[0].reason == "first notification"
    clock.now += 5 * 60
    held = router.route(critical)[0]
    assert not held.send and held.audit
    assert held.reason == "repeat interval: sent 5m ago, again after 15m"
    clock.now += 60
    again = router.route(critical)[0]
    assert not again.send and not again.audit  # recorded once, then counted
    clock.now += 10 * 60
    repeat = router.route(critical)[0]
    assert repeat.send and repeat.reason == "still open after the repeat interval of 15m"
    assert repeat.suppressed_before == 2

    medium = make_notification(id=8, severity=Severity.MEDIUM)
    router.route(medium)
    clock.now += 30 * 60
    assert not router.route(medium)[0].send
    # Rising severity is news at once.
    risen = router.route(make_notification("anomaly:update", id=8, severity=Severity.HIGH))[0]
    assert risen.send and risen.reason == "severity rose from medium to high"


def test_resolved_always_passes(make_notification: Callable[..., Notification]) -> None:
    clock = Clock()
    router = Router(_settings([{"receiver": "r", "rate_limit_per_minute": 1}]), clock=clock)
    assert router.route(make_notification())[0].send
    assert not router.route(make_notification(id=2))[0].send  # rate-limited
    resolved = router.route(make_notification("anomaly:resolved"))[0]
    assert resolved.send and resolved.reason == "resolved"
    clock.now += 61
    # Resolved forgot the alert: firing again is a first notification, not a repeat.
    assert router.route(make_notification())[0].reason == "first notification"


def test_silenced_and_duplicate_anomalies_are_muted(
    make_notification: Callable[..., Notification],
) -> None:
    router = Router(_settings([{"receiver": "r"}]), clock=Clock())
    silenced = router.route(make_notification(silence_id=3))[0]
    assert not silenced.send and silenced.reason == "silenced by silence 3"
    assert not router.route(make_notification("anomaly:resolved", silence_id=3))[0].send
    duplicate = router.route(make_notification(id=9, duplicate_of=41))[0]
    assert duplicate.reason == "duplicate of anomaly 41"


def test_acknowledged_incidents_are_not_repeated() -> None:
    from .conftest import notification_of

    incident = {
        "id": 5,
        "title": "db-1 latency",
        "status": "open",
        "severity": "high",
        "opened_ts": 100.0,
        "root_resource_id": "db-1",
        "resource_ids": ["db-1", "web-1"],
    }
    router = Router(_settings([{"receiver": "r"}]), clock=Clock())
    opened = notification_of("incident:update", incident)
    assert opened.labels["incident"] == "5" and opened.labels["owner"] == "payments"
    assert opened.summary == "2 resources affected, root cause db-1"
    assert router.route(opened)[0].send
    # Fields the model does not know (the incident's last "event") are carried, not refused.
    acked = notification_of(
        "incident:update", {**incident, "status": "acknowledged", "event": "acknowledged"}
    )
    assert router.route(acked)[0].reason == "acknowledged: someone is on it"
    reopened = notification_of("incident:update", {**incident, "event": "reopened"})
    again = router.route(reopened)[0]
    assert again.send and again.reason == "incident reopened" and again.suppressed_before == 1
    resolved = notification_of(
        "incident:update", {**incident, "status": "resolved", "resolved_ts": 900.0}
    )
    assert resolved.status == "resolved" and resolved.ends_at == 900.0
    assert router.route(resolved)[0].send


def test_sends_and_suppressions_are_audited_with_their_reason() -> None:
    clock = Clock()
    store = AuditStore()
    settings = _settings([{"receiver": "r", "rate_limit_per_minute": 1}])
    memory = MemoryNotifier(name="r")
    dispatcher = Dispatcher(EventHub(), settings, store, notifiers={"r": memory}, clock=clock)

    async def scenario() -> None:
        workers = dispatcher.start_workers()
        for i in (1, 2):
            await dispatcher.handle(Message("anomaly:new", anomaly(id=i).model_dump(mode="json")))
        await dispatcher.join()
        for worker in workers:
            worker.cancel()

    asyncio.run(scenario())
    assert [n.data["id"] for n in memory.sent] == [1]
    sent, suppressed = sorted(store.audit, key=lambda e: e.action)
    assert (sent.actor, sent.action, sent.target) == ("notify", "notify.send", "r")
    assert sent.result == {"status": "sent", "attempts": 1, "errors": []}
    assert sent.reason == "first notification" and sent.inputs["severity"] == "critical"
    assert suppressed.action == "notify.suppressed" and suppressed.target == "r"
    assert suppressed.reason == "rate limit: 1 per minute reached"
    assert suppressed.result == {"status": "suppressed"}


def test_settings_are_validated() -> None:
    with pytest.raises(ValidationError, match=r"routes\[0\].receiver: no receiver named 'x'"):
        NotifySettings(routes=[{"receiver": "x"}])
    with pytest.raises(ValidationError, match="bad regular expression"):
        _settings([{"receiver": "r", "matchers": ["job=~(unclosed"]}])
    with pytest.raises(ValidationError, match="not a matcher"):
        _settings([{"receiver": "r", "matchers": ["just words"]}])
    with pytest.raises(ValidationError, match="unknown message types"):
        _settings([{"receiver": "r", "types": ["metrics:update"]}])
    with pytest.raises(ValidationError, match="duplicate names"):
        NotifySettings(receivers=[{"name": "a", "type": "memory"}] * 2)
    with pytest.raises(ValidationError, match="not a duration"):
        NotifySettings(repeat_interval={"critical": "soon"})
    settings = NotifySettings(repeat_interval={"critical": "5m"})
    assert settings.repeat_interval[Severity.CRITICAL] == 300.0
    assert settings.repeat_interval[Severity.HIGH] == 3600.0  # defaults kept


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("15m", 900.0),
        ("1h30m", 5400.0),
        ("2d", 172800.0),
        (45, 45.0),
        ("500ms", 0.5),
    ],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_human_durations() -> None:
    assert [human(s) for s in (5, 90, 900, 5400, 86400)] == ["5s", "1m30s", "15m", "1h30m", "1d"]
