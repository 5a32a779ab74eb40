"""Prometheus as a source: the remote-write receiver's decoding and a query_range poller.

Both map series through `SeriesMapper` and hand the runtime a `Batch` (see sources/pull.py).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError, OpsgraphError
from opsgraph.core.models import Resource, Sample, SampleColumns
from opsgraph.sources.prom_mapping import SeriesMapper, SeriesTarget
from opsgraph.sources.prom_proto import (
    LabelKey,
    WireFormatError,
    decode_write_request,
    parse_labels,
    stale_mask,
)
from opsgraph.sources.pull import Batch
from opsgraph.sources.settings import PrometheusSourceSettings, PromQuery

log = logging.getLogger("opsgraph.sources.prometheus")

#: Label sets remembered with their mapping; past this the memo starts afresh (label churn).
LABEL_CACHE_SIZE = 200_000
#: Upper bounds (seconds) of the remote-write request duration histogram.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: What became of a received or polled sample: accepted, or why it was dropped.
SAMPLE_OUTCOMES = ("accepted", "stale", "nan", "inf", "no_resource", "no_name")


class RemoteWriteError(InvalidInputError):
    """A remote-write body that cannot be used (HTTP 400: Prometheus drops it, no retry)."""

    http_status = 400


class PrometheusError(OpsgraphError):
    """Prometheus answered a query with an error or could not be reached (HTTP 502)."""

    http_status = 502


def _finite_split(values: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.bool_], Counter[str]]:
    """Which values are usable, and how many were stale markers, other NaN and infinities."""
    finite = np.isfinite(values)
    counts: Counter[str] = Counter()
    if not finite.all():
        stale = int(stale_mask(values).sum())
        nan = int(np.isnan(values).sum())
        counts["stale"] = stale
        counts["nan"] = nan - stale
        counts["inf"] = int(values.shape[0] - finite.sum()) - nan
    return finite, counts


@dataclass(slots=True)
class WriteOutcome:
    """What one remote-write request gave: the batch and the sample counts by outcome."""

    batch: Batch
    series: int
    counts: Counter[str] = field(default_factory=Counter)


class RemoteWriteReceiver:
    """Turns a remote-write body into a Batch; keeps the receiver's counters for /metrics."""

    def __init__(
        self, mapper: SeriesMapper, *, max_samples: int, max_decoded_bytes: int | None = None
    ) -> None:
        self.mapper = mapper
        self.max_samples = max_samples
        self.max_decoded_bytes = max_decoded_bytes
        self.stats = RemoteWriteStats()
        self._targets: dict[LabelKey, SeriesTarget | str] = {}

    def _target(self, key: LabelKey) -> SeriesTarget | str:
        target = self._targets.get(key)
        if target is None:
            target = self.mapper.map(parse_labels(key))
            if len(self._targets) >= LABEL_CACHE_SIZE:
                self._targets.clear()
            self._targets[key] = target
        return target

    def decode(self, body: bytes, known: Container[str] = ()) -> WriteOutcome:
        """The samples and new resources of a body (RemoteWriteError when it is unusable);
        resources whose id is in `known` are not repeated."""
        if not body:
            raise RemoteWriteError("body", "empty; expected a snappy-compressed WriteRequest")
        try:
            decoded = decode_write_request(body, max_bytes=self.max_decoded_bytes)
            targets = [self._target(key) for key in decoded.keys]
        except WireFormatError as exc:
            raise RemoteWriteError("body", str(exc)) from exc
        if decoded.size > self.max_samples:
            raise RemoteWriteError(
                "timeseries",
                f"{decoded.size} samples; at most {self.max_samples} per request (api.max_batch)",
            )
        sizes = np.diff(decoded.offsets)
        mapped = np.fromiter((isinstance(t, SeriesTarget) for t in targets), bool, len(targets))
        owner = np.repeat(np.arange(len(targets)), sizes)
        counts: Counter[str] = Counter()
        for i in np.flatnonzero(~mapped).tolist():
            counts[str(targets[i])] += int(sizes[i])
        # Samples of unmapped series count once, by their reason, not again as NaN or inf.
        in_mapped = mapped[owner]
        usable, value_counts = _finite_split(np.where(in_mapped, decoded.values, 0.0))
        counts.update(value_counts)
        keep = np.flatnonzero(usable & in_mapped)
        found = [t for t in targets if isinstance(t, SeriesTarget)]
        rank = np.cumsum(mapped) - 1  # a mapped series' position in `found`
        owners = rank[owner[keep]]
        columns = SampleColumns(
            keys=[(t.resource_id, t.metric) for t in found],
            series=owners.astype(np.int64, copy=False),
            ts=decoded.timestamps_ms[keep] / 1000.0,
            values=decoded.values[keep],
        )
        resources: dict[str, Resource] = {}
        for series in np.unique(owners).tolist():
            rid = found[series].resource_id
            if rid not in known and rid not in resources:
                resources[rid] = found[series].resource()
        counts["accepted"] = len(columns)
        batch = Batch(resources=list(resources.values()), columns=columns)
        return WriteOutcome(batch, len(targets), counts)


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    requests: dict[str, int]
    samples: dict[str, int]
    buckets: list[tuple[float, int]]  # cumulative, +Inf last
    duration_sum: float


