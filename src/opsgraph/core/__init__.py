"""Domain types of opsgraph: resources, dependencies, samples, anomalies, incidents, events.

This package imports nothing else of opsgraph; every other package builds on it.
"""

from opsgraph.core.errors import (
    ConfigError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    OpsgraphError,
    StoreError,
    UnavailableError,
)
from opsgraph.core.graph import ResourceGraph
from opsgraph.core.metrics import SIGNALS, SIM_METRICS
from opsgraph.core.models import (
    Anomaly,
    AnomalyStatus,
    AuditEvent,
    CalendarEvent,
    Dependency,
    DependencyKind,
    Event,
    Feedback,
    FeedbackVerdict,
    Incident,
    IncidentStatus,
    MaintenanceWindow,
    Resource,
    ResourceKind,
    Sample,
    SampleColumns,
    SampleFrame,
    Severity,
    severity_for,
)

__all__ = [
    "SIGNALS",
    "SIM_METRICS",
    "Anomaly",
    "AnomalyStatus",
    "AuditEvent",
    "CalendarEvent",
    "ConfigError",
    "ConflictError",
    "Dependency",
    "DependencyKind",
    "Event",
    "Feedback",
    "FeedbackVerdict",
    "Incident",
    "IncidentStatus",
    "InvalidInputError",
    "MaintenanceWindow",
    "NotFoundError",
    "OpsgraphError",
    "Resource",
    "ResourceGraph",
    "ResourceKind",
    "Sample",
    "SampleColumns",
    "SampleFrame",
    "Severity",
    "StoreError",
    "UnavailableError",
    "severity_for",
]
