"""Fan-out of hub messages between replicas through a Redis pub/sub channel.

Each replica forwards what its hub publishes (tagged with its origin id) and relays the others'
messages to its local subscribers; it never stalls the publisher and survives Redis restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from opsgraph.notify.hub import MESSAGE_TYPES, EventHub, Message
from opsgraph.notify.settings import EventsSettings

log = logging.getLogger("opsgraph.notify.redis")

#: Version of the JSON envelope on the channel: {"v", "origin", "ts", "type", "data"}.
ENVELOPE_VERSION = 1

# A lost connection shows up as any of these; the loops reconnect after a back-off.
_REDIS_ERRORS = (RedisError, OSError, asyncio.TimeoutError)

RemoteHook = Callable[[Message], None]


def new_origin() -> str:
    """An id unique to one replica's bridge: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(slots=True)
class Backoff:
    """Exponential back-off with jitter between reconnection attempts."""

    first_s: float = 0.1
    max_s: float = 5.0
    _next: float = 0.0

    def reset(self) -> None:
        self._next = 0.0

    def next(self) -> float:
        self._next = self.first_s if self._next == 0.0 else min(self._next * 2, self.max_s)
        # Jitter spreads the reconnections of many replicas after one Redis restart.
        return self._next * random.uniform(0.5, 1.0)


@dataclass(slots=True)
class BridgeStats:
    sent: int = 0
    received: int = 0
    skipped_own: int = 0
    dropped: int = 0
    invalid: int = 0
    unencodable: int = 0
    reconnects: int = 0