class RemoteWriteStats:
    """Counters of the receiver (requests and samples by outcome, request durations)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._samples: Counter[str] = Counter({k: 0 for k in SAMPLE_OUTCOMES})
        self._bucket_counts = [0] * (len(DURATION_BUCKETS) + 1)
        self._duration_sum = 0.0

    def observe(self, outcome: str, seconds: float, samples: Mapping[str, int]) -> None:
        slot = next(
            (i for i, b in enumerate(DURATION_BUCKETS) if seconds <= b), len(DURATION_BUCKETS)
        )
        with self._lock:
            self._requests[outcome] += 1
            self._samples.update(samples)
            self._bucket_counts[slot] += 1
            self._duration_sum += seconds

    def snapshot(self) -> StatsSnapshot:
        with self._lock:
            cumulative = np.cumsum(self._bucket_counts).tolist()
            bounds = [*DURATION_BUCKETS, math.inf]
            return StatsSnapshot(
                requests=dict(self._requests),
                samples=dict(self._samples),
                buckets=list(zip(bounds, cumulative, strict=True)),
                duration_sum=self._duration_sum,
            )


def _error_text(response: httpx.Response) -> str:
    """Prometheus' own error (errorType: error) when the body has one, else the status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        return f"HTTP {response.status_code} {body.get('errorType', 'error')}: {body['error']}"
    snippet = response.text.strip().replace("\n", " ")[:200]
    return f"HTTP {response.status_code}" + (f": {snippet}" if snippet else "")


