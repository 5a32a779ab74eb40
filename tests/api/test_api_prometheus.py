"""POST /api/v1/write (remote write), GET /metrics and the Grafana dashboard built on it."""

from __future__ import annotations

import io
import json
import math
import re
import time
from collections.abc import Callable
from pathlib import Path

import cramjam
import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.openmetrics.parser import text_fd_to_metric_families
from prometheus_client.parser import text_string_to_metric_families

from opsgraph.api import create_app
from opsgraph.api.routes.metrics import METRIC_NAMES
from opsgraph.core.auth import Role
from opsgraph.core.models import Resource, ResourceKind, Sample, Severity
from opsgraph.runtime.root import Runtime
from opsgraph.sim import FaultKind
from opsgraph.sources.prom_proto import PromSeries, encode_write_request, stale_nan
from opsgraph.sources.pull import Batch

HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "Prometheus/2.42.0",
}
DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "opsgraph-dashboard.json"
NODE = {"instance": "localhost:9100", "job": "node"}


#: A minute ago, in milliseconds: the door refuses samples far from now.
NOW_MS = (int(time.time()) - 60) * 1000


def test_remote_write_of_implausible_times_is_refused_whole(
    client: TestClient, runtime: Runtime
) -> None:
    hour_ago = (int(time.time()) - 3600) * 1000
    for stamp, words in (
        (1_000, "before the horizon"),  # 1970
        (int(time.time() + 86_400) * 1000, "after now"),  # a day ahead
    ):
        good = PromSeries({"__name__": "ok_metric", **NODE}, [(hour_ago, 1.0)])
        bad = PromSeries({"__name__": "up", **NODE}, [(stamp, 1.0)])
        response = _write(client, [good, bad])
        assert response.status_code == 422, response.text
        assert "timeseries.samples[1].ts" in response.json()["detail"] and words in response.text
    assert "localhost:9100" not in runtime.estate.resources


def _write(client: TestClient, series: list[PromSeries], **headers: str) -> httpx.Response:
    return client.post(
        "/api/v1/write", content=encode_write_request(series), headers=HEADERS | headers
    )


