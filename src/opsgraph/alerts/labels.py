"""Labels of an anomaly (what silences, routes and fingerprints match on) and its fingerprint.

Labels come from the anomaly and its resource: resource, metric, detector, severity, kind,
region, provider and the resource's tags (tag keys prefixed with nothing, like Prometheus).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from opsgraph.core.models import Anomaly, Resource

#: Labels every anomaly has; tags cannot overwrite them.
BASE_LABELS = ("resource", "metric", "detector", "severity", "kind", "region", "provider")


def labels_of(anomaly: Anomaly, resource: Resource | None) -> dict[str, str]:
    labels = dict(resource.tags) if resource is not None else {}
    labels.update(
        resource=anomaly.resource_id,
        metric=anomaly.metric,
        detector=anomaly.detector,
        severity=anomaly.severity.value,
        kind=resource.kind.value if resource is not None else "",
        region=resource.region if resource is not None else "",
        provider=resource.provider if resource is not None else "",
    )
    return labels


def fingerprint(labels: dict[str, str], fields: Sequence[str]) -> str:
    """A stable hash of the chosen label values: equal fingerprints are one alert."""
    text = "\x1f".join(f"{f}={labels.get(f, '')}" for f in fields)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
