"""Automation wired into a runtime: hooked on its incident lifecycle, acting on its simulated
cloud, and ticked by a small background thread. The runtime builds it once (`Runtime.automation`).
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any

from opsgraph.act.service import Automation

if TYPE_CHECKING:
    from opsgraph.runtime.root import Runtime

log = logging.getLogger("opsgraph.act")


def build_automation(runtime: Runtime) -> Automation:
    """The runtime's automation: policies loaded, past actions recovered, hook installed."""
    from opsgraph.sim import ActionKind

    def apply(kind: str, node: str, params: dict[str, Any]) -> dict[str, Any]:
        outcome = runtime.simulation.apply_action(
            ActionKind(kind), node, params, actor="automation", reason="remediation"
        )
        return outcome.model_dump(mode="json")

    settings = runtime.settings.automation
    automation = Automation(
        runtime.store,
        settings,
        clock=runtime.now,
        resources=lambda: runtime.estate.resources,
        dependencies=lambda: runtime.estate.dependencies,
        publish=runtime.hub.publish,
        apply_sim_action=apply,
    )
    automation.recover()
    runtime.alerts.on_incident.append(automation.on_incident)
    # Expiry and verification need a clock even when no incident changes.
    if automation.policies and settings.tick_s > 0:
        _start_ticker(automation, settings.tick_s)
    return automation


def _start_ticker(automation: Automation, every_s: float) -> None:
    ref = weakref.ref(automation)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            current = ref()
            if current is None:
                return
            try:
                current.tick()
            except Exception:  # a store hiccup: the next tick tries again
                log.exception("automation tick failed")
            del current

    threading.Thread(target=loop, name="opsgraph-act-tick", daemon=True).start()
