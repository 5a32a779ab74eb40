"""The dispatcher: subscribed to the hub, it routes notifications to each receiver's own queue and
task (a slow receiver stalls nobody), retries with back-off and audits every send and suppression.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from opsgraph.core.errors import NotFoundError
from opsgraph.core.models import AuditEvent, Resource
from opsgraph.notify.base import DeliveryError, Notification, Notifier, build_notifier
from opsgraph.notify.convert import to_notification
from opsgraph.notify.hub import EventHub, Message
from opsgraph.notify.routing import Clock, Decision, Router
from opsgraph.notify.settings import NOTIFIABLE_TYPES, NotifySettings

log = logging.getLogger("opsgraph.notify")

ACTOR = "notify"
#: How long a looked-up resource (kind, region, owner) is reused before asking the store again.
RESOURCE_TTL_S = 60.0

Sleep = Callable[[float], Awaitable[None]]


class NotifyStore(Protocol):
    """What the dispatcher needs of the store: the audit log and resources."""

    def append_audit(self, event: AuditEvent) -> AuditEvent: ...

    def get_resource(self, resource_id: str) -> Resource: ...


@dataclass(frozen=True, slots=True)
class Delivery:
    notification: Notification
    decision: Decision


class Dispatcher:
    """Routes hub messages to notifiers; `run()` until cancelled (returns at once with no
    routes configured, so by default nothing subscribes and nothing is sent)."""

    def __init__(
        self,
        hub: EventHub,
        settings: NotifySettings,
        store: NotifyStore,
        *,
        base_url: str = "",
        notifiers: Mapping[str, Notifier] | None = None,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.store = store
        self.base_url = str(settings.external_url or base_url).rstrip("/")
        self.router = Router(settings, clock=clock)
        self.clock = clock
        self.sleep = sleep
        if notifiers is None:
            used = {route.receiver for route in settings.routes}
            notifiers = {r.name: build_notifier(r) for r in settings.receivers if r.name in used}
        self.notifiers = dict(notifiers)
        self._queues: dict[str, asyncio.Queue[Delivery]] = {}
        self._resources: dict[str, tuple[float, Resource | None]] = {}
        self.ready = asyncio.Event()

    @property
    def enabled(self) -> bool:
        return bool(self.settings.routes)

    async def run(self) -> None:
        """Subscribe and dispatch until cancelled; the receivers' tasks stop with it."""
        if not self.enabled:
            return
        workers = self.start_workers()
        try:
            async with self.hub.subscribe() as queue:
                self.ready.set()
                while True:
                    message = await queue.get()
                    try:
                        await self.handle(message)
                    except Exception:  # one bad message must not end notifications
                        log.exception("dispatching a %s message failed", message.type)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    def start_workers(self) -> list[asyncio.Task[None]]:
        """One queue and task per receiver (run() calls it; tests may drive handle() alone)."""
        tasks = []
        for name, notifier in self.notifiers.items():
            queue: asyncio.Queue[Delivery] = asyncio.Queue(self.settings.queue_size)
            self._queues[name] = queue
            tasks.append(asyncio.create_task(self._worker(notifier, queue), name=f"notify-{name}"))
        return tasks

    async def join(self) -> None:
        """Wait until every queued notification has been delivered or given up."""
        for queue in list(self._queues.values()):
            await queue.join()

    async def handle(self, message: Message) -> list[Decision]:
        """Route one hub message: queue what goes out now, audit what is suppressed."""
        if message.type not in NOTIFIABLE_TYPES or not message.local:
            return []
        # In a thread: looking resources up reads the store.
        notification = await asyncio.to_thread(
            to_notification, message, lookup=self._lookup, base_url=self.base_url
        )
        if notification is None:
            return []
        decisions = self.router.route(notification)
        for decision in decisions:
            if decision.send:
                await self._enqueue(Delivery(notification, decision))
            elif decision.audit:
                await self._audit(
                    "notify.suppressed", notification, decision, {"status": "suppressed"}
                )
        return decisions

    # -- delivery ---------------------------------------------------------------------------
    async def _enqueue(self, delivery: Delivery) -> None:
        queue = self._queues.get(delivery.decision.receiver)
        if queue is None:
            raise RuntimeError("the receivers' workers are not started (call start_workers)")
        if queue.full():
            # A receiver this far behind gets the newest news; the oldest waiting is dropped.
            dropped = queue.get_nowait()
            queue.task_done()
            log.warning(
                "receiver %s is %d behind; dropped one", dropped.decision.receiver, queue.maxsize
            )
            await self._audit(
                "notify.suppressed",
                dropped.notification,
                dropped.decision,
                {"status": "suppressed", "queue_full": queue.maxsize},
                reason=f"receiver queue full ({queue.maxsize} waiting)",
            )
        queue.put_nowait(delivery)

    async def _worker(self, notifier: Notifier, queue: asyncio.Queue[Delivery]) -> None:
        while True:
            delivery = await queue.get()
            try:
                await self._deliver(notifier, delivery)
            except Exception:  # keep the receiver's task alive for the next notification
                log.exception("delivering to %s failed", notifier.name)
            finally:
                queue.task_done()

    async def _deliver(self, notifier: Notifier, delivery: Delivery) -> None:
        retry = self.settings.retry
        errors: list[str] = []
        n, decision = delivery.notification, delivery.decision
        for attempt in range(1, retry.attempts + 1):
            try:
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
                # that arrives as the send completes, and the task would outlive shutdown.
                async with asyncio.timeout(retry.send_timeout_s):
                    await notifier.send(n)
            except DeliveryError as exc:
                errors.append(str(exc))
                if not exc.retryable:
                    break
            except TimeoutError:
                errors.append(f"no answer within {retry.send_timeout_s:g}s")
            except Exception as exc:  # a plug-in's bug: report it, do not retry blindly
                log.exception("notifier %s raised", notifier.name)
                errors.append(f"{type(exc).__name__}: {exc}")
                break
            else:
                await self._audit(
                    "notify.send",
                    n,
                    decision,
                    {"status": "sent", "attempts": attempt, "errors": errors},
                )
                return
            if attempt < retry.attempts:
                await self.sleep(self._backoff(attempt))
        log.warning(
            "gave up notifying %s of %s after %d attempt(s): %s",
            notifier.name,
            n.fingerprint,
            len(errors),
            errors[-1],
        )
        await self._audit(
            "notify.send",
            n,
            decision,
            {"status": "failed", "attempts": len(errors), "errors": errors},
        )

    def _backoff(self, attempt: int) -> float:
        retry = self.settings.retry
        delay = min(retry.backoff_s * 2.0 ** (attempt - 1), retry.max_backoff_s)
        # Jitter keeps many alerts failing together from retrying in lockstep.
        return delay * random.uniform(0.8, 1.0)

    # -- records ----------------------------------------------------------------------------
    async def _audit(
        self,
        action: str,
        n: Notification,
        decision: Decision,
        result: dict[str, Any],
        *,
        reason: str | None = None,
    ) -> None:
        event = AuditEvent(
            ts=self.clock(),
            actor=ACTOR,
            action=action,
            target=decision.receiver,
            reason=reason or decision.reason,
            inputs={
                "type": n.type,
                "fingerprint": n.fingerprint,
                "status": n.status,
                "severity": n.severity.value,
                "title": n.title,
                "route": decision.route,
                "labels": n.labels,
                "suppressed_before": decision.suppressed_before,
            },
            result=result,
        )
        try:
            await asyncio.to_thread(self.store.append_audit, event)
        except Exception:  # the store being down must not stop notifications
            log.exception("could not audit %s to %s", action, decision.receiver)

    def _lookup(self, resource_id: str) -> Resource | None:
        now = self.clock()
        cached = self._resources.get(resource_id)
        if cached is not None and now - cached[0] < RESOURCE_TTL_S:
            return cached[1]
        resource: Resource | None
        try:
            resource = self.store.get_resource(resource_id)
        except NotFoundError:
            resource = None
        except Exception:  # labels without kind/region/owner beat no notification
            log.exception("looking up resource %s failed", resource_id)
            resource = None
        if len(self._resources) > 10_000:
            self._resources.clear()
        self._resources[resource_id] = (now, resource)
        return resource
