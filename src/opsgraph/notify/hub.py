"""In-process publish/subscribe of typed messages, safe from worker threads: bounded subscriber
queues that drop their oldest, and a ring buffer of numbered messages for long-polling clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
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


#: Snapshots: only the newest is worth keeping for pollers, and each grows with the estate.
SNAPSHOT_TYPES = frozenset({"metrics:update"})

# Stands in the ring buffer for a snapshot that a newer one replaced.
_SUPERSEDED = object()


@dataclass(frozen=True)
class Message:
    type: str
    data: Any
    #: Position in the hub's stream (1, 2, ...); 0 for a message that never went through a hub.
    id: int = 0
    #: False for a message relayed from another replica (notifications go out only where a
    #: message was published, so replicas do not notify twice).
    local: bool = True

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "data": self.data}

    @cached_property
    def text(self) -> str:
        """The message as JSON text, encoded once however many clients receive it."""
        return json.dumps(self.as_json(), separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class PollResult:
    """What a long-poll returns: the messages after the cursor and the cursor to ask from next.

    `missed` counts messages after the cursor that the ring buffer no longer holds; `reset` says
    the cursor was ahead of the stream (the server restarted), so `messages` starts afresh.
    """

    messages: list[Message] = field(default_factory=list)
    cursor: int = 0
    missed: int = 0
    reset: bool = False


class EventHub:
    """Fans messages out to every subscriber's queue on the hub's event loop, and keeps the last
    `history_size` of them for long-polling clients."""

    def __init__(
        self, queue_size: int = 1000, history_size: int = 1000, poll_grace_s: float = 30.0
    ) -> None:
        if history_size < 1:
            raise ValueError("history_size must be at least 1")
        self.queue_size = queue_size
        self.history_size = history_size
        self.poll_grace_s = poll_grace_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: set[asyncio.Queue[Message]] = set()
        self._lock = threading.Lock()
        self._history: deque[Message] = deque(maxlen=history_size)
        self._last_id = 0
        self._snapshot_id: dict[str, int] = {}
        # Messages for the queues, in id order, drained on the loop whatever thread published.
        self._pending: list[Message] = []
        self._waiters: set[asyncio.Future[None]] = set()
        self._last_poll = float("-inf")
        self.published = 0
        self.dropped = 0
        #: Called with every message published here (not those from deliver_remote); the
        #: Redis bridge forwards them to other replicas. It must not block.
        self.on_publish: Callable[[Message], None] | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver to queues on this loop; before binding, messages only enter the ring buffer."""
        self._loop = loop

    @property
    def subscriber_count(self) -> int:
        """Queue subscribers, plus one while long-polling clients are waiting or polled lately
        (publishers skip costly messages when nobody listens)."""
        polling = bool(self._waiters) or time.monotonic() - self._last_poll < self.poll_grace_s
        return len(self._subscribers) + int(polling)

    @property
    def waiting(self) -> int:
        """Long-polls waiting for a message now."""
        return len(self._waiters)

    @property
    def last_id(self) -> int:
        return self._last_id

    def publish(self, type_: str, data: Any, *, forward: bool = True) -> None:
        if type_ not in MESSAGE_TYPES:
            raise ValueError(f"unknown message type {type_!r}")
        deliver_here = False
        with self._lock:
            self._last_id += 1
            message = Message(type_, data, self._last_id, local=forward)
            self._keep(message)
            self.published += 1
            waiters = list(self._waiters)
            self._waiters.clear()
            loop = self._loop
            if loop is not None and not loop.is_closed() and self._subscribers:
                self._pending.append(message)
                try:
                    running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
                except RuntimeError:
                    running = None
                if running is loop:
                    deliver_here = True
                else:
                    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                        loop.call_soon_threadsafe(self._deliver)
        for waiter in waiters:
            with contextlib.suppress(RuntimeError):  # that poll's loop closed: nobody waits
                waiter.get_loop().call_soon_threadsafe(_wake, waiter)
        if deliver_here:
            self._deliver()
        if forward and self.on_publish is not None:
            self.on_publish(message)

    def deliver_remote(self, message: Message) -> None:
        """Deliver a message published on another replica to local subscribers only."""
        self.publish(message.type, message.data, forward=False)

    def _keep(self, message: Message) -> None:
        """Into the ring buffer; a snapshot type replaces its previous message with a marker
        (keeping ids contiguous), so the buffer's size does not grow with the estate."""
        if message.type in SNAPSHOT_TYPES:
            previous = self._snapshot_id.get(message.type)
            if previous is not None and self._history:
                index = previous - self._history[0].id
                if index >= 0:
                    old = self._history[index]
                    self._history[index] = Message(old.type, _SUPERSEDED, old.id, old.local)
            self._snapshot_id[message.type] = message.id
        self._history.append(message)

    def _deliver(self) -> None:
        with self._lock:
            new, self._pending = self._pending, []
            queues = list(self._subscribers)
        for message in new:
            for queue in queues:
                if queue.full():
                    queue.get_nowait()
                    self.dropped += 1
                queue.put_nowait(message)

    def _slice_after(self, after: int) -> list[Message]:
        """Buffered messages with id > after, oldest first (ids in the buffer are contiguous)."""
        if not self._history or after >= self._last_id:
            return []
        first = self._history[0].id
        start = max(after + 1 - first, 0)
        return list(itertools.islice(self._history, start, None))

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

    def history(self, after: int = 0, *, limit: int | None = None) -> PollResult:
        """The buffered messages after a cursor, without waiting."""
        with self._lock:
            return self._read(after, limit, None)

    def _read(self, after: int, limit: int | None, types: frozenset[str] | None) -> PollResult:
        if after > self._last_id:
            # The cursor belongs to an earlier run of the server: start over from the buffer.
            return dataclasses.replace(self._read(0, limit, types), reset=True)
        new = self._slice_after(after)
        missed = new[0].id - after - 1 if new else 0
        if limit is not None:
            new = new[:limit]
        cursor = new[-1].id if new else after
        new = [m for m in new if m.data is not _SUPERSEDED and (types is None or m.type in types)]
        return PollResult(messages=new, cursor=cursor, missed=missed)

    async def poll(
        self,
        after: int,
        timeout: float,
        *,
        limit: int | None = None,
        types: Iterable[str] | None = None,
    ) -> PollResult:
        """Messages after `after` (optionally only of `types`), waiting up to `timeout` seconds
        for the first one. The returned cursor moves past filtered-out messages too."""
        wanted = frozenset(types) if types is not None else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        cursor, missed, reset = after, 0, False
        while True:
            self._last_poll = time.monotonic()
            with self._lock:
                result = self._read(cursor, limit, wanted)
                missed += result.missed
                reset = reset or result.reset
                cursor = result.cursor
                remaining = deadline - loop.time()
                if result.messages or remaining <= 0:
                    return PollResult(result.messages, cursor, missed, reset)
                waiter: asyncio.Future[None] = loop.create_future()
                self._waiters.add(waiter)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await waiter
            finally:
                with self._lock:
                    self._waiters.discard(waiter)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
