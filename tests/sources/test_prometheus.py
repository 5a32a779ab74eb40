"""Prometheus source: the remote-write receiver's decoding and counters, and the query_range
poller (cursor, mapping, error reports) against a function-backed HTTP transport."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from opsgraph.core.models import Sample
from opsgraph.runtime.settings import Settings
from opsgraph.sources.prom_mapping import SeriesMapper
from opsgraph.sources.prom_proto import PromSeries, encode_write_request, stale_nan
from opsgraph.sources.prometheus import (
    DURATION_BUCKETS,
    PrometheusError,
    PrometheusPoller,
    RemoteWriteError,
    RemoteWriteReceiver,
    RemoteWriteStats,
    WriteOutcome,
)
from opsgraph.sources.pull import PullSource
from opsgraph.sources.registry import build_pull_sources
from opsgraph.sources.settings import PrometheusSourceSettings

NODE = {"instance": "localhost:9100", "job": "node"}


def _receiver(max_samples: int = 1000) -> RemoteWriteReceiver:
    return RemoteWriteReceiver(SeriesMapper(), max_samples=max_samples)


# -- remote write -------------------------------------------------------------------------
def test_samples_come_out_under_the_mapped_resource_and_metric_in_seconds() -> None:
    body = encode_write_request(
        [
            PromSeries({"__name__": "node_load1", **NODE}, [(1_700_000_000_250, 0.5)]),
            PromSeries(
                {"__name__": "up", **NODE}, [(1_700_000_000_000, 1.0), (1_700_000_015_000, 1.0)]
            ),
        ]
    )
    outcome = _receiver().decode(body)
    assert outcome.series == 2
    assert [s.model_dump() for s in _samples(outcome)] == [
        {
            "resource_id": "localhost:9100",
            "metric": "node_load1",
            "ts": 1_700_000_000.25,
            "value": 0.5,
        },
        {"resource_id": "localhost:9100", "metric": "up", "ts": 1_700_000_000.0, "value": 1.0},
        {"resource_id": "localhost:9100", "metric": "up", "ts": 1_700_000_015.0, "value": 1.0},
    ]
    # Built without per-sample validation, yet exactly what validation would build.
    for sample in _samples(outcome):
        assert Sample.model_validate(sample.model_dump()) == sample
    [resource] = outcome.batch.resources
    assert (resource.id, resource.provider, resource.tags) == (
        "localhost:9100",
        "prometheus",
        {"job": "node"},
    )
    assert outcome.counts["accepted"] == 3


def test_stale_markers_nan_infinities_and_unmapped_series_are_dropped_and_counted() -> None:
    body = encode_write_request(
        [
            PromSeries(
                {"__name__": "x", **NODE},
                [
                    (1000, stale_nan()),
                    (2000, math.nan),
                    (3000, math.inf),
                    (4000, -math.inf),
                    (5000, 2.0),
                ],
            ),
            PromSeries({"__name__": "no_owner"}, [(1000, 1.0), (2000, math.nan)]),
            PromSeries({"instance": "a"}, [(1000, 1.0)]),
        ]
    )
    outcome = _receiver().decode(body)
    assert [(s.ts, s.value) for s in _samples(outcome)] == [(5.0, 2.0)]
    assert {k: v for k, v in outcome.counts.items() if v} == {
        "accepted": 1,
        "stale": 1,
        "nan": 1,
        "inf": 2,
        "no_resource": 2,
        "no_name": 1,
    }
    assert [r.id for r in outcome.batch.resources] == ["localhost:9100"]


def test_known_resources_are_not_registered_again() -> None:
    body = encode_write_request([PromSeries({"__name__": "up", **NODE}, [(1000, 1.0)])])
    assert _receiver().decode(body, known={"localhost:9100"}).batch.resources == []


def test_only_series_with_usable_samples_register_their_resource() -> None:
    body = encode_write_request([PromSeries({"__name__": "up", **NODE}, [(1000, stale_nan())])])
    outcome = _receiver().decode(body)
    assert _samples(outcome) == [] and outcome.batch.resources == []


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (b"", "body", "empty"),
        (b"\x00garbage\xff\xff", "body", "not snappy"),
        (
            encode_write_request(
                [PromSeries({"__name__": "a", "job": "j"}, [(i, 1.0) for i in range(11)])]
            ),
            "timeseries",
            "11 samples; at most 10 per request",
        ),
    ],
)
def test_unusable_bodies_name_the_field_and_reason(body: bytes, field: str, reason: str) -> None:
    with pytest.raises(RemoteWriteError, match=reason) as caught:
        _receiver(max_samples=10).decode(body)
    assert caught.value.field == field
    assert caught.value.http_status == 400


def test_stats_count_requests_samples_and_durations() -> None:
    stats = RemoteWriteStats()
    stats.observe("ok", 0.003, {"accepted": 5, "stale": 1})
    stats.observe("ok", 0.2, {"accepted": 2})
    stats.observe("invalid", 99.0, {})
    snap = stats.snapshot()
    assert snap.requests == {"ok": 2, "invalid": 1}
    assert snap.samples["accepted"] == 7 and snap.samples["stale"] == 1 and snap.samples["nan"] == 0
    buckets = dict(snap.buckets)
    assert buckets[DURATION_BUCKETS[0]] == 1
    assert buckets[0.25] == 2
    assert buckets[math.inf] == 3
    assert snap.duration_sum == pytest.approx(99.203)


# -- query_range poller -------------------------------------------------------------------
def _matrix(*series: tuple[dict[str, str], list[tuple[float, str]]]) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [{"metric": m, "values": [[t, v] for t, v in vs]} for m, vs in series],
        },
    }


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _poller(
    handler: Any, clock: Clock, **settings: Any
) -> tuple[PrometheusPoller, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        result: httpx.Response = handler(request)
        return result

    cfg = PrometheusSourceSettings(
        **{"url": "http://prom:9090/", "queries": ["up"], "step_s": 15, "lookback_s": 300}
        | settings
    )
    return PrometheusPoller(cfg, transport=httpx.MockTransport(record), clock=clock), seen


def test_each_poll_asks_only_for_the_steps_after_the_last_one_read() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        start, end = float(request.url.params["start"]), float(request.url.params["end"])
        points = []
        t = start
        while t <= end:
            points.append((t, "1" if t != start else "NaN"))
            t += 15
        return httpx.Response(200, json=_matrix(({"__name__": "up", **NODE}, points)))

    clock = Clock(1000.0)
    poller, seen = _poller(answer, clock)
    assert isinstance(poller, PullSource)
    first = poller.poll()
    params = seen[0].url.params
    assert seen[0].url.path == "/api/v1/query_range"
    assert (params["query"], params["start"], params["end"], params["step"]) == (
        "up",
        "705.000",
        "990.000",
        "15",
    )
    # The first point was NaN (dropped); the others became samples of the right series.
    assert [s.ts for s in first.samples] == [720.0 + 15 * i for i in range(19)]
    assert {(s.resource_id, s.metric) for s in first.samples} == {("localhost:9100", "up")}
    assert [r.id for r in first.resources] == ["localhost:9100"]
    assert (poller.samples["nan"], poller.samples["accepted"]) == (1, 19)

    clock.now = 1030.0
    poller.poll()
    assert (seen[1].url.params["start"], seen[1].url.params["end"]) == ("1005.000", "1020.000")
    clock.now = 1031.0
    assert poller.poll().samples == []
    assert len(seen) == 2  # nothing new to ask for: no request
    clock.now = 99_999.0  # a long pause: never more than lookback_s back
    poller.poll()
    assert float(seen[2].url.params["start"]) >= 99_999.0 - 300


def test_the_query_metric_names_results_without_a_name() -> None:
    body = _matrix(({"instance": "web-1", "job": "shop"}, [(990.0, "0.25")]))
    poller, _ = _poller(
        lambda _: httpx.Response(200, json=body),
        Clock(1000.0),
        queries=[{"expr": "rate(http_requests_total[1m])", "metric": "http_rps"}],
    )
    [sample] = poller.poll().samples
    assert (sample.resource_id, sample.metric, sample.value) == ("web-1", "http_rps", 0.25)


def test_a_query_error_is_reported_with_the_query_and_prometheus_own_message() -> None:
    error = {
        "status": "error",
        "errorType": "bad_data",
        "error": '1:4: parse error: unexpected "("',
    }
    poller, _ = _poller(lambda _: httpx.Response(400, json=error), Clock(1000.0), queries=["up(("])
    with pytest.raises(PrometheusError) as caught:
        poller.poll()
    text = str(caught.value)
    assert "http://prom:9090" in text and "'up(('" in text
    assert "HTTP 400 bad_data: 1:4: parse error" in text
    assert poller.cursors == {}  # the same window is asked again next time


def test_one_failing_query_does_not_lose_the_others() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["query"] == "broken":
            return httpx.Response(503, text="<html>upstream unavailable</html>")
        return httpx.Response(200, json=_matrix(({"__name__": "up", **NODE}, [(990.0, "1")])))

    poller, _ = _poller(answer, Clock(1000.0), queries=["broken", "up"])
    batch = poller.poll()
    assert len(batch.samples) == 1
    assert list(poller.cursors) == [1]
    assert "HTTP 503: <html>upstream unavailable</html>" in poller.errors["broken"]


def test_an_unreachable_server_and_a_malformed_answer_are_reported() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    poller, _ = _poller(refuse, Clock(1000.0))
    with pytest.raises(PrometheusError, match="cannot be reached: connection refused"):
        poller.poll()
    vector = {"status": "success", "data": {"resultType": "vector", "result": []}}
    poller, _ = _poller(lambda _: httpx.Response(200, json=vector), Clock(1000.0))
    with pytest.raises(PrometheusError, match="expected a matrix result"):
        poller.poll()
    poller, _ = _poller(lambda _: httpx.Response(200, text="not json"), Clock(1000.0))
    with pytest.raises(PrometheusError, match="not JSON"):
        poller.poll()


@pytest.mark.parametrize(
    "series",
    [
        {"metric": {"__name__": "up", "job": "j"}},  # no values
        {"metric": {"__name__": "up", "job": "j"}, "values": [[990.0, "one"]]},
        {"metric": {"__name__": "up", "job": "j"}, "values": [["Inf", "1"]]},
        {"metric": {"__name__": "up", "job": "j"}, "values": [[990.0]]},
    ],
)
def test_a_malformed_result_is_reported_and_nothing_of_it_counted(series: dict[str, Any]) -> None:
    good = {"metric": {"__name__": "up", "job": "ok"}, "values": [[990.0, "1"]]}
    body = {"status": "success", "data": {"resultType": "matrix", "result": [good, series]}}
    poller, _ = _poller(lambda _: httpx.Response(200, json=body), Clock(1000.0))
    with pytest.raises(PrometheusError, match="'up': malformed result"):
        poller.poll()
    assert sum(poller.samples.values()) == 0
    assert poller.cursors == {}


def test_the_bearer_token_is_sent() -> None:
    poller, seen = _poller(
        lambda _: httpx.Response(200, json=_matrix()), Clock(1000.0), bearer_token="s3cret"
    )
    poller.poll()
    assert seen[0].headers["authorization"] == "Bearer s3cret"


# -- configuration ------------------------------------------------------------------------
def test_the_poller_is_built_only_when_configured(tmp_path: Any) -> None:
    assert build_pull_sources(Settings(data_dir=tmp_path).sources) == []
    settings = Settings(
        data_dir=tmp_path,
        sources={"prometheus": {"url": "http://prom:9090", "queries": ["up"], "interval_s": 5}},
    )
    [source] = build_pull_sources(settings.sources)
    assert isinstance(source, PrometheusPoller)
    assert (source.name, source.interval_s) == ("prometheus", 5)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"url": "http://prom:9090"}, "needs both url and queries"),
        ({"queries": ["up"]}, "needs both url and queries"),
        ({"url": "http://p", "queries": ["up"], "step_s": 1, "lookback_s": 20_000}, "11000"),
        ({"queries": [{"expr": "up", "metric": "bad name"}], "url": "http://p"}, "metric"),
        ({"fallback_resource": "a b"}, "resource id"),
    ],
)
def test_bad_settings_are_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PrometheusSourceSettings(**values)


def test_settings_round_trip_through_json() -> None:
    cfg = PrometheusSourceSettings(url="http://p", queries=["up", {"expr": "x", "metric": "y"}])
    again = PrometheusSourceSettings(**json.loads(cfg.model_dump_json()))
    assert [q.expr for q in again.queries] == ["up", "x"]


def _samples(outcome: WriteOutcome) -> list[Sample]:
    return outcome.batch.sample_columns().to_samples()
