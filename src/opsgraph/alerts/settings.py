"""The `alerts` section of the configuration: fingerprints, grouping into incidents,
auto-resolution."""

from __future__ import annotations

from pydantic import Field

from opsgraph.core.models import Severity
from opsgraph.core.settings import Section


class AlertSettings(Section):
    """Deduplication, grouping into incidents and auto-resolution (see docs/alerts.md)."""

    fingerprint_fields: list[str] = Field(
        default_factory=lambda: ["resource", "metric", "detector"],
        min_length=1,
        description="Labels whose values identify one alert; a second open anomaly with the "
        "same values is a duplicate of the first.",
    )
    group_window_s: float = Field(
        default=900.0, gt=0, description="Data seconds within which related anomalies group."
    )
    group_max_hops: int = Field(
        default=2, ge=0, le=10, description="Graph hops within which anomalies are related."
    )
    min_anomalies: int = Field(
        default=2, ge=1, le=100, description="Related anomalies needed to open an incident."
    )
    open_at: Severity = Field(
        default=Severity.HIGH,
        description="Related anomalies open an incident once one of them reaches this severity; "
        "below it they wait (listed as anomalies, with the reason), and an anomaly that escalates "
        "later opens it then. `medium` opens on every related pair.",
    )
    open_alone_at: Severity | None = Field(
        default=Severity.CRITICAL,
        description="An anomaly at this severity or above opens an incident on its own.",
    )
    auto_resolve: bool = Field(
        default=True,
        description="Resolve an incident when all its anomalies have cleared (not one an "
        "operator reopened: that one an operator resolves).",
    )
