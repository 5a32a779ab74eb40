"""The composition root of one opsgraph process: it builds every service once and wires them
(sources -> ingest -> detect -> store -> alerts -> explain / act -> events). The API and the
CLI use the services it holds; nothing else keeps process-wide state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from opsgraph import __version__
from opsgraph.alerts.lifecycle import AlertLifecycle
from opsgraph.auth.service import AuthService
from opsgraph.ingest.doors import check_sample_times
from opsgraph.ingest.stream import build_ingestor
from opsgraph.models.gnn.service import GraphModels
from opsgraph.notify.hub import EventHub
from opsgraph.runtime.diagnosis import IncidentRoots
from opsgraph.runtime.estate import Estate
from opsgraph.runtime.explain import Explanations
from opsgraph.runtime.graph_history import recorded_span_s
from opsgraph.runtime.intake import Intake
from opsgraph.runtime.logs import LogIntake
from opsgraph.runtime.operator import Operator
from opsgraph.runtime.resource_models import ResourceModels
from opsgraph.runtime.settings import Settings, demo_store_url
from opsgraph.runtime.simulation import Simulation
from opsgraph.sources.pull import run_pull_source
from opsgraph.sources.registry import build_pull_sources
from opsgraph.store import Store

if TYPE_CHECKING:
    from opsgraph.act.service import Automation

log = logging.getLogger("opsgraph.runtime")


def _remove_sqlite(url: str) -> None:
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class Runtime:
    """One opsgraph process: the store, the event hub and the services built on them.

    - `estate`: resources and dependencies; `intake`: samples and outside alerts in;
    - `simulation`: the simulated cloud; `operator`: feedback, maintenance, alert status;
    - `explanations`: root causes of anomalies; `logs`: pushed log lines;
    - `resource_models`: the served multivariate model of a resource's signals;
    - `alerts` (incidents), `roots` (each incident's ranked root cause), `auth`,
      `graph_models`, `automation` (built on first use).
    """

    def __init__(self, settings: Settings, *, demo: bool = False) -> None:
        self.settings = settings
        self.demo = demo
        if settings.auth.allow_signup is None:  # unset: the demo offers sign-up, serve does not
            settings.auth.allow_signup = demo
        url = settings.store_url
        if demo and settings.store.url is None:
            url = demo_store_url(settings)
            _remove_sqlite(url)
        self.store_url = url
        self.store = Store(url)
        if settings.store.auto_migrate:
            self.store.migrate()
        self.hub = EventHub()
        self.ingestor = build_ingestor(
            settings.detect, store=self.store, persist_samples=settings.store.persist_samples
        )
        self.estate = Estate(self.store, self.ingestor, self.hub)
        self._discover_topology()
        gnn = settings.gnn
        simulated = settings.sim.enabled
        self.graph_models = GraphModels(
            settings.data_dir / "models",
            name=gnn.model or ("graphsage" if simulated else "graph_deviation"),
            bootstrap=gnn.bootstrap,
            bootstrap_incidents=gnn.bootstrap_incidents,
            bootstrap_epochs=gnn.bootstrap_epochs,
            # A model trained on the simulator fits only the simulator's estate: a real estate
            # (sim off) gets the self-supervised model, trained on its own recorded samples
            # once there are enough of them.
            estate_history=None if simulated else lambda: recorded_span_s(self.store),
            min_history_s=gnn.estate_min_history_s,
            store_url=settings.store_url,
        )
        # Built now so a bad source configuration stops the start with a clear message.
        self.pull_sources = build_pull_sources(settings.sources)
        self.auth = AuthService(
            self.store,
            settings.auth,
            data_dir=settings.data_dir,
            redis_url=settings.events.redis_url,
        )
        # Shown once by the CLI when this start created the first admin account.
        self.admin_password = self.auth.ensure_admin() if settings.auth.enabled else None
        self.alerts = AlertLifecycle(
            self.store,
            settings.alerts,
            resources=lambda: self.estate.resources,
            dependencies=lambda: self.estate.dependencies,
            publish=self.hub.publish,
            clock=self.clock,
        )
        # First hook: automation (hooked later) acts on the ranked root.
        self.roots = IncidentRoots(
            self.store,
            lambda: self.estate.dependencies,
            publish=self.hub.publish,
            resume=self.alerts.notify,
            clock=self.clock,
        )
        self.alerts.on_incident.append(self.roots.on_incident)
        self.alerts.after_batch.append(self.roots.retry)
        self.intake = Intake(self.ingestor, self.estate, self.alerts, self.hub)
        self.operator = Operator(self.store, self.ingestor, self.alerts)
        self.simulation = Simulation(
            settings,
            store=self.store,
            hub=self.hub,
            ingestor=self.ingestor,
            estate=self.estate,
            intake=self.intake,
        )
        self.explanations = Explanations(
            self.store, self.graph_models, settings.gnn, lambda: self.estate.dependencies
        )
        self.logs = LogIntake(
            settings.logs, store=self.store, ingestor=self.ingestor, intake=self.intake
        )
        mv = settings.multivariate
        self.resource_models = ResourceModels(
            settings.data_dir / "models",
            self.store,
            detector=mv.detector,
            bootstrap=mv.bootstrap,
            max_rows=mv.max_rows,
        )
        self._automation: Automation | None = None
        self._automation_lock = threading.Lock()
        self.started_at = time.time()

    def _discover_topology(self) -> None:
        """The configured topology: a YAML file, AWS discovery, or both."""
        cfg = self.settings.topology
        if cfg.file is not None:
            from opsgraph.sources.topology import YamlTopology

            topology = YamlTopology(cfg.file).discover()
            self.estate.upsert(topology.resources, topology.dependencies)
        if cfg.aws_regions:
            from opsgraph.sources.aws import AwsTopology, boto3_clients

            clients = boto3_clients(endpoint_url=cfg.aws_endpoint_url, profile=cfg.aws_profile)
            topology = AwsTopology(cfg.aws_regions, clients).discover()
            self.estate.upsert(topology.resources, topology.dependencies)

    @property
    def automation(self) -> Automation:
        """Remediation of this runtime: policies loaded and hooked on incidents the first time
        it is asked for (the API asks at start)."""
        with self._automation_lock:
            if self._automation is None:
                from opsgraph.runtime.automation import build_automation

                self._automation = build_automation(self)
            return self._automation

    def now(self) -> float:
        """The pipeline's clock: the newest sample time (simulated time may run ahead)."""
        latest = self.ingestor.latest_ts
        return latest if latest is not None else time.time()

    def clock(self) -> float:
        """The clock of events people read (timelines, notes, silences), the one automation
        keeps too: with a simulated estate its clock (the newest sample, which a demo faster
        than real time runs ahead of the wall clock), otherwise the wall clock, so the times
        the console shows side by side are of one clock."""
        cloud = self.simulation.cloud if hasattr(self, "simulation") else None
        return self.now() if cloud is not None else time.time()

    def check_sample_times(self, ts: npt.NDArray[np.float64], field: str = "samples") -> None:
        """Refuse samples from outside whose time is implausible (`ingest/doors.py`): judged
        against the wall clock, or the simulated estate's clock when it runs ahead."""
        cloud = self.simulation.cloud
        now = max(time.time(), cloud.now if cloud is not None else 0.0)
        api = self.settings.api
        check_sample_times(
            ts,
            now=now,
            max_future_skew_s=api.max_future_skew_s,
            max_age_s=api.max_sample_age_s,
            field=field,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Step the simulated cloud at the configured speed (and inject demo faults) and run
        the pull sources until stop."""
        cfg = self.settings.sim
        interval = cfg.step_s / cfg.speed
        loop = asyncio.get_running_loop()
        self.graph_models.start()
        self.hub.bind(loop)
        pulls = [
            asyncio.create_task(run_pull_source(source, self.intake.accept, stop))
            for source in self.pull_sources
        ]
        next_step = loop.time()
        demo = self.settings.demo
        next_fault = (
            loop.time() + demo.first_fault_after_s
            if self.demo and demo.fault_every_s > 0
            else float("inf")
        )
        simulation = self.simulation
        while not stop.is_set():
            if simulation.cloud is not None:
                try:
                    await asyncio.to_thread(simulation.step)
                except Exception:  # keep serving: one failed step must not stop the estate
                    log.exception("pipeline step failed")
            if loop.time() >= next_fault:
                await asyncio.to_thread(simulation.inject_demo_fault)
                next_fault = loop.time() + demo.fault_every_s
            next_step += interval
            delay = next_step - loop.time()
            if delay < -interval:  # fell behind: do not try to catch up in a burst
                next_step = loop.time()
                delay = 0.0
            if simulation.cloud is None:
                # A real estate: is there enough history to train its graph model on yet?
                await asyncio.to_thread(self.graph_models.poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(delay, 0.0))
        await asyncio.gather(*pulls, return_exceptions=True)

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "store": self.store.dialect,
            "resources": len(self.estate.resources),
            "uptime_s": round(time.time() - self.started_at, 3),
            "sim": self.simulation.cloud is not None,
            "steps": self.simulation.steps,
            "latest_ts": self.ingestor.latest_ts,
        }

    def close(self) -> None:
        self.graph_models.stop()
        self.store.close()
