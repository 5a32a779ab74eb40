"""The dispatcher: hub to receiver tasks, retries with back-off, giving up with an audit record,
slow receivers stalling nobody, and its start and stop with the API server."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opsgraph.api import create_app
from opsgraph.core.errors import ConfigError
from opsgraph.core.models import AuditEvent
from opsgraph.notify.alertmanager import AlertmanagerNotifier
from opsgraph.notify.base import (
    DeliveryError,
    MemoryNotifier,
    Notification,
    Notifier,
    build_notifier,
)
from opsgraph.notify.dispatch import Dispatcher
from opsgraph.notify.email import EmailNotifier
from opsgraph.notify.hub import EventHub, Message
from opsgraph.notify.settings import NotifySettings
from opsgraph.notify.slack import SlackNotifier
from opsgraph.notify.webhook import WebhookNotifier
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings
from opsgraph.sim import FaultKind
from opsgraph.store import Store

from .conftest import AuditStore, anomaly


def _settings(*receivers: str, **extra: Any) -> NotifySettings:
    routes = [{"receiver": name, "continue": True} for name in receivers]
    return NotifySettings(
        receivers=[{"name": n, "type": "memory"} for n in receivers], routes=routes, **extra
    )


def _message(i: int = 1, type_: str = "anomaly:new") -> Message:
    return Message(type_, anomaly(id=i).model_dump(mode="json"))


async def _drive(dispatcher: Dispatcher, body: Callable[[], Awaitable[None]]) -> None:
    workers = dispatcher.start_workers()
    try:
        await body()
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


def test_messages_published_from_a_thread_reach_the_notifier_and_the_audit_log(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'audit.db'}")
    store.migrate()
    hub = EventHub()
    memory = MemoryNotifier(name="mem")
    dispatcher = Dispatcher(hub, _settings("mem"), store, notifiers={"mem": memory})

    async def scenario() -> None:
        hub.bind(asyncio.get_running_loop())
        task = asyncio.create_task(dispatcher.run())
        await dispatcher.ready.wait()
        worker = threading.Thread(
            target=lambda: [
                hub.publish("metrics:update", {"nodes": {}}),
                hub.publish("anomaly:new", anomaly().model_dump(mode="json")),
                hub.publish("anomaly:resolved", anomaly(status="resolved").model_dump(mode="json")),
            ]
        )
        worker.start()
        worker.join()
        deadline = time.monotonic() + 10
        while len(store.list_audit(action="notify.send")[0]) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    assert [(n.type, n.status) for n in memory.sent] == [
        ("anomaly:new", "firing"),
        ("anomaly:resolved", "resolved"),
    ]
    records, _ = store.list_audit(action="notify.send")
    assert sorted(r.reason for r in records) == ["first notification", "resolved"]
    assert {r.target for r in records} == {"mem"} and {r.actor for r in records} == {"notify"}
    assert hub.subscriber_count == 0  # unsubscribed when cancelled
    store.close()


def test_retries_with_back_off_then_succeeds() -> None:
    store, slept = AuditStore(), []
    memory = MemoryNotifier(name="mem")
    memory.fail_with = [
        DeliveryError("answered 503", retryable=True),
        DeliveryError("timed out", retryable=True),
    ]

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    dispatcher = Dispatcher(
        EventHub(), _settings("mem"), store, notifiers={"mem": memory}, sleep=sleep
    )

    async def body() -> None:
        await dispatcher.handle(_message())
        await dispatcher.join()

    asyncio.run(_drive(dispatcher, body))
    assert memory.attempts == 3 and len(memory.sent) == 1
    assert 0.8 <= slept[0] <= 1.0 and 1.6 <= slept[1] <= 2.0  # doubling, with jitter
    (record,) = store.audit
    assert record.result == {
        "status": "sent",
        "attempts": 3,
        "errors": ["answered 503", "timed out"],
    }


def test_gives_up_after_the_attempts_or_at_once_on_a_final_error() -> None:
    store = AuditStore()
    memory = MemoryNotifier(name="mem")
    memory.fail_with = [DeliveryError(f"503 #{i}", retryable=True) for i in range(3)]
    memory.fail_with.append(DeliveryError("400 bad request", retryable=False))

    async def no_wait(_: float) -> None:
        return None

    settings = _settings("mem", retry={"attempts": 3})
    dispatcher = Dispatcher(EventHub(), settings, store, notifiers={"mem": memory}, sleep=no_wait)

    async def body() -> None:
        await dispatcher.handle(_message(1))
        await dispatcher.join()
        await dispatcher.handle(_message(2))
        await dispatcher.join()

    asyncio.run(_drive(dispatcher, body))
    assert memory.sent == [] and memory.attempts == 4
    first, second = (r.result for r in store.audit)
    assert first["status"] == "failed" and first["attempts"] == 3
    assert second == {"status": "failed", "attempts": 1, "errors": ["400 bad request"]}


class Blocked:
    """A receiver that hangs until released."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        self.started.set()
        await self.release.wait()
        self.sent.append(notification)


