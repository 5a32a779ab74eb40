"""The Redis bridge relays hub messages between replicas: no duplicates, no loops, reconnects.

Runs against the Redis server at 127.0.0.1:6379 ($OPSGRAPH_TEST_REDIS_URL), one channel per test.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
import redis.asyncio as aioredis

from opsgraph.notify import EventHub, Message
from opsgraph.notify.redis_bridge import Backoff, RedisBridge, bridge_from_settings
from opsgraph.notify.settings import EventsSettings
from opsgraph.runtime.settings import Settings

REDIS_URL = os.environ.get("OPSGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
FAST = Backoff(first_s=0.02, max_s=0.2)


async def _until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Wait for a condition; the timeout only bounds a failing test."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def _replica(
    channel: str,
    url: str = REDIS_URL,
    *,
    queue_size: int = 100,
    on_remote: Callable[[Message], None] | None = None,
) -> AsyncIterator[tuple[EventHub, RedisBridge]]:
    hub = EventHub()
    hub.bind(asyncio.get_running_loop())
    bridge = RedisBridge(
        hub,
        url,
        channel=channel,
        queue_size=queue_size,
        on_remote=on_remote,
        backoff=FAST,
        poll_s=0.1,
    )
    await bridge.start()
    try:
        yield hub, bridge
    finally:
        await bridge.stop(flush_s=0.5)


def _drain(queue: asyncio.Queue[Message]) -> list[Message]:
    return [queue.get_nowait() for _ in range(queue.qsize())]


@pytest.fixture
def channel() -> str:
    return f"opsgraph:test:{uuid.uuid4().hex}"


def test_messages_reach_the_other_replica_once_and_never_loop(channel: str) -> None:
    async def scenario() -> None:
        async with _replica(channel) as (hub_a, a), _replica(channel) as (hub_b, b):
            await _until(lambda: a.subscribed.is_set() and b.subscribed.is_set(), "subscriptions")
            async with hub_a.subscribe() as on_a, hub_b.subscribe() as on_b:
                # Published from a worker thread, as the pipeline does.
                worker = threading.Thread(
                    target=lambda: [hub_a.publish("anomaly:new", {"id": i}) for i in range(3)]
                )
                worker.start()
                worker.join()
                await _until(lambda: on_b.qsize() == 3, "three messages on B")
                await _until(lambda: a.stats.skipped_own == 3, "A skipping its own echo")
                hub_b.publish("graph:update", {"nodes": [], "topology": True})
                await _until(lambda: on_a.qsize() == 4, "B's message on A")
                await asyncio.sleep(0.2)  # room for any duplicate or echo to show up
                got_b = _drain(on_b)
                got_a = _drain(on_a)
        assert [m.data["id"] for m in got_b[:3]] == [0, 1, 2]
        assert [m.type for m in got_b] == ["anomaly:new"] * 3 + ["graph:update"]
        assert [m.type for m in got_a] == ["anomaly:new"] * 3 + ["graph:update"]
        # Each side sent only what it published; relayed messages were not forwarded again.
        assert (a.stats.sent, a.stats.received, a.stats.skipped_own) == (3, 1, 3)
        assert (b.stats.sent, b.stats.received, b.stats.skipped_own) == (1, 3, 1)

    asyncio.run(scenario())


def test_remote_hook_and_invalid_envelopes(channel: str) -> None:
    seen: list[Message] = []

    async def scenario() -> None:
        async with (
            _replica(channel) as (hub_a, a),
            _replica(channel, on_remote=seen.append) as (
                _,
                b,
            ),
        ):
            await _until(lambda: a.subscribed.is_set() and b.subscribed.is_set(), "subscriptions")
            admin = aioredis.Redis.from_url(REDIS_URL)
            try:
                for junk in (b"not json", b"[1]", b'{"origin": "x", "type": "nope", "data": 1}'):
                    await admin.publish(channel, junk)
            finally:
                await admin.aclose()
            hub_a.publish("fault:new", {"kind": "cpu_hog"})
            await _until(lambda: len(seen) == 1, "the hook called")
            await _until(lambda: b.stats.invalid == 3, "junk counted")
        assert seen == [Message("fault:new", {"kind": "cpu_hog"})]

    asyncio.run(scenario())


def test_reconnects_after_redis_drops_the_connections(channel: str) -> None:
    async def scenario() -> None:
        async with _replica(channel) as (hub_a, a), _replica(channel) as (hub_b, b):
            await _until(lambda: a.subscribed.is_set() and b.subscribed.is_set(), "subscriptions")
            async with hub_b.subscribe() as on_b:
                hub_a.publish("anomaly:new", {"id": 1})
                await _until(lambda: on_b.qsize() == 1, "the first message")
                admin = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
                try:
                    # What a Redis restart does to clients: every connection of both bridges closed.
                    names = {f"opsgraph-events:{a.origin}", f"opsgraph-events:{b.origin}"}
                    clients = [c for c in await admin.client_list() if c["name"] in names]
                    assert len(clients) >= 3  # A's publisher, A's and B's subscriptions
                    for client in clients:
                        await admin.client_kill_filter(_id=client["id"])
                finally:
                    await admin.aclose()
                await _until(lambda: b.stats.reconnects >= 1, "B subscribing again")
                await _until(lambda: b.subscribed.is_set(), "B subscribed")
                hub_a.publish("anomaly:new", {"id": 2})
                await _until(lambda: on_b.qsize() == 2, "a message after the reconnection")
                got = [m.data["id"] for m in _drain(on_b)]
        assert got == [1, 2]

    asyncio.run(scenario())


def test_publishing_never_stalls_while_redis_is_away(channel: str) -> None:
    async def scenario() -> None:
        # Nothing listens on port 1: every connection attempt fails at once.
        away = "redis://127.0.0.1:1/0"
        async with (
            _replica(channel, url=away, queue_size=10) as (hub, bridge),
            hub.subscribe() as local,
        ):
            for i in range(50):
                hub.publish("metrics:update", {"n": i})
            await _until(lambda: local.qsize() == 50, "local delivery")
            await _until(lambda: bridge.stats.dropped >= 39, "drops counted")
            assert not bridge.connected
            stats = bridge.stats_json()
        # At most the queue and the one message being retried wait; the oldest were dropped.
        assert stats["dropped"] in (39, 40) and stats["queued"] <= 10 and stats["sent"] == 0

    asyncio.run(scenario())


def test_configuration() -> None:
    hub = EventHub()
    assert bridge_from_settings(EventsSettings(), hub) is None
    bridge = bridge_from_settings(
        EventsSettings(redis_url=REDIS_URL, channel="c1", queue_size=5), hub
    )
    assert bridge is not None and bridge.channel == "c1" and bridge.queue_size == 5
    with pytest.raises(ValueError, match="redis://"):
        Settings(events={"redis_url": "http://localhost:6379"})
    with pytest.raises(ValueError, match="queue_size"):
        RedisBridge(hub, REDIS_URL, queue_size=0)


def test_password_is_not_logged() -> None:
    bridge = RedisBridge(EventHub(), "redis://user:secret@redis.internal:6379/0")
    assert "secret" not in bridge._safe_url() and "redis.internal:6379/0" in bridge._safe_url()
