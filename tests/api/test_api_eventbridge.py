"""POST /ingest/eventbridge: CloudWatch alarm state changes as EventBridge delivers them open and
resolve anomalies; malformed events and other detail-types are refused whole with 422."""

from __future__ import annotations

import copy
import json
from typing import Any

from fastapi.testclient import TestClient

from opsgraph.core.models import ResourceKind
from opsgraph.runtime.root import Runtime

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
INSTANCE = "i-0a1b2c3d4e5f67890"


def _state(value: str, stamp: str, point: float) -> dict[str, Any]:
    data = {
        "version": "1.0",
        "queryDate": stamp,
        "statistic": "Average",
        "period": 300,
        "recentDatapoints": [point],
        "threshold": 50.0,
    }
    return {
        "reason": f"Threshold Crossed: 1 out of the last 1 datapoints [{point}] ...",
        "reasonData": json.dumps(data),
        "timestamp": stamp,
        "value": value,
    }


def _event(value: str, previous: str, *, stamp: str, before: str) -> dict[str, Any]:
    """The documented shape of a "CloudWatch Alarm State Change" event (a single-metric alarm)."""
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": stamp.replace(".985+0000", "Z"),
        "region": "us-east-1",
        "resources": [ARN],
        "detail": {
            "alarmName": "ServerCpuTooHigh",
            "configuration": {
                "description": "Goes into alarm when server CPU utilization is too high!",
                "metrics": [
                    {
                        "id": "30b6c6b2-a864-43a2-4877-c09a1afc3b87",
                        "metricStat": {
                            "metric": {
                                "dimensions": {"InstanceId": INSTANCE},
                                "name": "CPUUtilization",
                                "namespace": "AWS/EC2",
                            },
                            "period": 300,
                            "stat": "Average",
                        },
                        "returnData": True,
                    }
                ],
            },
            "previousState": _state(previous, before, 0.07 if previous == "OK" else 99.5),
            "state": _state(value, stamp, 99.5 if value == "ALARM" else 0.07),
        },
    }


FIRING = _event(
    "ALARM", "OK", stamp="2024-10-02T17:04:40.985+0000", before="2024-10-01T13:56:40.985+0000"
)
RESOLVED = _event(
    "OK", "ALARM", stamp="2024-10-02T17:34:40.985+0000", before="2024-10-02T17:04:40.985+0000"
)


def test_an_alarm_opens_then_resolves_an_anomaly(client: TestClient, runtime: Runtime) -> None:
    r = client.post("/ingest/eventbridge", json=FIRING)  # a single event, as EventBridge sends
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["received"] == 1 and body["ignored"] == []
    assert body["alerts"] == [
        {"fingerprint": ARN, "resource_id": INSTANCE, "metric": "cpu", "firing": True}
    ]
    [opened] = body["anomalies"]
    assert opened["resource_id"] == INSTANCE and opened["metric"] == "cpu"
    assert opened["status"] == "open" and opened["severity"] == "high"  # the default
    assert opened["value"] == 99.5 and opened["detector"] == "cloudwatch"
    assert opened["start_ts"] == 1727888680.985
    resource = runtime.estate.resources[INSTANCE]
    assert (resource.kind, resource.provider, resource.region) == (
        ResourceKind.EC2,
        "aws",
        "us-east-1",
    )
    r = client.post("/ingest/eventbridge", json=[RESOLVED])  # the array form
    assert r.status_code == 200, r.text
    [closed] = r.json()["anomalies"]
    assert closed["id"] == opened["id"] and closed["status"] == "resolved"
    assert closed["end_ts"] == 1727890480.985
    stored = client.get(f"/anomalies/{opened['id']}").json()
    assert stored["status"] == "resolved"


def test_changes_that_neither_fire_nor_resolve_are_ignored(client: TestClient) -> None:
    quiet = _event(
        "OK", "INSUFFICIENT_DATA", stamp="2024-10-02T17:04:40Z", before="2024-10-01T13:56:40Z"
    )
    r = client.post("/ingest/eventbridge", json=quiet)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["alerts"] == [] and body["anomalies"] == []
    assert body["ignored"][0]["alarm"] == "ServerCpuTooHigh"


def test_an_alarm_on_no_single_metric_is_its_own_resource(client: TestClient) -> None:
    composite = copy.deepcopy(FIRING)
    composite["detail"]["alarmName"] = "checkout-degraded"
    composite["detail"]["configuration"] = {"alarmRule": "ALARM(a) OR ALARM(b)"}
    composite["resources"] = [ARN.replace("ServerCpuTooHigh", "checkout-degraded")]
    r = client.post("/ingest/eventbridge", json=composite)
    assert r.status_code == 200, r.text
    [anomaly] = r.json()["anomalies"]
    assert (anomaly["resource_id"], anomaly["metric"]) == ("alarm:checkout-degraded", "cw_alarm")


def _refused(client: TestClient, body: Any) -> dict[str, Any]:
    r = client.post("/ingest/eventbridge", json=body)
    assert r.status_code == 422, r.text
    detail: dict[str, Any] = r.json()
    return detail


def test_bad_events_are_refused_whole(client: TestClient, runtime: Runtime) -> None:
    before = client.get("/anomalies").json()["total"]
    missing = copy.deepcopy(FIRING)
    del missing["detail"]["alarmName"]
    assert "body[0].detail.alarmName: Field required" in _refused(client, missing)["detail"]
    wrong = copy.deepcopy(FIRING)
    wrong["detail"]["state"]["value"] = "BROKEN"
    wrong["detail"]["state"]["timestamp"] = "yesterday"
    detail = _refused(client, [FIRING, wrong])["detail"]
    assert "body[1].detail.state.value" in detail and "body[1].detail.state.timestamp" in detail
    ec2 = {**FIRING, "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2"}
    errors = _refused(client, ec2)["errors"]
    assert errors[0]["field"] == "body[0].detail-type"
    assert "supported: 'CloudWatch Alarm State Change'" in errors[0]["message"]
    assert _refused(client, {**FIRING, "resources": []})["errors"][0]["field"] == (
        "body[0].resources"
    )
    no_arn = {**FIRING, "resources": [""]}
    assert _refused(client, no_arn)["errors"][0]["field"] == "body[0].resources[0]"
    assert "body" in _refused(client, [])["detail"]
    assert "body" in _refused(client, "not an event")["detail"]
    assert INSTANCE not in runtime.estate.resources  # nothing registered, nothing opened
    assert client.get("/anomalies").json()["total"] == before
