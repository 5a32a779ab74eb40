"""In-process publish/subscribe of typed messages, safe to publish from worker threads.

Each subscriber has a bounded queue; a slow subscriber loses its oldest messages rather than
stalling the pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

#: The message types a subscriber may see.
MESSAGE_TYPES = frozenset(
    {
        "hello",
        "anomaly:new",
        "anomaly:resolved",
        "anomaly:update",
        "incident:update",
        "automation:log",
        "metrics:update",
        "graph:update",
        "fault:new",
        "action:applied",
    }
)


@dataclass(frozen=True, slots=True)
class Message:
    type: str
    data: Any

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "data": self.data}


class EventHub:
    """Fans messages out to every subscriber's queue on the hub's event loop."""

    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: set[asyncio.Queue[Message]] = set()
        self._lock = threading.Lock()
        self.published = 0
        self.dropped = 0

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on this loop; publishing before binding (or from no loop) is a no-op."""
        self._loop = loop

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, type_: str, data: Any) -> None:
        if type_ not in MESSAGE_TYPES:
            raise ValueError(f"unknown message type {type_!r}")
        self.published += 1
        loop = self._loop
        if loop is None or loop.is_closed() or not self._subscribers:
            return
        message = Message(type_, data)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(message)
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: shutting down
                loop.call_soon_threadsafe(self._deliver, message)

    def _deliver(self, message: Message) -> None:
        with self._lock:
            queues = list(self._subscribers)
        for queue in queues:
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(message)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Message]]:
        queue: asyncio.Queue[Message] = asyncio.Queue(self.queue_size)
        with self._lock:
            self._subscribers.add(queue)
        try:
            yield queue
        finally:
            with self._lock:
                self._subscribers.discard(queue)
