"""How a Prometheus series becomes an opsgraph series: labels -> resource id and metric name.

Shared by the remote-write receiver and the query_range poller; see docs/prometheus.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from opsgraph.core.metrics import METRIC_NAME_RE, RESOURCE_ID_RE
from opsgraph.core.models import Resource, ResourceKind
from opsgraph.sources.settings import PrometheusSourceSettings

#: Why a series was left out (the counters of the receiver use these names).
NO_RESOURCE = "no_resource"
NO_NAME = "no_name"

_ID_BAD = re.compile(r"[^A-Za-z0-9_.:@-]")
_ID_LEAD = re.compile(r"^[^A-Za-z0-9]+")
_NAME_BAD = re.compile(r"[^A-Za-z0-9_:.]")
_VALUE_BAD = re.compile(r"[^A-Za-z0-9_.]")
_METRIC_MAX = 128
_ID_MAX = 200


def sanitize_resource_id(value: str) -> str | None:
    """A label value as a resource id (RESOURCE_ID_RE): other characters become '_', leading
    non-alphanumerics go; None when nothing usable is left."""
    cleaned = _ID_LEAD.sub("", _ID_BAD.sub("_", value))[:_ID_MAX]
    return cleaned if cleaned and RESOURCE_ID_RE.match(cleaned) else None


def sanitize_metric_name(name: str) -> str | None:
    """A name as a metric name (METRIC_NAME_RE); one longer than 128 characters is cut and
    given a short hash of the whole, so two long names stay apart. None when empty."""
    if not name:
        return None
    cleaned = _NAME_BAD.sub("_", name)
    if not (cleaned[0].isascii() and (cleaned[0].isalpha() or cleaned[0] == "_")):
        cleaned = "_" + cleaned
    if len(cleaned) > _METRIC_MAX:
        digest = hashlib.blake2b(cleaned.encode(), digest_size=4).hexdigest()
        cleaned = f"{cleaned[: _METRIC_MAX - 9]}.{digest}"
    return cleaned if METRIC_NAME_RE.match(cleaned) else None


@dataclass(frozen=True, slots=True)
class SeriesTarget:
    """Where a series' samples go, and what a resource first seen through it looks like."""

    resource_id: str
    metric: str
    region: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    def resource(self) -> Resource:
        return Resource(
            id=self.resource_id,
            kind=ResourceKind.GENERIC,
            provider="prometheus",
            region=self.region,
            tags=dict(self.tags),
        )


class SeriesMapper:
    """Maps a label set to (resource, metric).

    The resource id is the first of `resource_labels` present (else `fallback_resource`); the
    metric is `__name__` (or the caller's name) followed by `.label:value` for every label that
    is not a resource, tag, region or ignored label, so one Prometheus series stays one opsgraph
    series (node_cpu_seconds_total.cpu:0.mode:idle).
    """

    def __init__(
        self,
        *,
        resource_labels: Iterable[str] = ("instance", "job"),
        fallback_resource: str | None = None,
        tag_labels: Iterable[str] = ("job",),
        region_label: str | None = "region",
        ignore_labels: Iterable[str] = (),
    ) -> None:
        self.resource_labels = tuple(resource_labels)
        if fallback_resource is not None and not RESOURCE_ID_RE.match(fallback_resource):
            raise ValueError(f"fallback_resource {fallback_resource!r} is not a resource id")
        self.fallback_resource = fallback_resource
        self.tag_labels = tuple(tag_labels)
        self.region_label = region_label
        self._not_in_name = frozenset(
            {"__name__", *self.resource_labels, *self.tag_labels, *ignore_labels}
            | ({region_label} if region_label else set())
        )

    @classmethod
    def from_settings(cls, settings: PrometheusSourceSettings) -> SeriesMapper:
        return cls(
            resource_labels=settings.resource_labels,
            fallback_resource=settings.fallback_resource,
            tag_labels=settings.tag_labels,
            region_label=settings.region_label,
            ignore_labels=settings.ignore_labels,
        )

    def map(self, labels: Mapping[str, str], metric: str | None = None) -> SeriesTarget | str:
        """The series' target, or the reason it has none (NO_RESOURCE, NO_NAME)."""
        resource_id = None
        for name in self.resource_labels:
            value = labels.get(name)
            if value:
                resource_id = sanitize_resource_id(value)
                if resource_id is not None:
                    break
        if resource_id is None:
            resource_id = self.fallback_resource
        if resource_id is None:
            return NO_RESOURCE
        base = metric if metric is not None else labels.get("__name__", "")
        parts = [base] + [
            f"{name}:{_VALUE_BAD.sub('_', value)}"
            for name, value in sorted(labels.items())
            if value and name not in self._not_in_name
        ]
        full = sanitize_metric_name(".".join(parts)) if base else None
        if full is None:
            return NO_NAME
        region = labels.get(self.region_label, "") if self.region_label else ""
        tags = {name: labels[name] for name in self.tag_labels if labels.get(name)}
        return SeriesTarget(resource_id=resource_id, metric=full, region=region, tags=tags)
