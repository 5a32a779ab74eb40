"""GET /metrics: opsgraph's health and every series' anomaly score in Prometheus' text format.

A custom collector reads the runtime at scrape time, so ingest never pays for the export.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from opsgraph import __version__
from opsgraph.api.deps import RuntimeDep
from opsgraph.api.routes.prometheus import get_receiver
from opsgraph.core.models import Severity
from opsgraph.runtime.root import Runtime
from opsgraph.sources.prometheus import SAMPLE_OUTCOMES, PrometheusPoller, RemoteWriteReceiver

router = APIRouter(tags=["health"])

#: The names this endpoint exposes (the Grafana dashboard's test holds it to them).
METRIC_NAMES = (
    "opsgraph_up",
    "opsgraph_build_info",
    "opsgraph_start_time_seconds",
    "opsgraph_resources",
    "opsgraph_series",
    "opsgraph_pipeline_steps_total",
    "opsgraph_latest_sample_timestamp_seconds",
    "opsgraph_anomalies_open",
    "opsgraph_hub_subscribers",
    "opsgraph_hub_messages_published_total",
    "opsgraph_hub_messages_dropped_total",
    "opsgraph_anomaly_score",
    "opsgraph_remote_write_requests_total",
    "opsgraph_remote_write_samples_total",
    "opsgraph_remote_write_request_duration_seconds",
)
#: Exposed too while a query_range poller is configured.
POLLER_METRIC_NAMES = (
    "opsgraph_prometheus_poll_samples_total",
    "opsgraph_prometheus_poll_failing_queries",
)


class RuntimeCollector(Collector):
    """opsgraph's health and the receiver's counters, computed from the runtime when
    Prometheus asks (the per-series scores are rendered by `anomaly_score_text`)."""

    def __init__(self, runtime: Runtime, receiver: RemoteWriteReceiver | None = None) -> None:
        self.runtime = runtime
        self.receiver = receiver

    def collect(self) -> Iterator[Metric]:
        yield from self._health()
        if self.receiver is not None:
            yield from self._remote_write(self.receiver)
        pollers = [s for s in self.runtime.pull_sources if isinstance(s, PrometheusPoller)]
        if pollers:
            yield from self._pollers(pollers)

    def _pollers(self, pollers: list[PrometheusPoller]) -> Iterator[Metric]:
        samples = CounterMetricFamily(
            "opsgraph_prometheus_poll_samples",
            "Points read by the query_range poller: accepted, or why dropped.",
            labels=["outcome"],
        )
        counts: Counter[str] = Counter()
        for poller in pollers:
            counts.update(dict(poller.samples))
        for outcome in SAMPLE_OUTCOMES:
            samples.add_metric([outcome], counts[outcome])
        yield samples
        yield GaugeMetricFamily(
            "opsgraph_prometheus_poll_failing_queries",
            "PromQL queries whose last poll failed (the log says why).",
            value=sum(len(p.errors) for p in pollers),
        )

    def _health(self) -> Iterator[Metric]:
        rt = self.runtime
        ingestor = rt.ingestor
        yield GaugeMetricFamily("opsgraph_up", "1 while opsgraph answers.", value=1)
        yield InfoMetricFamily(
            "opsgraph_build",
            "Version of opsgraph and the store's database dialect.",
            value={"version": __version__, "store": rt.store.dialect},
        )
        yield GaugeMetricFamily(
            "opsgraph_start_time_seconds", "When the runtime started (epoch).", value=rt.started_at
        )
        yield GaugeMetricFamily(
            "opsgraph_resources", "Resources watched (registered).", value=len(rt.estate.resources)
        )
        yield GaugeMetricFamily(
            "opsgraph_series", "(resource, metric) series scored.", value=len(ingestor.keys)
        )
        yield CounterMetricFamily(
            "opsgraph_pipeline_steps",
            "Steps of the simulated estate run.",
            value=rt.simulation.steps,
        )
        yield CounterMetricFamily(
            "opsgraph_samples_ingested",
            "Samples scored and stored since start, from every source.",
            value=ingestor.samples_total,
        )
        yield CounterMetricFamily(
            "opsgraph_ingest_batches",
            "Batches through ingest since start.",
            value=ingestor.batches_total,
        )
        latest = GaugeMetricFamily(
            "opsgraph_latest_sample_timestamp_seconds",
            "Timestamp of the newest sample ingested (absent before the first).",
        )
        if ingestor.latest_ts is not None:
            latest.add_metric([], ingestor.latest_ts)
        yield latest
        # A copy in C: the pipeline thread may open or close episodes meanwhile.
        open_now = list(ingestor.tracker.open.values())
        by_severity = Counter(a.severity for a in open_now)
        anomalies = GaugeMetricFamily(
            "opsgraph_anomalies_open", "Open anomaly episodes by severity.", labels=["severity"]
        )
        for severity in Severity:
            anomalies.add_metric([severity.value], by_severity.get(severity, 0))
        yield anomalies
        hub = rt.hub
        yield GaugeMetricFamily(
            "opsgraph_hub_subscribers", "Live event subscribers.", value=hub.subscriber_count
        )
        yield CounterMetricFamily(
            "opsgraph_hub_messages_published", "Live events published.", value=hub.published
        )
        yield CounterMetricFamily(
            "opsgraph_hub_messages_dropped",
            "Live events dropped for slow subscribers.",
            value=hub.dropped,
        )

    def _remote_write(self, receiver: RemoteWriteReceiver) -> Iterator[Metric]:
        stats = receiver.stats.snapshot()
        requests = CounterMetricFamily(
            "opsgraph_remote_write_requests",
            "Remote-write requests by outcome (ok, invalid, refused, failed).",
            labels=["outcome"],
        )
        for outcome in ("ok", "invalid", "refused", "failed"):
            requests.add_metric([outcome], stats.requests.get(outcome, 0))
        yield requests
        samples = CounterMetricFamily(
            "opsgraph_remote_write_samples",
            "Remote-written samples: accepted, or dropped (stale marker, NaN, infinite, "
            "no resource label, no metric name).",
            labels=["outcome"],
        )
        for outcome in SAMPLE_OUTCOMES:
            samples.add_metric([outcome], stats.samples.get(outcome, 0))
        yield samples
        yield HistogramMetricFamily(
            "opsgraph_remote_write_request_duration_seconds",
            "Time to decode and ingest one remote-write request.",
            buckets=[(_bound(b), float(n)) for b, n in stats.buckets],
            sum_value=stats.duration_sum,
        )


SCORE_HELP = (
    "# HELP opsgraph_anomaly_score Latest calibrated anomaly score of a series, "
    "0 (normal) to 1 (certainly anomalous).\n# TYPE opsgraph_anomaly_score gauge\n"
)


def _label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isfinite(value):
        return repr(value)
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


def anomaly_score_text(runtime: Runtime) -> str:
    """`opsgraph_anomaly_score{kind, metric, region, resource}` of every series, as one family
    of the text format (the same lines in OpenMetrics).

    Rendered here rather than through a prometheus_client family: the client validates and
    escapes every label of every sample (about 15 us a sample, a second for 50,000 series);
    resource ids and metric names are already restricted to characters that need no escaping.
    """
    ingestor = runtime.ingestor
    # Series are registered key first, arrays grown after: the keys up to the scores' length
    # match them even while another thread registers series.
    scores = ingestor.latest_score.tolist()
    keys = ingestor.keys[: len(scores)]
    resources = ingestor.resources
    described: dict[str, tuple[str, str]] = {}  # resource -> the labels before, after metric
    lines = [SCORE_HELP]
    for (resource_id, metric), score in zip(keys, scores, strict=True):
        around = described.get(resource_id)
        if around is None:
            resource = resources.get(resource_id)
            kind, region = (resource.kind.value, resource.region) if resource else ("", "")
            around = (
                f'opsgraph_anomaly_score{{kind="{_label_value(kind)}",metric="',
                f'",region="{_label_value(region)}",resource="{resource_id}"}} ',
            )
            described[resource_id] = around
        lines.append(f"{around[0]}{metric}{around[1]}{_number(score)}\n")
    return "".join(lines)


def _bound(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(value)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request, runtime: RuntimeDep) -> Response:
    """Health of opsgraph and `opsgraph_anomaly_score{resource, metric, kind, region}` for
    every series, in the text format (OpenMetrics when the scraper asks for it)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime, get_receiver(request)))
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    health = encoder(registry).decode()
    scores = anomaly_score_text(runtime)
    # OpenMetrics ends with '# EOF': the scores go before it; the text format has no end mark.
    head, eof, _ = health.rpartition("# EOF\n")
    body = head + scores + eof if eof else health + scores
    return Response(content=body, media_type=content_type)
