"""Wiring of the pipeline in one process: sources -> ingest -> detect -> store -> events.

`Runtime` owns the store, the event hub, the simulated cloud (when enabled) and the ingestor;
the API reads through it and the CLI starts it (demo or serve).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opsgraph import __version__
from opsgraph.alerts import AlertLifecycle
from opsgraph.auth import AuthService
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.core.models import (
    Dependency,
    Event,
    Resource,
    SampleFrame,
)
from opsgraph.detect.gnn.service import GraphModels
from opsgraph.ingest import IngestResult, build_ingestor
from opsgraph.notify import EventHub
from opsgraph.runtime.operator import OperatorControl
from opsgraph.runtime.settings import Settings, demo_store_url
from opsgraph.sim import (
    ActionKind,
    ActionOutcome,
    CalendarEvent,
    FaultKind,
    FaultRecord,
    SimulatedCloud,
)
from opsgraph.sources.pull import Batch, run_pull_source
from opsgraph.sources.registry import build_pull_sources
from opsgraph.store import Store

log = logging.getLogger("opsgraph.runtime")

Progress = Callable[[int, int], None]


def _remove_sqlite(url: str) -> None:
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class Runtime(OperatorControl):
    """One opsgraph process: the store, the hub, the sources and the ingest path."""

    def __init__(self, settings: Settings, *, demo: bool = False) -> None:
        self.settings = settings
        self.demo = demo
        url = settings.store_url
        if demo and settings.store.url is None:
            url = demo_store_url(settings)
            _remove_sqlite(url)
        self.store = Store(url)
        if settings.store.auto_migrate:
            self.store.migrate()
        self.hub = EventHub()
        self.ingestor = build_ingestor(
            settings.detect, store=self.store, persist_samples=settings.store.persist_samples
        )
        self.resources: dict[str, Resource] = {r.id: r for r in self.store.list_resources()}
        self.dependencies: list[Dependency] = self.store.list_dependencies()
        self.ingestor.add_resources(self.resources.values())
        # Operator decisions survive restarts: replay verdicts and maintenance windows.
        for feedback in self.store.all_feedback():
            self.ingestor.apply_feedback(feedback)
        self.ingestor.set_maintenance(self.store.list_maintenance())
        if settings.topology.file is not None:
            from opsgraph.sources.topology import YamlTopology

            topology = YamlTopology(settings.topology.file).discover()
            self.upsert_topology(topology.resources, topology.dependencies)
        if settings.topology.aws_regions:
            from opsgraph.sources.aws import AwsTopology, boto3_clients

            cfg = settings.topology
            clients = boto3_clients(endpoint_url=cfg.aws_endpoint_url, profile=cfg.aws_profile)
            topology = AwsTopology(cfg.aws_regions, clients).discover()
            self.upsert_topology(topology.resources, topology.dependencies)
        gnn = settings.gnn
        self.graph_models = GraphModels(
            settings.data_dir / "models",
            name=gnn.model,
            bootstrap=gnn.bootstrap,
            bootstrap_incidents=gnn.bootstrap_incidents,
            bootstrap_epochs=gnn.bootstrap_epochs,
        )
        # Built now so a bad source configuration stops the start with a clear message.
        self.pull_sources = build_pull_sources(settings.sources)
        self.auth = AuthService(self.store, settings.auth, data_dir=settings.data_dir)
        # Shown once by the CLI when this start created the first admin account.
        self.admin_password = self.auth.ensure_admin() if settings.auth.enabled else None
        self.alerts = AlertLifecycle(
            self.store,
            settings.alerts,
            resources=lambda: self.resources,
            dependencies=lambda: self.dependencies,
            publish=self.hub.publish,
        )
        self.sim: SimulatedCloud | None = None
        self._sim_lock = threading.Lock()
        self._calendar_active: set[str] = set()
        # Explanations by anomaly, kept while the anomaly does not change (bounded).
        self._explained: dict[tuple[int, float, float | None], dict[str, Any]] = {}
        self.started_at = time.time()
        self.steps = 0
        self._fault_rng = random.Random(settings.sim.seed)
        self._fault_cycle = 0

    # -- set-up ---------------------------------------------------------------------------
    def start_sim(
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
        sim = SimulatedCloud.generate(cfg.resources, seed=cfg.seed, start_ts=start, step_s=step)
        self.upsert_topology(sim.resources, sim.dependencies)
        # The estate's own calendar joins the configured one: detection takes both into account.
        self.ingestor.set_calendar([*self.settings.detect.calendar, *sim.calendar.events])
        self.sim = sim
        preroll = cfg.preroll_steps if last is None else 0
        for i in range(preroll):
            self.step()
            if progress is not None:
                progress(i + 1, preroll)
        return sim

    def upsert_topology(
        self, resources: Sequence[Resource], dependencies: Sequence[Dependency]
    ) -> None:
        self.store.upsert_topology(resources, dependencies)
        self.resources.update({r.id: r for r in resources})
        self.dependencies = self.store.list_dependencies()
        self.ingestor.add_resources(resources)

    def reload_topology(self) -> None:
        """Take the topology from the store (another replica registered resources)."""
        resources = self.store.list_resources()
        self.resources.update({r.id: r for r in resources})
        self.dependencies = self.store.list_dependencies()
        self.ingestor.add_resources(resources)

    # -- the loop -------------------------------------------------------------------------
    def step(self) -> IngestResult:
        """One simulated step through ingest, detection and storage; publishes what changed."""
        if self.sim is None:
            raise RuntimeError("the simulated cloud is not running")
        with self._sim_lock:
            frame = self.sim.step()
            calendar = self.ingestor.calendar.active(frame.ts)
        self._record_calendar(frame.ts, calendar)
        result = self.ingestor.ingest_frame(frame)
        self.steps += 1
        self.publish(result, frame)
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

    def accept(self, batch: Batch, source: str = "push") -> IngestResult:
        """Samples from an outside source: register the resources new to us, ingest, publish."""
        new = [r for r in batch.resources if r.id not in self.resources]
        if new:
            self.upsert_topology(new, [])
            self.hub.publish("graph:update", {"nodes": [], "topology": True, "source": source})
        result = self.ingestor.ingest_arrays(batch.sample_columns())
        self.publish(result)
        if batch.alerts:
            self.receive_alerts(batch.alerts)
        return result

    def publish(self, result: IngestResult, frame: SampleFrame | None = None) -> None:
        hub = self.hub
        if result.opened or result.closed:
            try:
                self.alerts.process(result.opened, result.closed)
            except Exception:  # the samples are stored; a lifecycle failure must not lose them
                log.exception("alert lifecycle failed")
        for anomaly in result.opened:
            hub.publish("anomaly:new", anomaly.model_dump(mode="json"))
        for anomaly in result.closed:
            hub.publish("anomaly:resolved", anomaly.model_dump(mode="json"))
        if result.changed_nodes:
            nodes = [
                {
                    "id": node,
                    "score": state.score,
                    "severity": state.severity.value if state.severity else None,
                    "anomalous": state.anomalous,
                }
                for node, state in result.changed_nodes.items()
            ]
            hub.publish("graph:update", {"nodes": nodes})
        if frame is not None and hub.subscriber_count:
            hub.publish("metrics:update", self._metrics_message(frame))

    def _metrics_message(self, frame: SampleFrame) -> dict[str, Any]:
        cols = [frame.metrics.index(m) for m in SIGNALS if m in frame.metrics]
        names = [frame.metrics[c] for c in cols]
        table = frame.values[:, cols].tolist()
        nodes = {}
        for node, row in zip(frame.resource_ids, table, strict=True):
            entry = {name: v for name, v in zip(names, row, strict=True) if v == v}
            entry["score"] = self.ingestor.node_score(node)
            nodes[node] = entry
        return {"ts": frame.ts, "nodes": nodes}

    async def run(self, stop: asyncio.Event) -> None:
        """Step the simulated cloud at the configured speed (and inject demo faults) until stop."""
        cfg = self.settings.sim
        interval = cfg.step_s / cfg.speed
        loop = asyncio.get_running_loop()
        self.graph_models.start()
        self.hub.bind(loop)
        pulls = [
            asyncio.create_task(run_pull_source(source, self.accept, stop))
            for source in self.pull_sources
        ]
        next_step = loop.time()
        demo = self.settings.demo
        next_fault = (
            loop.time() + demo.first_fault_after_s
            if self.demo and demo.fault_every_s > 0
            else float("inf")
        )
        while not stop.is_set():
            if self.sim is not None:
                try:
                    await asyncio.to_thread(self.step)
                except Exception:  # keep serving: one failed step must not stop the estate
                    log.exception("pipeline step failed")
            if loop.time() >= next_fault:
                await asyncio.to_thread(self._inject_demo_fault)
                next_fault = loop.time() + demo.fault_every_s
            next_step += interval
            delay = next_step - loop.time()
            if delay < -interval:  # fell behind: do not try to catch up in a burst
                next_step = loop.time()
                delay = 0.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(delay, 0.0))
        await asyncio.gather(*pulls, return_exceptions=True)

    # -- the simulated cloud's controls --------------------------------------------------
    def require_sim(self) -> SimulatedCloud:
        if self.sim is None:
            raise InvalidInputError("sim", "the simulated cloud is not running in this process")
        return self.sim

    def inject_fault(
        self,
        kind: FaultKind,
        node: str,
        *,
        duration_s: float | None = None,
        actor: str = "api",
        reason: str = "",
    ) -> FaultRecord:
        sim = self.require_sim()
        with self._sim_lock:
            record = sim.inject(kind, node, duration_s=duration_s)
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
        sim = self.require_sim()
        with self._sim_lock:
            outcome = sim.apply_action(kind, node, params or {})
        self._record(
            event=Event(
                ts=sim.now,
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

    def _inject_demo_fault(self) -> FaultRecord | None:
        """Inject the next fault kind of the demo cycle on a node it can apply to."""
        sim = self.sim
        if sim is None:
            return None
        kinds = self.settings.demo.fault_kinds
        kind = FaultKind(kinds[self._fault_cycle % len(kinds)])
        self._fault_cycle += 1
        nodes = sorted(r.id for r in sim.resources)
        # Prefer nodes that others depend on, so the fault's spread shows on the graph.
        depended = sorted({d.target for d in sim.dependencies})
        for candidates in (depended, nodes):
            for node in self._fault_rng.sample(candidates, k=min(len(candidates), 64)):
                try:
                    return self.inject_fault(kind, node, actor="demo", reason="demo schedule")
                except InvalidInputError:
                    continue
        log.warning("no node accepts a %s fault", kind.value)
        return None

    # -- read side ------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "store": self.store.dialect,
            "resources": len(self.resources),
            "uptime_s": round(time.time() - self.started_at, 3),
            "sim": self.sim is not None,
            "steps": self.steps,
            "latest_ts": self.ingestor.latest_ts,
        }

    def graph(self) -> dict[str, Any]:
        snapshot = self.ingestor.snapshot()
        nodes = []
        for resource in self.resources.values():
            metrics, score, state = snapshot.get(resource.id, ({}, 0.0, None))
            nodes.append(
                {
                    "id": resource.id,
                    "kind": resource.kind.value,
                    "name": resource.name or resource.id,
                    "region": resource.region,
                    "provider": resource.provider,
                    "tags": resource.tags,
                    "metrics": metrics,
                    "score": score,
                    "severity": state.severity.value if state and state.severity else None,
                    "anomalous": bool(state and state.anomalous),
                }
            )
        edges = [
            {"source": d.source, "target": d.target, "kind": d.kind.value, "inferred": d.inferred}
            for d in self.dependencies
        ]
        return {"ts": self.ingestor.latest_ts, "nodes": nodes, "edges": edges}

    def close(self) -> None:
        self.graph_models.stop()
        self.store.close()