def _families(text: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    out: dict[str, list[tuple[str, dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        out[family.name] = [(s.name, s.labels, s.value) for s in family.samples]
    return out


def test_remote_write_stores_samples_and_registers_the_resource(
    client: TestClient, runtime: Runtime
) -> None:
    base = (int(time.time()) - 3600) * 1000  # an hour ago, in milliseconds
    response = client.post(
        "/api/v1/write",
        content=encode_write_request(
            [
                PromSeries(
                    {"__name__": "node_load1", **NODE},
                    [(base, 0.5), (base + 15_000, 0.75), (base + 30_000, stale_nan())],
                ),
                PromSeries({"__name__": "up", **NODE}, [(base, 1.0), (base + 15_000, math.nan)]),
            ]
        ),
        headers=HEADERS,
    )
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert response.headers["x-opsgraph-samples-accepted"] == "3"
    assert response.headers["x-opsgraph-samples-dropped"] == "2"
    resource = client.get("/resources/localhost:9100").json()
    assert resource["provider"] == "prometheus"
    assert resource["tags"] == {"job": "node"}
    stored = runtime.store.read_samples("localhost:9100")
    assert stored["node_load1"] == ([base / 1000, base / 1000 + 15], [0.5, 0.75])
    assert stored["up"] == ([base / 1000], [1.0])


@pytest.mark.parametrize(
    ("body", "headers", "status", "field", "reason"),
    [
        (b"plain text, not snappy", {}, 400, "body", "not snappy-compressed"),
        (b"", {}, 400, "body", "empty"),
        (b"\x05\x10hello", {}, 400, "body", ""),
        (None, {"Content-Encoding": "gzip"}, 415, "Content-Encoding", "'gzip' is not supported"),
        (
            None,
            {"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request"},
            415,
            "Content-Type",
            "remote write 1.0",
        ),
        (None, {"Content-Type": "application/json"}, 415, "Content-Type", "application/json"),
    ],
)
def test_bad_bodies_get_a_clear_error_and_change_nothing(
    client: TestClient,
    runtime: Runtime,
    body: bytes | None,
    headers: dict[str, str],
    status: int,
    field: str,
    reason: str,
) -> None:
    before = len(runtime.estate.resources)
    content = body
    if content is None:
        content = encode_write_request([PromSeries({"__name__": "up", **NODE}, [(1, 1.0)])])
    response = client.post("/api/v1/write", content=content, headers=HEADERS | headers)
    assert response.status_code == status, response.text
    assert reason in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == field
    assert len(runtime.estate.resources) == before
    assert "localhost:9100" not in runtime.estate.resources


def test_a_valid_snappy_body_that_is_not_a_write_request_is_400(client: TestClient) -> None:
    body = bytes(cramjam.snappy.compress_raw(b"\x0a\xff\xff\xff\x0f garbage"))
    response = client.post("/api/v1/write", content=body, headers=HEADERS)
    assert response.status_code == 400
    assert "not a valid prometheus.WriteRequest" in response.json()["detail"]


def test_oversized_bodies_are_refused_with_413(
    runtime: Runtime, make_key: Callable[[Role], str]
) -> None:
    runtime.settings.api.max_body_bytes = 4096
    auth = {"Authorization": f"Bearer {make_key(Role.OPERATOR)}"}
    with TestClient(create_app(runtime, run_pipeline=False), headers=auth) as small:
        series = [PromSeries({"__name__": f"m{i}", **NODE}, [(1, float(i))]) for i in range(2000)]
        response = _write(small, series)
    assert response.status_code == 413


def test_remote_write_can_be_turned_off(runtime: Runtime, make_key: Callable[[Role], str]) -> None:
    runtime.settings.sources.prometheus.remote_write = False
    auth = {"Authorization": f"Bearer {make_key(Role.OPERATOR)}"}
    with TestClient(create_app(runtime, run_pipeline=False), headers=auth) as off:
        response = _write(off, [PromSeries({"__name__": "up", **NODE}, [(1, 1.0)])])
    assert response.status_code == 404
    assert "sources.prometheus.remote_write" in response.json()["detail"]


def test_remote_write_needs_an_operator_credential_and_metrics_none(
    anonymous: TestClient, make_key: Callable[[Role], str], runtime: Runtime
) -> None:
    series = [PromSeries({"__name__": "up", **NODE}, [(NOW_MS, 1.0)])]
    assert _write(anonymous, series).status_code == 401
    viewer = {"Authorization": f"Bearer {make_key(Role.VIEWER)}"}
    assert _write(anonymous, series, **viewer).status_code == 403
    assert "localhost:9100" not in runtime.estate.resources
    operator = {"Authorization": f"Bearer {make_key(Role.OPERATOR)}"}
    assert _write(anonymous, series, **operator).status_code == 204
    assert anonymous.get("/metrics").status_code == 200


def test_metrics_expose_health_and_every_series_score(client: TestClient, runtime: Runtime) -> None:
    runtime.simulation.inject_fault(FaultKind.CPU_HOG, sorted(runtime.estate.resources)[3])
    for _ in range(6):
        runtime.simulation.step()
    up = [(NOW_MS, 1.0), (NOW_MS + 1, stale_nan())]
    assert _write(client, [PromSeries({"__name__": "up", **NODE}, up)]).status_code == 204
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = _families(response.text)
    assert set(METRIC_NAMES) <= {s[0] for samples in families.values() for s in samples} | set(
        families
    )

    scores = families["opsgraph_anomaly_score"]
    ingestor = runtime.ingestor
    assert len(scores) == len(ingestor.keys)
    expected = {key: float(s) for key, s in zip(ingestor.keys, ingestor.latest_score, strict=True)}
    for _, labels, value in scores:
        resource = runtime.estate.resources[labels["resource"]]
        assert labels["kind"] == resource.kind.value
        assert labels["region"] == resource.region
        assert value == expected[(labels["resource"], labels["metric"])]
        assert 0.0 <= value <= 1.0
    assert max(v for *_, v in scores) >= 0.35  # the CPU hog shows

    open_by = {labels["severity"]: v for _, labels, v in families["opsgraph_anomalies_open"]}
    assert set(open_by) == {s.value for s in Severity}
    assert sum(open_by.values()) == len(ingestor.tracker.open)
    assert families["opsgraph_resources"][0][2] == len(runtime.estate.resources)
    assert families["opsgraph_pipeline_steps"][0][2] == runtime.simulation.steps
    [(_, build, _)] = families["opsgraph_build_info"]
    assert build["store"] == "sqlite"
    written = {labels["outcome"]: v for _, labels, v in families["opsgraph_remote_write_samples"]}
    assert (written["accepted"], written["stale"]) == (1, 1)
    requests = {labels["outcome"]: v for _, labels, v in families["opsgraph_remote_write_requests"]}
    assert requests["ok"] == 1
    buckets = [s for s in families["opsgraph_remote_write_request_duration_seconds"]]
    assert ("opsgraph_remote_write_request_duration_seconds_count", {}, 1.0) in buckets


def test_label_values_are_escaped(client: TestClient, runtime: Runtime) -> None:
    odd = 'eu "west"\\1\nb'
    runtime.estate.upsert([Resource(id="odd-1", kind=ResourceKind.RDS, region=odd)], [])
    runtime.intake.accept(Batch([Sample(resource_id="odd-1", metric="cpu", ts=1.0, value=3.0)]))
    parsers = {
        "text/plain": text_string_to_metric_families,
        # The OpenMetrics parser is stricter (it also checks the '# EOF' end).
        "application/openmetrics-text;version=1.0.0": lambda text: text_fd_to_metric_families(
            io.StringIO(text)
        ),
    }
    for accept, parse in parsers.items():
        text = client.get("/metrics", headers={"Accept": accept}).text
        [sample] = [
            s
            for family in parse(text)
            if family.name == "opsgraph_anomaly_score"
            for s in family.samples
            if s.labels["resource"] == "odd-1"
        ]
        assert sample.labels == {"resource": "odd-1", "metric": "cpu", "kind": "rds", "region": odd}
        assert sample.value == runtime.ingestor.latest_score[-1]


def test_metrics_speak_openmetrics_when_asked(client: TestClient) -> None:
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    response = client.get("/metrics", headers={"Accept": accept})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")
    assert "opsgraph_anomaly_score{" in response.text


# -- the Grafana dashboard ----------------------------------------------------------------
def test_the_dashboard_uses_only_metrics_that_metrics_exposes(client: TestClient) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    _write(client, [PromSeries({"__name__": "up", **NODE}, [(1, 1.0)])])
    exposed = {
        sample[0]
        for samples in _families(client.get("/metrics").text).values()
        for sample in samples
    }
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    exprs = [v["definition"] for v in variables.values() if v["type"] == "query"]
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        exprs += [t["expr"] for t in panel["targets"]]
    for expr in exprs:
        names = re.findall(r"\bopsgraph_[a-z_]+", expr)
        assert names, expr
        for name in names:
            assert name in exposed, f"{expr}: {name} is not exposed by /metrics"
    titles = " ".join(p["title"].lower() for p in panels)
    for needed in ("anomaly score", "top anomalous", "severity", "ingest rate", "resources"):
        assert needed in titles


def test_metrics_count_every_ingested_sample(client: TestClient, runtime: Runtime) -> None:
    before = runtime.ingestor.samples_total
    runtime.simulation.step()
    added = runtime.ingestor.samples_total - before
    assert added > 0
    text = client.get("/metrics").text
    line = next(x for x in text.splitlines() if x.startswith("opsgraph_samples_ingested_total "))
    assert float(line.split()[1]) == runtime.ingestor.samples_total