class PrometheusPoller:
    """Evaluates PromQL with /api/v1/query_range every interval_s, asking each query only for
    the steps after the last one it already read (its cursor)."""

    name = "prometheus"

    def __init__(
        self,
        settings: PrometheusSourceSettings,
        *,
        mapper: SeriesMapper | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not settings.url:
            raise ValueError("sources.prometheus.url is required for the poller")
        if not settings.queries:
            raise ValueError("sources.prometheus.queries must name at least one query")
        self.settings = settings
        self.url = settings.url.rstrip("/")
        self.queries: list[PromQuery] = list(settings.queries)
        self.interval_s = settings.interval_s
        self.mapper = mapper or SeriesMapper.from_settings(settings)
        self._transport = transport
        self._clock = clock
        #: Per query: the last evaluation time already read.
        self.cursors: dict[int, float] = {}
        #: Per query expression: the last error, removed once it answers again.
        self.errors: dict[str, str] = {}
        #: Points read, by outcome (SAMPLE_OUTCOMES); every key present from the start, so a
        #: scrape can copy it while a poll counts.
        self.samples: Counter[str] = Counter(dict.fromkeys(SAMPLE_OUTCOMES, 0))

    def _client(self) -> httpx.Client:
        headers = {"Accept": "application/json"}
        token = self.settings.bearer_token
        if token is not None:
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        return httpx.Client(
            base_url=self.url,
            timeout=self.settings.timeout_s,
            headers=headers,
            transport=self._transport,
        )

    def window(self, index: int, now: float) -> tuple[float, float] | None:
        """(start, end) of the next query_range of query `index`, on its step grid; None when
        no new step has passed since the last poll."""
        step = self.settings.step_s
        oldest = math.ceil((now - self.settings.lookback_s) / step) * step
        cursor = self.cursors.get(index)
        start = oldest if cursor is None else max(cursor + step, oldest)
        if start > now:
            return None
        return start, start + math.floor((now - start) / step) * step

    def poll(self) -> Batch:
        """New points of every query; a failing query is reported and retried next poll."""
        now = self._clock()
        samples: list[Sample] = []
        resources: dict[str, Resource] = {}
        failures: list[str] = []
        asked = 0
        with self._client() as client:
            for index, query in enumerate(self.queries):
                span = self.window(index, now)
                if span is None:
                    continue
                asked += 1
                try:
                    result = self._query_range(client, query.expr, *span)
                except PrometheusError as exc:
                    self.errors[query.expr] = str(exc)
                    failures.append(str(exc))
                    log.error("%s", exc)
                    continue
                found: list[Sample] = []
                seen: dict[str, Resource] = {}
                counts: Counter[str] = Counter()
                try:
                    self._collect(result, query, found, seen, counts)
                except (TypeError, ValueError, KeyError) as exc:
                    message = f"Prometheus at {self.url}: query {query.expr!r}: malformed result"
                    self.errors[query.expr] = f"{message}: {exc!r}"
                    failures.append(self.errors[query.expr])
                    log.error("%s", self.errors[query.expr])
                    continue
                samples += found
                for rid, resource in seen.items():
                    resources.setdefault(rid, resource)
                counts["accepted"] += len(found)
                self.samples.update(counts)
                self.errors.pop(query.expr, None)
                self.cursors[index] = span[1]
        if failures and len(failures) == asked:
            # Nothing came back: fail the poll, so the runner logs it as a failed poll.
            raise PrometheusError("; ".join(failures))
        return Batch(samples, list(resources.values()))

    def _query_range(
        self, client: httpx.Client, expr: str, start: float, end: float
    ) -> list[dict[str, Any]]:
        where = f"Prometheus at {self.url}: query {expr!r}"
        params = {
            "query": expr,
            "start": f"{start:.3f}",
            "end": f"{end:.3f}",
            "step": f"{self.settings.step_s:g}",
        }
        try:
            response = client.get("/api/v1/query_range", params=params)
        except httpx.HTTPError as exc:
            raise PrometheusError(f"{where}: cannot be reached: {exc}") from exc
        if response.status_code != 200:
            raise PrometheusError(f"{where} failed: {_error_text(response)}")
        try:
            body = response.json()
        except ValueError as exc:
            raise PrometheusError(f"{where}: the answer is not JSON") from exc
        if not isinstance(body, dict) or body.get("status") != "success":
            raise PrometheusError(f"{where} failed: {_error_text(response)}")
        for warning in body.get("warnings") or ():
            log.warning("%s: warning: %s", where, warning)
        data = body.get("data") or {}
        if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
            raise PrometheusError(f"{where}: expected a matrix result, got {data!r:.200}")
        result: list[dict[str, Any]] = data["result"]
        return result

    def _collect(
        self,
        result: Sequence[dict[str, Any]],
        query: PromQuery,
        samples: list[Sample],
        resources: dict[str, Resource],
        counts: Counter[str],
    ) -> None:
        """Map a matrix result to samples, resources and dropped counts (ValueError,
        TypeError or KeyError if it is malformed)."""
        for series in result:
            target = self.mapper.map(series.get("metric") or {}, metric=query.metric)
            points = series["values"]
            if isinstance(target, str):
                counts[target] += len(points)
                continue
            stamps = [float(ts) for ts, _ in points]
            if not all(map(math.isfinite, stamps)):
                raise ValueError("a timestamp is not a finite number")
            values = np.asarray([float(v) for _, v in points], dtype=np.float64)
            usable, dropped = _finite_split(values)
            counts.update(dropped)
            for ts, value, ok in zip(stamps, values.tolist(), usable.tolist(), strict=True):
                if ok:
                    samples.append(
                        Sample(
                            resource_id=target.resource_id, metric=target.metric, ts=ts, value=value
                        )
                    )
            if usable.any():
                resources.setdefault(target.resource_id, target.resource())
