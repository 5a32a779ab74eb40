"""CloudWatch metrics polled with GetMetricData, landing on the resources AWS discovery names.

Also the naming both CloudWatch sources share: dimensions -> resource, metric -> signal name.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Resource, ResourceKind, Sample
from opsgraph.sources.aws import ClientFactory, _pages, _rid
from opsgraph.sources.pull import Batch
from opsgraph.sources.settings import CloudWatchSettings

log = logging.getLogger("opsgraph.sources.cloudwatch")

#: GetMetricData takes at most 500 queries per call.
MAX_QUERIES = 500

# Dimensions that name a resource, most specific first, with the id prefix AWS discovery uses
# for that service (sources/aws.py), so a polled metric lands on the discovered resource.
_RESOURCE_KEYS: tuple[tuple[str, str, ResourceKind], ...] = (
    ("InstanceId", "", ResourceKind.EC2),
    ("DBInstanceIdentifier", "rds", ResourceKind.RDS),
    ("FunctionName", "lambda", ResourceKind.LAMBDA),
    ("LoadBalancer", "elb", ResourceKind.ELB),
    ("LoadBalancerName", "elb", ResourceKind.ELB),
    ("AutoScalingGroupName", "asg", ResourceKind.ASG),
    ("CacheClusterId", "cache", ResourceKind.CACHE),
    ("BucketName", "s3", ResourceKind.S3),
    ("QueueName", "sqs", ResourceKind.GENERIC),
    ("StreamName", "kinesis", ResourceKind.GENERIC),
    ("TableName", "dynamodb", ResourceKind.GENERIC),
)
RESOURCE_DIMENSIONS = frozenset(key for key, _, _ in _RESOURCE_KEYS)


@dataclass(frozen=True, slots=True)
class _Signal:
    name: str
    stat: str = "Average"  # the statistic the signal is read with
    scale: float = 1.0  # to opsgraph's unit (seconds -> ms)
    per_second: bool = False  # a Sum per period becomes a rate per second
    any_stat: bool = True  # a gauge means the same under any statistic; a count only as Sum


# CloudWatch metrics that are one of opsgraph's signals (core/metrics.py), in its units:
# percentages, milliseconds, requests per period, bytes per second.
_SIGNALS: dict[tuple[str, str], _Signal] = {
    ("*", "CPUUtilization"): _Signal("cpu"),
    ("AWS/EC2", "NetworkIn"): _Signal("net_in", "Sum", per_second=True, any_stat=False),
    ("AWS/EC2", "NetworkOut"): _Signal("net_out", "Sum", per_second=True, any_stat=False),
    ("AWS/RDS", "NetworkReceiveThroughput"): _Signal("net_in"),
    ("AWS/RDS", "NetworkTransmitThroughput"): _Signal("net_out"),
    ("AWS/ApplicationELB", "RequestCount"): _Signal("request_count", "Sum", any_stat=False),
    ("AWS/ApplicationELB", "TargetResponseTime"): _Signal("latency_ms", scale=1000.0),
    ("AWS/ELB", "RequestCount"): _Signal("request_count", "Sum", any_stat=False),
    ("AWS/ELB", "Latency"): _Signal("latency_ms", scale=1000.0),
    ("AWS/Lambda", "Invocations"): _Signal("request_count", "Sum", any_stat=False),
    ("AWS/Lambda", "Duration"): _Signal("latency_ms"),
    ("AWS/ApiGateway", "Count"): _Signal("request_count", "Sum", any_stat=False),
    ("AWS/ApiGateway", "Latency"): _Signal("latency_ms"),
    ("AWS/ElastiCache", "DatabaseMemoryUsagePercentage"): _Signal("memory"),
    ("AWS/ECS", "MemoryUtilization"): _Signal("memory"),
    ("CWAgent", "mem_used_percent"): _Signal("memory"),
    ("CWAgent", "disk_used_percent"): _Signal("disk"),
}


def _signal(namespace: str, metric: str) -> _Signal | None:
    return _SIGNALS.get((namespace, metric)) or _SIGNALS.get(("*", metric))


def default_stat(namespace: str, metric: str, fallback: str = "Average") -> str:
    """The statistic a metric is read with when none is configured (Sum for counts)."""
    signal = _signal(namespace, metric)
    return signal.stat if signal is not None else fallback


def metric_name(namespace: str, metric: str, stat: str | None = None) -> str:
    """opsgraph's name for a CloudWatch metric: its signal (CPUUtilization -> cpu) where one
    corresponds, else `cw_<Namespace>_<MetricName>` in the metric-name alphabet."""
    signal = _signal(namespace, metric)
    if signal is not None and (signal.any_stat or stat in (None, signal.stat)):
        return signal.name
    return "cw_" + re.sub(r"[^A-Za-z0-9_]", "_", f"{namespace}_{metric}")[:125]


def value_factor(namespace: str, metric: str, stat: str, period_s: int) -> float:
    """What a CloudWatch value is multiplied by to be in the unit of its opsgraph signal."""
    signal = _signal(namespace, metric)
    if signal is None or metric_name(namespace, metric, stat) != signal.name:
        return 1.0
    return signal.scale / period_s if signal.per_second else signal.scale


def resource_for(namespace: str, dimensions: Mapping[str, str], region: str) -> Resource:
    """The resource a metric (or alarm) with these dimensions is about, with AWS discovery's
    id for it: `i-0abc...`, `rds:orders`, `lambda:resize`, `elb:shop` (from `app/shop/50dc...`)."""
    for key, prefix, kind in _RESOURCE_KEYS:
        value = dimensions.get(key)
        if not value:
            continue
        name = value
        if key == "LoadBalancer":  # app/<name>/<id> or net/<name>/<id>
            parts = value.split("/")
            name = parts[1] if len(parts) == 3 else value
        if not prefix and not re.match(r"[A-Za-z0-9]", name):  # not an instance id after all
            prefix = "ec2"
        return Resource(
            id=_rid(prefix, name),
            kind=kind,
            name=name,
            provider="aws",
            region="" if kind is ResourceKind.S3 else region,  # buckets are global in discovery
        )
    service = re.sub(r"[^a-z0-9_.-]", "_", namespace.removeprefix("AWS/").lower())
    service = re.sub(r"^[^a-z0-9]+", "", service) or "cw"  # ids start with a letter or digit
    if dimensions:
        name = "_".join(dimensions[k] for k in sorted(dimensions))
    else:  # a namespace-wide aggregate
        name, service = namespace, "cw"
    return Resource(
        id=_rid(service, name), name=name, provider="aws", region=region, attrs=dict(dimensions)
    )


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One metric of one resource polled in one region."""

    region: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    period_s: int
    name: str  # opsgraph's metric name
    resource: Resource

    @property
    def key(self) -> tuple[object, ...]:
        """What identifies the series in CloudWatch (its cursor is kept under this)."""
        return (self.region, self.namespace, self.metric, self.dimensions, self.stat, self.period_s)

    def request(self, query_id: str) -> dict[str, Any]:
        dims = [{"Name": k, "Value": v} for k, v in self.dimensions]
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.metric,
                    "Dimensions": dims,
                },
                "Period": self.period_s,
                "Stat": self.stat,
            },
            "ReturnData": True,
        }


