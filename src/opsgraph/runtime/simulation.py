"""The simulated cloud inside a process: its estate and history, one step of the pipeline per
simulated step, faults and actions (each an event, an audit record and a live message), and
the demo's fault schedule."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Event
from opsgraph.ingest.stream import Ingestor, IngestResult
from opsgraph.notify.hub import EventHub
from opsgraph.runtime.estate import Estate
from opsgraph.runtime.intake import Intake
from opsgraph.runtime.settings import Settings
from opsgraph.sim import (
    CHANGE_FAULTS,
    ActionKind,
    ActionOutcome,
    CalendarEvent,
    FaultKind,
    FaultRecord,
    SimulatedCloud,
)
from opsgraph.store import Store

log = logging.getLogger("opsgraph.runtime")

Progress = Callable[[int, int], None]


class Simulation:
    """The simulated cloud of this process (`cloud`, None until `start`)."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store,
        hub: EventHub,
        ingestor: Ingestor,
        estate: Estate,
        intake: Intake,
    ) -> None:
        self.settings = settings
        self.store = store
        self.hub = hub
        self.ingestor = ingestor
        self.estate = estate
        self.intake = intake
        self.cloud: SimulatedCloud | None = None
        self.steps = 0
        self._lock = threading.Lock()
        self._calendar_active: set[str] = set()
        self._fault_rng = random.Random(settings.sim.seed)
        self._fault_cycle = 0

    def start(
        self, progress: Progress | None = None, *, start_ts: float | None = None
    ) -> SimulatedCloud:
        """Create the simulated estate, store its topology and simulate the pre-roll history,
        which starts at `start_ts` (default: so that it ends now)."""
        cfg = self.settings.sim
        step = cfg.step_s
        start = time.time() - cfg.preroll_steps * step if start_ts is None else start_ts
        last = self.store.last_sample_ts()
        if last is not None and last + step > start:
            start = last + step  # resume after what is stored; never write a timestamp twice
        cloud = SimulatedCloud.generate(
            cfg.resources,
            seed=cfg.seed,
            start_ts=start,
            step_s=step,
            action_delay_s=cfg.action_delay_s,
            action_failure_rate=cfg.action_failure_rate,
        )
        self.estate.upsert(cloud.resources, cloud.dependencies)
        # The estate's own calendar joins the configured one: detection takes both into account.
        self.ingestor.set_calendar([*self.settings.detect.calendar, *cloud.calendar.events])
        self.cloud = cloud
        preroll = cfg.preroll_steps if last is None else 0
        for i in range(preroll):
            self.step()
            if progress is not None:
                progress(i + 1, preroll)
        return cloud

    def require(self) -> SimulatedCloud:
        if self.cloud is None:
            raise InvalidInputError("sim", "the simulated cloud is not running in this process")
        return self.cloud

    def step(self) -> IngestResult:
        """One simulated step through ingest, detection and storage; publishes what changed."""
        if self.cloud is None:
            raise RuntimeError("the simulated cloud is not running")
        with self._lock:
            frame = self.cloud.step()
            calendar = self.ingestor.calendar.active(frame.ts)
        self._record_calendar(frame.ts, calendar)
        result = self.ingestor.ingest_frame(frame)
        self.steps += 1
        self.intake.publish(result, frame)
        return result

    def _record_calendar(self, ts: float, active: list[CalendarEvent]) -> None:
        """Business events (sales, promotions) that start or end are events of the estate:
        they explain shifts of traffic that detectors see."""
        now = {e.name: e for e in active}
        changes = [
            Event(
                ts=ts,
                kind="calendar.start",
                message=f"{e.kind} {e.name} started (traffic x{e.multiplier:.2f})",
                payload=e.model_dump(mode="json"),
            )
            for name, e in now.items()
            if name not in self._calendar_active
        ] + [
            Event(ts=ts, kind="calendar.end", message=f"{name} ended", payload={"name": name})
            for name in self._calendar_active - now.keys()
        ]
        if changes:
            self.store.add_events(changes)
        self._calendar_active = set(now)

    def inject_fault(
        self,
        kind: FaultKind,
        node: str,
        *,
        duration_s: float | None = None,
        actor: str = "api",
        reason: str = "",
    ) -> FaultRecord:
        cloud = self.require()
        with self._lock:
            record = cloud.inject(kind, node, duration_s=duration_s)
        if kind in CHANGE_FAULTS:
            # What broke it was a change of the node, which a delivery pipeline records: the
            # evidence a rollback policy asks for (`trigger.changed_within_s`).
            self.store.add_events(
                [
                    Event(
                        ts=record.start_ts,
                        kind="change.deploy",
                        resource_id=node,
                        message=f"deploy on {node} (release {record.id})",
                        payload={"release": record.id, "source": "simulator"},
                    )
                ]
            )
        self._record(
            event=Event(
                ts=record.start_ts,
                kind="fault.injected",
                resource_id=node,
                message=f"{kind.value} injected on {node}",
                payload=record.model_dump(mode="json"),
            ),
            actor=actor,
            action="sim.inject",
            reason=reason,
            inputs={"kind": kind.value, "duration_s": duration_s},
            message_type="fault:new",
        )
        return record

    def apply_action(
        self,
        kind: ActionKind,
        node: str,
        params: dict[str, Any] | None = None,
        *,
        actor: str = "api",
        reason: str = "",
    ) -> ActionOutcome:
        cloud = self.require()
        with self._lock:
            outcome = cloud.apply_action(kind, node, params or {})
        self._record(
            event=Event(
                ts=cloud.now,
                kind="action.applied",
                resource_id=node,
                message=outcome.message,
                payload=outcome.model_dump(mode="json"),
            ),
            actor=actor,
            action=f"sim.{kind.value}",
            reason=reason,
            inputs={"params": params or {}},
            message_type="action:applied",
        )
        return outcome

    def _record(
        self,
        *,
        event: Event,
        actor: str,
        action: str,
        reason: str,
        inputs: dict[str, Any],
        message_type: str,
    ) -> None:
        """One side effect: the event, its append-only audit record, and the live message."""
        self.store.add_events([event])
        self.store.audit(
            actor, action, event.resource_id, reason=reason, inputs=inputs, result=event.payload
        )
        self.hub.publish(message_type, event.payload)

    def inject_demo_fault(self) -> FaultRecord | None:
        """Inject the next fault kind of the demo cycle on a node it can apply to."""
        cloud = self.cloud
        if cloud is None:
            return None
        kinds = self.settings.demo.fault_kinds
        kind = FaultKind(kinds[self._fault_cycle % len(kinds)])
        self._fault_cycle += 1
        nodes = sorted(r.id for r in cloud.resources)
        # Prefer nodes that others depend on, so the fault's spread shows on the graph.
        depended = sorted({d.target for d in cloud.dependencies})
        for candidates in (depended, nodes):
            for node in self._fault_rng.sample(candidates, k=min(len(candidates), 64)):
                try:
                    return self.inject_fault(kind, node, actor="demo", reason="demo schedule")
                except InvalidInputError:
                    continue
        log.warning("no node accepts a %s fault", kind.value)
        return None
