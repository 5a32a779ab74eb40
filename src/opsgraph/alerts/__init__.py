"""The alert lifecycle: fingerprints and deduplication, silences, grouping of anomalies into
incidents on the dependency graph, and acknowledge / resolve / reopen with reasons."""

from opsgraph.alerts.grouping import GroupDecision, group
from opsgraph.alerts.labels import fingerprint, labels_of
from opsgraph.alerts.lifecycle import AlertLifecycle

__all__ = ["AlertLifecycle", "GroupDecision", "fingerprint", "group", "labels_of"]
