"""The simulated cloud: generated topologies, seasonal workload, faults with ground truth, actions.

The default source of opsgraph; deterministic by seed so detectors can be scored against it.
"""

from opsgraph.core.models import CalendarEvent
from opsgraph.sim.engine import SimulatedCloud
from opsgraph.sim.faults import (
    CHANGE_FAULTS,
    CORE_FAULT_KINDS,
    ActionKind,
    ActionOutcome,
    FaultKind,
    FaultRecord,
)
from opsgraph.sim.topology import generate_topology
from opsgraph.sim.workload import Calendar

__all__ = [
    "CHANGE_FAULTS",
    "CORE_FAULT_KINDS",
    "ActionKind",
    "ActionOutcome",
    "Calendar",
    "CalendarEvent",
    "FaultKind",
    "FaultRecord",
    "SimulatedCloud",
    "generate_topology",
]