def make_query(
    region: str,
    namespace: str,
    metric: str,
    dimensions: Mapping[str, str],
    *,
    stat: str | None,
    period_s: int,
    name: str | None = None,
    fallback_stat: str = "Average",
) -> MetricQuery:
    chosen = stat or default_stat(namespace, metric, fallback_stat)
    return MetricQuery(
        region=region,
        namespace=namespace,
        metric=metric,
        dimensions=tuple(sorted(dimensions.items())),
        stat=chosen,
        period_s=period_s,
        name=name or metric_name(namespace, metric, chosen),
        resource=resource_for(namespace, dimensions, region),
    )


def epoch_of(stamp: datetime) -> float:
    """Epoch seconds of a boto3 timestamp (naive ones are UTC)."""
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


class CloudWatchSource:
    """Polls configured (and, with `namespaces`, discovered) metrics; each poll asks only for
    the periods after the last point it already has of every metric."""

    name = "cloudwatch"

    def __init__(
        self,
        settings: CloudWatchSettings,
        clients: ClientFactory,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.interval_s = settings.interval_s
        self.clients = clients
        self.clock = clock
        self.queries = self._configured()
        self._clients: dict[str, Any] = {}
        self._discovered: list[MetricQuery] = []
        self._discovered_at: float | None = None
        self._cursor: dict[tuple[object, ...], float] = {}  # last point fetched, per series

    def _configured(self) -> list[MetricQuery]:
        cfg = self.settings
        out: list[MetricQuery] = []
        seen: dict[tuple[str, str, str], int] = {}
        for i, q in enumerate(cfg.queries):
            for region in [q.region] if q.region else cfg.regions:
                query = make_query(
                    region,
                    q.namespace,
                    q.metric,
                    q.dimensions,
                    stat=q.stat,
                    period_s=q.period_s or cfg.period_s,
                    name=q.name,
                    fallback_stat=cfg.stat,
                )
                # Two queries feeding one series would interleave two different statistics.
                target = (region, query.resource.id, query.name)
                if target in seen:
                    raise InvalidInputError(
                        f"sources.cloudwatch.queries[{i}]",
                        f"resource {query.resource.id!r} metric {query.name!r} is already fed "
                        f"by queries[{seen[target]}]; give one of them a `name`",
                    )
                seen[target] = i
                out.append(query)
        return out

    def _client(self, region: str) -> Any:
        if region not in self._clients:
            self._clients[region] = self.clients("cloudwatch", region)
        return self._clients[region]

    # -- discovery ----------------------------------------------------------------------------
    def _all_queries(self, now: float) -> list[MetricQuery]:
        from botocore.exceptions import BotoCoreError, ClientError

        cfg = self.settings
        if cfg.namespaces and (
            self._discovered_at is None or now - self._discovered_at >= cfg.rediscover_s
        ):
            try:
                self._discovered = self.discover()
                self._discovered_at = now
            except (BotoCoreError, ClientError) as exc:  # keep what was found; retry next poll
                log.warning("cloudwatch: ListMetrics failed: %s", exc)
        taken = {(q.region, q.resource.id, q.name) for q in self.queries}
        extra = []
        for q in self._discovered:
            target = (q.region, q.resource.id, q.name)
            if target not in taken:  # configured queries win over discovered ones
                taken.add(target)
                extra.append(q)
        return [*self.queries, *extra]

    def discover(self) -> list[MetricQuery]:
        """ListMetrics over the configured namespaces: the metrics of single resources (one
        resource dimension and nothing else; aggregates such as per-AZ or per-type are left)."""
        cfg = self.settings
        found = []
        for region in cfg.regions:
            client = self._client(region)
            for namespace in cfg.namespaces:
                for m in _pages(client, "list_metrics", "Metrics", Namespace=namespace):
                    dims = {d["Name"]: d["Value"] for d in m.get("Dimensions", [])}
                    if len(dims) != 1 or not RESOURCE_DIMENSIONS.issuperset(dims):
                        continue
                    found.append(
                        make_query(
                            region,
                            m["Namespace"],
                            m["MetricName"],
                            dims,
                            stat=None,
                            period_s=cfg.period_s,
                            fallback_stat=cfg.stat,
                        )
                    )
        log.info("cloudwatch: %d metrics discovered in %s", len(found), cfg.namespaces)
        return found

    # -- polling ------------------------------------------------------------------------------
    def _window(self, q: MetricQuery, now: float) -> tuple[float, float]:
        """[start, end) of the complete periods this query has not read yet."""
        period = q.period_s
        end = math.floor((now - self.settings.delay_s) / period) * period
        last = self._cursor.get(q.key)
        if last is not None:
            start = last + period
        else:
            start = math.floor((now - self.settings.lookback_s) / period) * period
        return start, end

    def poll(self) -> Batch:
        """The new points of every metric. A call that fails (throttled, denied) is logged and
        its metrics are asked again from the same point next time; the others go on."""
        from botocore.exceptions import BotoCoreError, ClientError

        now = self.clock()
        groups: dict[tuple[str, float, float], list[MetricQuery]] = {}
        for q in self._all_queries(now):
            start, end = self._window(q, now)
            if start < end:
                groups.setdefault((q.region, start, end), []).append(q)
        samples: list[Sample] = []
        resources: dict[str, Resource] = {}
        for (region, start, end), queries in groups.items():
            for first in range(0, len(queries), MAX_QUERIES):
                chunk = queries[first : first + MAX_QUERIES]
                try:
                    points = self._fetch(self._client(region), chunk, start, end)
                except (BotoCoreError, ClientError) as exc:
                    log.warning("cloudwatch: GetMetricData in %s failed: %s", region, exc)
                    continue
                for q, series in zip(chunk, points, strict=True):
                    new = self._samples(q, series)
                    if new:
                        self._cursor[q.key] = new[-1].ts
                        resources[q.resource.id] = q.resource
                        samples += new
        return Batch(samples=samples, resources=list(resources.values()))

    def _fetch(
        self, client: Any, queries: Sequence[MetricQuery], start: float, end: float
    ) -> list[dict[float, float]]:
        """Each query's points (period start -> value) in [start, end), over every page."""
        points: list[dict[float, float]] = [{} for _ in queries]
        pages = client.get_paginator("get_metric_data").paginate(
            MetricDataQueries=[q.request(f"q{i}") for i, q in enumerate(queries)],
            StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
            ScanBy="TimestampAscending",
        )
        for page in pages:
            for result in page.get("MetricDataResults", []):
                i = int(result["Id"][1:])
                if result.get("StatusCode") == "InternalError":
                    log.warning("cloudwatch: %s: %s", queries[i].metric, result.get("Messages"))
                stamps = (epoch_of(t) for t in result.get("Timestamps", []))
                points[i].update(zip(stamps, result.get("Values", []), strict=True))
        return points

    def _samples(self, q: MetricQuery, points: dict[float, float]) -> list[Sample]:
        last = self._cursor.get(q.key, -math.inf)
        factor = value_factor(q.namespace, q.metric, q.stat, q.period_s)
        return [
            Sample(resource_id=q.resource.id, metric=q.name, ts=ts, value=value * factor)
            for ts, value in sorted(points.items())
            if ts > last and math.isfinite(value)
        ]
