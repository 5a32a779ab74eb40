"""Names of the signals opsgraph knows by heart.

Other metric names are accepted everywhere; these are the ones the simulator emits and the
detectors and explanations treat as the main health signals of a resource.
"""

from __future__ import annotations

import re

#: The five health signals every resource reports.
SIGNALS: tuple[str, ...] = ("cpu", "memory", "latency_ms", "error_rate", "request_count")

#: Everything the simulated cloud emits per node and step.
SIM_METRICS: tuple[str, ...] = (*SIGNALS, "net_in", "net_out", "disk")

#: Metric names: Prometheus-style, so they survive export to /metrics unchanged.
METRIC_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_:.]{0,127}$")

#: Resource identifiers: printable, no spaces or slashes (they appear in URL paths).
RESOURCE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}$")
