"""The log endpoints: POST /ingest/logs, GET /logs and POST /predict/log, good and bad input."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opsgraph.core.errors import StoreError
from opsgraph.runtime.root import Runtime

#: Six hours ago, a whole hour (so a whole minute: buckets start at T0); the door refuses
#: lines far from now.
T0 = float((int(time.time()) // 3600 - 6) * 3600)
NORMAL = (
    "GET /api/cart/{n} 200 served in {n}ms",
    "user {n} logged in from 10.0.0.{n}",
    "cache hit for key session:{n}",
)


def _normal(
    resource: str, buckets: int, per_bucket: int = 6, start: float = T0
) -> list[dict[str, Any]]:
    """`per_bucket` ordinary info lines in each of `buckets` one-minute buckets."""
    return [
        {
            "ts": start + 60.0 * b + 9.0 * i,
            "resource_id": resource,
            "message": NORMAL[i % len(NORMAL)].format(n=7 * b + i),
        }
        for b in range(buckets)
        for i in range(per_bucket)
    ]


def _errors(resource: str, bucket: int, n: int) -> list[dict[str, Any]]:
    return [
        {
            "ts": T0 + 60.0 * bucket + i,
            "resource_id": resource,
            "level": "ERROR",
            "message": f"connection to db-{i % 3} refused after {i} retries",
        }
        for i in range(n)
    ]


@pytest.fixture
def node(runtime: Runtime) -> str:
    return sorted(runtime.estate.resources)[0]


def test_ingest_scores_stores_and_lists(client: TestClient, runtime: Runtime, node: str) -> None:
    lines = _normal(node, 5)
    r = client.post("/ingest/logs", json={"logs": lines})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 30 and body["new_templates"] == 3
    # Five buckets of 60 s: the last one is still open (no line yet past its end + grace).
    assert body["metric_samples"] == 4 * 3
    page = client.get("/logs", params={"resource_id": node, "limit": 5}).json()
    assert page["total"] == 30 and len(page["items"]) == 5
    newest = page["items"][0]
    assert newest["ts"] == lines[-1]["ts"] and newest["message"] == lines[-1]["message"]
    assert newest["level"] == "info" and newest["template"].startswith("cache hit for key")
    assert 0.0 <= newest["score"] <= 1.0 and newest["template_id"] is not None
    stored = runtime.store.read_samples(node, metrics=["log_lines", "log_errors"])
    assert stored["log_lines"][1] == [6.0, 6.0, 6.0, 6.0]
    assert stored["log_lines"][0] == [T0, T0 + 60, T0 + 120, T0 + 180]
    assert stored["log_errors"][1] == [0.0] * 4


def test_list_filters_and_pages(client: TestClient, node: str, runtime: Runtime) -> None:
    other = sorted(runtime.estate.resources)[1]
    lines = _normal(node, 40) + _errors(node, 40, 3) + _normal(other, 2)
    assert client.post("/ingest/logs", json={"logs": lines}).status_code == 200
    errors = client.get("/logs", params={"level": ["error", "critical"]}).json()
    assert errors["total"] == 3 and {x["level"] for x in errors["items"]} == {"error"}
    # An error template never seen on a resource with a long history is anomalous.
    hot = client.get("/logs", params={"min_score": 0.35, "resource_id": node}).json()
    assert hot["total"] >= 1 and all(x["level"] == "error" for x in hot["items"])
    window = client.get(
        "/logs", params={"resource_id": other, "start": T0 + 60, "end": T0 + 119, "limit": 2}
    ).json()
    assert window["total"] == 6 and len(window["items"]) == 2
    second = client.get(
        "/logs", params={"resource_id": other, "start": T0 + 60, "limit": 2, "offset": 2}
    ).json()
    assert [x["ts"] for x in second["items"]] == [T0 + 60 + 27.0, T0 + 60 + 18.0]
    for params, field in [
        ({"level": "loud"}, "level"),
        ({"min_score": 2}, "min_score"),
        ({"limit": 0}, "limit"),
        ({"start": "nan"}, "start"),
    ]:
        r = client.get("/logs", params=params)
        assert r.status_code == 422 and field in r.json()["detail"], (params, r.text)


def test_error_burst_opens_an_anomaly(client: TestClient, node: str) -> None:
    history = _normal(node, 30)
    burst = [line for b in (30, 31, 32) for line in _errors(node, b, 25)]
    after = _normal(node, 2, start=T0 + 60.0 * 33)
    r = client.post("/ingest/logs", json={"logs": history + burst + after})
    assert r.status_code == 200, r.text
    opened = r.json()["anomalies"]
    # 25 lines a minute instead of 6, all errors: both series alert; the one new template
    # (a single bucket) does not.
    assert sorted((a["resource_id"], a["metric"]) for a in opened) == [
        (node, "log_errors"),
        (node, "log_lines"),
    ]
    assert {a["start_ts"] for a in opened} == {T0 + 60.0 * 30}
    listed = client.get("/anomalies", params={"resource_id": node}).json()["items"]
    assert any(a["metric"] == "log_errors" for a in listed)


def test_predict_log_uses_what_was_ingested(client: TestClient, node: str) -> None:
    assert client.post("/ingest/logs", json={"logs": _normal(node, 200)}).status_code == 200
    lines = [
        "user 90210 logged in from 10.0.0.99",
        "kernel: BUG: unable to handle page fault for address 0xdeadbeef",
        "2024-01-01 10:00:00 ERROR disk /dev/sda1 failed SMART self-test",
    ]
    r = client.post("/predict/log", json={"data": lines})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"]["lines"] == 1200 and body["model"]["templates"] == 3
    normal, novel, error = body["predictions"]
    assert normal["template_id"] is not None and normal["template"].startswith("user <NUM>")
    assert normal["score"] == 0.0 and normal["is_anomaly"] is False
    assert normal["severity"] == "low" and normal["new_template"] is False
    assert novel["template_id"] is None and novel["new_template"] is True
    assert novel["is_anomaly"] is True and novel["score"] > 0.35
    assert "<NUM>" in novel["template"]  # the address is masked
    assert error["level"] == "error" and error["score"] > novel["score"]
    assert error["severity"] in ("high", "critical")
    # Predicting learns nothing: the same request gives the same answer.
    again = client.post("/predict/log", json={"data": lines}).json()
    assert again == body


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"data": ["fine", 3, None]}, ["data[1]: must be a string", "data[2]: must be a string"]),
        ({"data": []}, ["data"]),
        ({"data": "one line"}, ["data"]),
        ({"data": ["x" * (64 * 1024 + 1)]}, ["data[0]: must be at most 65536 bytes"]),
        ({"data": ["é" * 40_000]}, ["data[0]: must be at most 65536 bytes"]),
        ({"data": ["a"] * 10_001}, ["data"]),
        ({"data": ["a"], "extra": 1}, ["extra"]),
        ({}, ["data"]),
    ],
)
def test_predict_log_refuses_bad_payloads(
    client: TestClient, body: dict[str, Any], fields: list[str]
) -> None:
    r = client.post("/predict/log", json=body)
    assert r.status_code == 422, r.text
    for field in fields:
        assert field in r.json()["detail"]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"resource_id": "{node}", "message": "x"}, "logs[1].ts"),
        ({"ts": "soon", "resource_id": "{node}", "message": "x"}, "logs[1].ts"),
        ({"ts": T0, "resource_id": "bad id", "message": "x"}, "logs[1].resource_id"),
        ({"ts": T0, "resource_id": "{node}"}, "logs[1].message"),
        ({"ts": T0, "resource_id": "{node}", "message": 5}, "logs[1].message"),
        ({"ts": T0, "resource_id": "{node}", "message": "x", "level": "loud"}, "logs[1].level"),
        ({"ts": T0, "resource_id": "{node}", "message": "x", "host": "h"}, "logs[1].host"),
        ({"ts": T0, "resource_id": "{node}", "message": "x" * 70_000}, "logs[1].message"),
        ({"ts": T0, "resource_id": "ghost-9", "message": "x"}, "logs[1].resource_id"),
        ({"ts": 4e9, "resource_id": "{node}", "message": "x"}, "logs[1].ts"),
    ],
)
def test_bad_batches_store_nothing(
    client: TestClient, runtime: Runtime, node: str, line: dict[str, Any], field: str
) -> None:
    good = {"ts": T0, "resource_id": node, "message": "fine"}
    bad = json.loads(json.dumps(line).replace("{node}", node))
    r = client.post("/ingest/logs", json={"logs": [good, bad]})
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"]
    assert client.get("/logs").json()["total"] == 0
    assert runtime.logs.pipeline.stats()["lines"] == 0


def test_batch_limits_and_nan(client: TestClient, runtime: Runtime, node: str) -> None:
    r = client.post("/ingest/logs", json={"logs": []})
    assert r.status_code == 422 and "logs" in r.json()["detail"]
    raw = json.dumps({"logs": [{"ts": 1.0, "resource_id": node, "message": "x"}]})
    raw = raw.replace("1.0", "NaN")
    r = client.post("/ingest/logs", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "logs[0].ts" in r.json()["detail"]
    runtime.settings.api.max_batch = 2
    r = client.post("/ingest/logs", json={"logs": _normal(node, 1)})
    assert r.status_code == 422 and "at most 2 lines" in r.json()["detail"]
    assert client.get("/logs").json()["total"] == 0


def test_refused_write_leaves_the_model_as_it_was(
    client: TestClient, runtime: Runtime, node: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.post("/ingest/logs", json={"logs": _normal(node, 3)}).status_code == 200
    pipeline = runtime.logs.pipeline
    before = pipeline.stats()
    counts = dict(pipeline.streams[node].counts)
    batch = {"logs": _normal(node, 3, start=T0 + 180) + _errors(node, 6, 2)}

    def refuse(*_: object, **__: object) -> int:
        raise StoreError("database error (OperationalError): disk full")

    monkeypatch.setattr(runtime.store, "add_logs", refuse)
    r = client.post("/ingest/logs", json=batch)
    assert r.status_code == 503 and "disk full" in r.json()["detail"]
    assert pipeline.stats()["lines"] == before["lines"]
    assert pipeline.streams[node].counts == counts
    monkeypatch.undo()
    # The retry is scored as if the failed attempt never happened.
    r = client.post("/ingest/logs", json=batch)
    assert r.status_code == 200 and r.json()["new_templates"] == 1
    assert client.get("/logs").json()["total"] == 18 + 18 + 2