class RedisBridge:
    """Connects one replica's EventHub to the shared channel; start() and stop() on its loop."""

    def __init__(
        self,
        hub: EventHub,
        url: str,
        *,
        channel: str = "opsgraph:events",
        queue_size: int = 10_000,
        origin: str | None = None,
        on_remote: RemoteHook | None = None,
        backoff: Backoff | None = None,
        poll_s: float = 1.0,
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.hub = hub
        self.url = url
        self.channel = channel
        self.queue_size = queue_size
        self.origin = origin or new_origin()
        self.on_remote = on_remote
        self.stats = BridgeStats()
        self._pub_backoff = backoff or Backoff()
        self._sub_backoff = Backoff(self._pub_backoff.first_s, self._pub_backoff.max_s)
        self._poll_s = poll_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._outbox: asyncio.Queue[Message] | None = None
        self._client: aioredis.Redis | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # None until the first attempt, so a Redis that is down at start is reported once.
        self._publisher_up: bool | None = None
        self._subscriber_up: bool | None = None
        self.subscribed = asyncio.Event()

    # -- life -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Forward the hub's messages and relay the channel's; Redis may still be down."""
        if self._tasks:
            raise RuntimeError("the bridge is already running")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._outbox = asyncio.Queue(self.queue_size)
        # Our own retry loops own reconnection and back-off: no hidden retries inside redis-py.
        self._client = aioredis.Redis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=5,
            socket_timeout=10,
            health_check_interval=15,
            client_name=f"opsgraph-events:{self.origin}",  # shows which replica in CLIENT LIST
        )
        self.hub.on_publish = self.offer
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name="redis-bridge-publish"),
            asyncio.create_task(self._subscribe_loop(), name="redis-bridge-subscribe"),
        ]
        log.info("event fan-out through Redis channel %r as %s", self.channel, self.origin)

    async def stop(self, flush_s: float = 2.0) -> None:
        """Stop forwarding; send what is queued for up to flush_s seconds, then close."""
        if self.hub.on_publish == self.offer:
            self.hub.on_publish = None
        if self._outbox is not None and self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.join(), timeout=flush_s)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self.subscribed.clear()
        if self._client is not None:
            with contextlib.suppress(*_REDIS_ERRORS):
                await self._client.aclose()
            self._client = None

    @property
    def connected(self) -> bool:
        """Both directions are up: the last publish succeeded and the channel is subscribed."""
        return bool(self._publisher_up) and self.subscribed.is_set()

    def stats_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "channel": self.channel,
            "connected": self.connected,
            "queued": self._outbox.qsize() if self._outbox is not None else 0,
            "sent": self.stats.sent,
            "received": self.stats.received,
            "skipped_own": self.stats.skipped_own,
            "dropped": self.stats.dropped,
            "invalid": self.stats.invalid,
            "unencodable": self.stats.unencodable,
            "reconnects": self.stats.reconnects,
        }

    # -- outbound ---------------------------------------------------------------------------
    def offer(self, message: Message) -> None:
        """The hub's on_publish hook: queue a message for Redis from any thread, never block."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread:
            self._enqueue(message)
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: shutting down
                loop.call_soon_threadsafe(self._enqueue, message)

    def _enqueue(self, message: Message) -> None:
        outbox = self._outbox
        if outbox is None:
            return
        if outbox.full():
            # Newer messages are worth more to a live view than the oldest waiting ones.
            outbox.get_nowait()
            outbox.task_done()
            self.stats.dropped += 1
        outbox.put_nowait(message)

    def encode(self, message: Message) -> bytes | None:
        envelope = {
            "v": ENVELOPE_VERSION,
            "origin": self.origin,
            "ts": time.time(),
            "type": message.type,
            "data": message.data,
        }
        try:
            return json.dumps(envelope, separators=(",", ":"), allow_nan=False).encode()
        except (TypeError, ValueError):
            return None

    async def _publish_loop(self) -> None:
        assert self._outbox is not None and self._client is not None
        outbox, client = self._outbox, self._client
        while True:
            message = await outbox.get()
            try:
                payload = self.encode(message)
                if payload is None:
                    self.stats.unencodable += 1
                    log.warning("%s message is not JSON; not forwarded", message.type)
                    continue
                while True:
                    try:
                        await client.publish(self.channel, payload)
                    except _REDIS_ERRORS as exc:
                        self._lost("publishing", exc, was_up=self._publisher_up)
                        self._publisher_up = False
                        await asyncio.sleep(self._pub_backoff.next())
                        continue
                    if not self._publisher_up:
                        self._publisher_up = True
                        self._pub_backoff.reset()
                    self.stats.sent += 1
                    break
            finally:
                outbox.task_done()

    # -- inbound ----------------------------------------------------------------------------
    async def _subscribe_loop(self) -> None:
        assert self._client is not None
        client = self._client
        first = True
        while True:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if not first:
                    self.stats.reconnects += 1
                    log.info("event channel %r subscribed again", self.channel)
                first = False
                self._sub_backoff.reset()
                self._subscriber_up = True
                self.subscribed.set()
                while True:
                    item = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=self._poll_s
                    )
                    if item is not None and item.get("type") == "message":
                        self.relay(item["data"])
            except _REDIS_ERRORS as exc:
                # Messages published while we are away are lost (pub/sub keeps no history);
                # clients read the store through the API for anything they missed.
                self._lost("subscribing", exc, was_up=self._subscriber_up)
                self._subscriber_up = False
                self.subscribed.clear()
            finally:
                with contextlib.suppress(*_REDIS_ERRORS):
                    await pubsub.aclose()
            await asyncio.sleep(self._sub_backoff.next())

    def relay(self, raw: bytes | str) -> None:
        """Deliver one envelope from the channel to local subscribers, unless it is ours."""
        try:
            envelope = json.loads(raw)
        except ValueError:
            self.stats.invalid += 1
            return
        if (
            not isinstance(envelope, dict)
            or not isinstance(envelope.get("origin"), str)
            or envelope.get("type") not in MESSAGE_TYPES
            or "data" not in envelope
        ):
            self.stats.invalid += 1
            return
        if envelope["origin"] == self.origin:
            self.stats.skipped_own += 1
            return
        message = Message(envelope["type"], envelope["data"])
        self.stats.received += 1
        self.hub.deliver_remote(message)
        if self.on_remote is not None:
            try:
                self.on_remote(message)
            except Exception:  # a failing hook must not stop the relay of later messages
                log.exception("the remote-message hook failed on %s", message.type)

    def _lost(self, what: str, exc: BaseException, *, was_up: bool | None) -> None:
        # Log the change of state once, not every retry while Redis stays away.
        level = logging.DEBUG if was_up is False else logging.WARNING
        log.log(level, "Redis %s at %s failed (%s); retrying", what, self._safe_url(), exc)

    def _safe_url(self) -> str:
        # Never log a password embedded in the URL.
        head, sep, tail = self.url.rpartition("@")
        return f"{head.split('//')[0]}//***@{tail}" if sep else self.url


def bridge_from_settings(
    settings: EventsSettings, hub: EventHub, *, on_remote: RemoteHook | None = None
) -> RedisBridge | None:
    """The configured bridge, or None when no Redis is configured (a single replica)."""
    if settings.redis_url is None:
        return None
    return RedisBridge(
        hub,
        settings.redis_url,
        channel=settings.channel,
        queue_size=settings.queue_size,
        on_remote=on_remote,
    )