def test_a_slow_receiver_stalls_nobody_and_drops_its_oldest_when_full() -> None:
    store = AuditStore()
    fast, slow = MemoryNotifier(name="fast"), Blocked("slow")
    notifiers: dict[str, Notifier] = {"slow": slow, "fast": fast}
    dispatcher = Dispatcher(
        EventHub(), _settings("slow", "fast", queue_size=1), store, notifiers=notifiers
    )

    async def body() -> None:
        for i in range(1, 5):
            await dispatcher.handle(_message(i))
        await slow.started.wait()
        await dispatcher._queues["fast"].join()
        # The fast receiver has everything while the slow one still holds its first.
        assert [n.data["id"] for n in fast.sent] == [1, 2, 3, 4]
        assert slow.sent == []
        slow.release.set()
        await dispatcher.join()

    asyncio.run(_drive(dispatcher, body))
    # 1 was in flight; 2 and 3 were each pushed out of the one-place queue by the next.
    assert [n.data["id"] for n in slow.sent] == [1, 4]
    dropped = [e for e in store.audit if e.action == "notify.suppressed"]
    assert [e.inputs["fingerprint"] for e in dropped] == [n.fingerprint for n in fast.sent[1:3]]
    assert {(e.target, e.reason) for e in dropped} == {("slow", "receiver queue full (1 waiting)")}


def test_relayed_and_unnotifiable_messages_are_ignored() -> None:
    store = AuditStore()
    memory = MemoryNotifier(name="mem")
    dispatcher = Dispatcher(EventHub(), _settings("mem"), store, notifiers={"mem": memory})

    async def body() -> None:
        relayed = Message("anomaly:new", anomaly().model_dump(mode="json"), local=False)
        assert await dispatcher.handle(relayed) == []
        assert await dispatcher.handle(Message("graph:update", {"nodes": []})) == []
        assert await dispatcher.handle(Message("anomaly:new", {"not": "an anomaly"})) == []

    asyncio.run(_drive(dispatcher, body))
    assert memory.attempts == 0 and store.audit == []


def test_without_routes_nothing_subscribes() -> None:
    hub = EventHub()
    dispatcher = Dispatcher(hub, NotifySettings(), AuditStore())

    async def scenario() -> None:
        await asyncio.wait_for(dispatcher.run(), timeout=10)

    asyncio.run(scenario())
    assert not dispatcher.enabled and hub.subscriber_count == 0 and dispatcher.notifiers == {}


def test_receiver_types_are_entry_points() -> None:
    registered = {ep.name for ep in entry_points(group="opsgraph.notifiers")}
    assert {"alertmanager", "slack", "email", "webhook", "memory"} <= registered
    settings = NotifySettings(
        receivers=[
            {"name": "am", "type": "alertmanager", "url": "http://am.example/hook"},
            {"name": "chat", "type": "slack", "url": "https://hooks.example/x"},
            {"name": "hook", "type": "webhook", "url": "https://hooks.example/y"},
            {"name": "mail", "type": "email", "host": "smtp", "sender": "a@b.c", "to": ["d@e.f"]},
            {"name": "mem", "type": "memory"},
        ]
    )
    built = [type(build_notifier(r)) for r in settings.receivers]
    assert built == [
        AlertmanagerNotifier,
        SlackNotifier,
        WebhookNotifier,
        EmailNotifier,
        MemoryNotifier,
    ]
    unknown = NotifySettings(receivers=[{"name": "x", "type": "carrier-pigeon"}]).receivers[0]
    with pytest.raises(ConfigError, match=r"notify.receivers\[x\].type: unknown receiver type"):
        build_notifier(unknown)


def test_the_server_starts_and_stops_the_dispatcher(
    tmp_path: Path, quick_detect: dict[str, Any]
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        sim={"resources": 30, "seed": 3, "preroll_steps": 40},
        detect=quick_detect,
        auth={"enabled": False},
        notify={
            "receivers": [{"name": "mem", "type": "memory"}],
            "routes": [{"receiver": "mem", "types": ["anomaly:new", "fault:new"]}],
        },
    )
    runtime = Runtime(settings, demo=True)
    runtime.simulation.start()
    db = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")
    try:
        with TestClient(create_app(runtime, run_pipeline=False)) as client:
            dispatcher: Dispatcher = client.app.state.notify  # type: ignore[attr-defined]
            memory = dispatcher.notifiers["mem"]
            assert isinstance(memory, MemoryNotifier)
            deadline = time.monotonic() + 20
            while not dispatcher.ready.is_set() and time.monotonic() < deadline:
                time.sleep(0.02)
            runtime.simulation.inject_fault(FaultKind.DEPENDENCY_OUTAGE, db)
            for _ in range(3):
                runtime.simulation.step()
            while not any(n.type == "anomaly:new" for n in memory.sent):
                assert time.monotonic() < deadline, "no anomaly was notified"
                time.sleep(0.05)
        assert memory.sent[0].type == "fault:new" and memory.sent[0].resource_id == db
        audit, _ = runtime.store.list_audit(action="notify.send")
        assert audit and all(isinstance(e, AuditEvent) and e.target == "mem" for e in audit)
        assert runtime.hub.subscriber_count == 0  # stopped with the server
    finally:
        runtime.close()
