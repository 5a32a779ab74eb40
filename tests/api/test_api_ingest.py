"""POST /ingest/samples: valid batches of known resources take the columnar path, bad ones are
validated sample by sample to name each bad field; both store and score alike."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opsgraph.api.routes.ingest import columnar
from opsgraph.runtime.root import Runtime

#: Six hours ago: the door refuses samples far from now (`ingest/doors.py`).
T0 = float(int(time.time()) - 6 * 3600)


def _s(resource: str, metric: str, ts: float, value: float) -> dict[str, Any]:
    return {"resource_id": resource, "metric": metric, "ts": ts, "value": value}


def _nodes(runtime: Runtime, n: int) -> list[str]:
    return sorted(runtime.estate.resources)[:n]


def _body(samples: list[dict[str, Any]]) -> bytes:
    return json.dumps({"samples": samples}).encode()


def test_which_batches_are_columnar(runtime: Runtime) -> None:
    a, b = _nodes(runtime, 2)
    known = runtime.ingestor.resources
    good = [_s(a, "qd", T0, 1.0), _s(b, "qd", T0 + 60, 2.0), _s(a, "qd", T0 + 60, 3.0)]
    columns = columnar(_body(good), known)
    assert columns is not None
    assert columns.keys == [(a, "qd"), (b, "qd")] and columns.series.tolist() == [0, 1, 0]
    assert columns.ts.tolist() == [T0, T0 + 60, T0 + 60]
    assert columns.values.tolist() == [1.0, 2.0, 3.0]
    for other in (
        [_s(a, "qd", T0, 1.0), _s("ghost", "qd", T0, 2.0)],  # unknown resource
        [_s(a, "9qd", T0, 1.0)],  # bad metric name
        [_s(a, "qd", T0, 1.0) | {"extra": 1}],
        [_s(a, "qd", T0, 1.0) | {"value": "high"}],
        [],
    ):
        assert columnar(_body(other), known) is None, other
    nan = (
        b'{"samples": [{"resource_id": "%s", "metric": "qd", "ts": 1, "value": NaN}]}' % a.encode()
    )
    assert columnar(nan, known) is None
    assert columnar(b'{"samples": [', known) is None


def test_both_paths_store_and_score_alike(client: TestClient, runtime: Runtime) -> None:
    a, b = _nodes(runtime, 2)
    one_ts = [_s(a, "queue_depth", T0, 1.0), _s(b, "queue_depth", T0, 2.0)]
    two_ts = [_s(a, "queue_depth", T0 + 60, 3.0), _s(b, "queue_depth", T0 + 120, 4.0)]
    before = runtime.store.counts()["samples"]
    for batch in (one_ts, two_ts):
        r = client.post("/ingest/samples", json={"samples": batch})
        assert r.status_code == 200, r.text
        assert r.json() == {"accepted": 2, "anomalies": []}
    assert runtime.store.counts()["samples"] == before + 4
    for node, values in ((a, [1.0, 3.0]), (b, [2.0, 4.0])):
        got = client.get(f"/resources/{node}/metrics", params={"metrics": "queue_depth"}).json()
        assert got["series"]["queue_depth"]["values"] == values
    assert runtime.ingestor.latest_ts is not None and runtime.ingestor.latest_ts >= T0 + 120


def test_a_spike_in_one_timestamp_batches_opens_an_anomaly(
    client: TestClient, runtime: Runtime
) -> None:
    (node,) = _nodes(runtime, 1)
    for i in range(30):
        batch = [_s(node, "queue_depth", T0 + 60 * i, 10.0 + (i % 3))]
        assert client.post("/ingest/samples", json={"samples": batch}).status_code == 200
    opened = []
    for i in (30, 31):
        batch = [_s(node, "queue_depth", T0 + 60 * i, 500.0)]
        r = client.post("/ingest/samples", json={"samples": batch})
        assert r.status_code == 200, r.text
        opened += r.json()["anomalies"]
    assert [(x["resource_id"], x["metric"]) for x in opened] == [(node, "queue_depth")]
    assert runtime.store.get_anomaly(opened[0]["id"]).metric == "queue_depth"


@pytest.mark.parametrize("timestamps", [[T0, T0, T0], [T0, T0 + 1, T0 + 2]])
def test_the_batch_limit_holds_on_both_paths(
    client: TestClient, runtime: Runtime, timestamps: list[float]
) -> None:
    runtime.settings.api.max_batch = 2
    nodes = _nodes(runtime, 3)
    before = runtime.store.counts()["samples"]
    batch = [_s(n, "queue_depth", t, 1.0) for n, t in zip(nodes, timestamps, strict=True)]
    r = client.post("/ingest/samples", json={"samples": batch})
    assert r.status_code == 422 and "at most 2 samples" in r.json()["detail"]
    assert runtime.store.counts()["samples"] == before


def test_an_unknown_resource_in_a_one_timestamp_batch_is_named(
    client: TestClient, runtime: Runtime
) -> None:
    (node,) = _nodes(runtime, 1)
    before = runtime.store.counts()["samples"]
    batch = [_s(node, "cpu", T0, 1.0), _s("no-such-node", "cpu", T0, 1.0)]
    r = client.post("/ingest/samples", json={"samples": batch})
    assert r.status_code == 422
    assert "samples[1].resource_id" in r.json()["detail"]
    assert runtime.store.counts()["samples"] == before


def test_the_body_schema_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/ingest/samples"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["samples"]
    assert set(schema["properties"]["samples"]["items"]["properties"]) == {
        "resource_id",
        "metric",
        "ts",
        "value",
    }


@pytest.mark.parametrize(
    ("ts", "words"),
    [
        (1e300, "after now"),
        (-5.0, "before the horizon"),
        (-1e18, "before the horizon"),
        (1.0, "before the horizon"),
        (time.time() * 1000, "looks like milliseconds"),
        (time.time() + 3600, "at most api.max_future_skew_s = 300 s ahead"),
    ],
)
def test_an_implausible_time_is_refused_and_poisons_nothing(
    client: TestClient, runtime: Runtime, ts: float, words: str
) -> None:
    a, b = _nodes(runtime, 2)
    before = runtime.store.counts()["samples"]
    latest = runtime.ingestor.latest_ts
    batch = [_s(a, "queue_depth", T0, 1.0), _s(b, "queue_depth", ts, 2.0)]
    r = client.post("/ingest/samples", json={"samples": batch})
    assert r.status_code == 422, r.text
    assert "samples[1].ts" in r.json()["detail"] and words in r.json()["detail"]
    assert runtime.store.counts()["samples"] == before
    assert runtime.ingestor.latest_ts == latest
    # the clock is untouched: a silence from now on is still accepted
    matcher = {"label": "resource", "value": a}
    silence = client.post("/silences", json={"matchers": [matcher], "duration_s": 600})
    assert silence.status_code == 201, silence.text


@pytest.mark.parametrize("field", ["value", "ts"])
def test_a_boolean_is_not_a_number(client: TestClient, runtime: Runtime, field: str) -> None:
    (node,) = _nodes(runtime, 1)
    before = runtime.store.counts()["samples"]
    sample = _s(node, "cpu", T0, 1.0) | {field: True}
    r = client.post("/ingest/samples", json={"samples": [sample]})
    assert r.status_code == 422 and "not a boolean" in r.text and field in r.text
    assert runtime.store.counts()["samples"] == before
