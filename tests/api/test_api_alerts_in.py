"""POST /alerts/alertmanager: v4 webhooks open and close anomalies, bad input gets 422; end to end
with a real Alertmanager, and with opsgraph's own Alertmanager-format webhook out as sender."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from fastapi.testclient import TestClient

from opsgraph.api import create_app
from opsgraph.auth import Principal
from opsgraph.core.auth import Role
from opsgraph.core.models import Anomaly, AnomalyStatus, Severity
from opsgraph.notify.alertmanager import AlertmanagerNotifier
from opsgraph.notify.convert import to_notification
from opsgraph.notify.hub import Message
from opsgraph.notify.settings import AlertmanagerReceiver
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings

ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
ZERO = "0001-01-01T00:00:00Z"


def _webhook(*alerts: dict[str, Any], status: str = "firing") -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighCPU"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "opsgraph",
        "groupLabels": {"alertname": "HighCPU"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def _alert(fingerprint: str, labels: dict[str, str], status: str = "firing") -> dict[str, Any]:
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": "CPU above 90%"},
        "startsAt": "2024-05-01T10:00:00Z",
        "endsAt": ZERO if status == "firing" else "2024-05-01T10:07:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fingerprint,
    }


def _alert_anomalies(runtime: Runtime) -> dict[str, Anomaly]:
    items, _ = runtime.store.list_anomalies(limit=500)
    return {a.metric: a for a in items if a.detector == "alertmanager"}


def test_webhook_opens_then_closes_anomalies(client: TestClient, runtime: Runtime) -> None:
    cpu = {"alertname": "HighCPU", "instance": "web-1:9100", "severity": "error"}
    disk = {"alertname": "DiskFull", "job": "node", "severity": "page"}
    response = client.post(
        "/alerts/alertmanager", json=_webhook(_alert("aa01", cpu), _alert("bb02", disk))
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["received"] == 2 and len(body["anomalies"]) == 2
    opened = _alert_anomalies(runtime)
    assert opened["HighCPU"].resource_id == "web-1:9100"
    assert opened["HighCPU"].severity is Severity.HIGH
    assert opened["DiskFull"].resource_id == "node"
    assert opened["DiskFull"].severity is Severity.CRITICAL
    assert all(a.status is AnomalyStatus.OPEN for a in opened.values())
    assert "web-1:9100" in runtime.estate.resources  # registered when new

    resolved = client.post(
        "/alerts/alertmanager",
        json=_webhook(_alert("aa01", cpu, "resolved"), status="resolved"),
    )
    assert resolved.status_code == 200
    after = _alert_anomalies(runtime)
    assert after["HighCPU"].status is AnomalyStatus.RESOLVED
    assert after["HighCPU"].end_ts == dt.datetime(2024, 5, 1, 10, 7, tzinfo=dt.UTC).timestamp()
    assert after["DiskFull"].status is AnomalyStatus.OPEN


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": "3"}, "body.version"),
        ({"alerts": []}, "body.alerts"),
        ({"status": "pending"}, "body.status"),
        (
            {"alerts": [{"status": "firing", "labels": {"alertname": "A"}}]},
            "body.alerts[0].startsAt",
        ),
    ],
)
def test_malformed_notifications_get_422(
    client: TestClient, runtime: Runtime, change: dict[str, Any], field: str
) -> None:
    payload = {**_webhook(_alert("aa01", {"alertname": "HighCPU"})), **change}
    response = client.post("/alerts/alertmanager", json=payload)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    assert _alert_anomalies(runtime) == {}


def test_an_alert_without_alertname_changes_nothing(client: TestClient, runtime: Runtime) -> None:
    payload = _webhook(_alert("aa01", {"alertname": "A"}), _alert("bb02", {"job": "x"}))
    response = client.post("/alerts/alertmanager", json=payload)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "alerts[1].labels.alertname"
    assert _alert_anomalies(runtime) == {}


def test_viewers_may_not_post_alerts(client: TestClient, make_key: Callable[[Role], str]) -> None:
    payload = _webhook(_alert("aa01", {"alertname": "A"}))
    viewer = {"Authorization": f"Bearer {make_key(Role.VIEWER)}"}
    assert client.post("/alerts/alertmanager", json=payload, headers=viewer).status_code == 403


# -- a served opsgraph ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _until(
    condition: Callable[[], bool], what: str, detail: Callable[[], str] = lambda: ""
) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{detail()}")
        time.sleep(0.1)


@dataclass
class Served:
    runtime: Runtime
    url: str
    key: str  # an operator API key


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """opsgraph's API under uvicorn in a thread on a free port (no simulated estate)."""
    runtime = Runtime(Settings(data_dir=tmp_path / "opsgraph", sim={"enabled": False}))
    key, _ = runtime.auth.create_key(
        "alertmanager", Role.OPERATOR, by=Principal("admin", Role.ADMIN, "user", None)
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(runtime, run_pipeline=False),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        _until(lambda: server.started or not thread.is_alive(), "uvicorn to start")
        assert server.started, "uvicorn did not start"
        yield Served(runtime, f"http://127.0.0.1:{port}", key)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        runtime.close()


def test_a_real_alertmanager_opens_and_closes_anomalies(served: Served, tmp_path: Path) -> None:
    if not ALERTMANAGER.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{ALERTMANAGER} is not installed (scripts/setup installs it)")
        pytest.skip(f"{ALERTMANAGER} is not installed")
    am_port = _free_port()
    config = {
        "route": {
            "receiver": "opsgraph",
            "group_by": ["alertname", "instance"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "opsgraph",
                "webhook_configs": [
                    {
                        "url": f"{served.url}/alerts/alertmanager",
                        "send_resolved": True,
                        "http_config": {
                            "authorization": {"type": "Bearer", "credentials": served.key}
                        },
                    }
                ],
            }
        ],
    }
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config))
    log_path = tmp_path / "alertmanager.log"
    am = f"http://127.0.0.1:{am_port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(ALERTMANAGER),
                f"--config.file={tmp_path / 'alertmanager.yml'}",
                f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _run_alertmanager_scenario(served, am, process, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _ready(am: str, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        return True  # exited: reported below
    try:
        return httpx.get(f"{am}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _run_alertmanager_scenario(
    served: Served, am: str, process: subprocess.Popen[bytes], log_path: Path
) -> None:
    _until(lambda: _ready(am, process), "Alertmanager to be ready")
    assert process.poll() is None, log_path.read_text(errors="replace")[-3000:]
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    alerts = [
        {
            "labels": {"alertname": "HighCPU", "instance": "web-7:9100", "severity": "warning"},
            "annotations": {"summary": "CPU above 90% for 5 minutes"},
            "startsAt": started.isoformat(),
            "generatorURL": "http://prometheus:9090/graph",
        },
        {
            "labels": {"alertname": "ErrorBudgetBurn", "job": "checkout", "severity": "page"},
            "annotations": {"summary": "burning the error budget 14x"},
            "startsAt": started.isoformat(),
        },
    ]
    assert httpx.post(f"{am}/api/v2/alerts", json=alerts, timeout=10).status_code == 200

    def anomalies() -> dict[str, Anomaly]:
        return _alert_anomalies(served.runtime)

    def log_tail() -> str:
        return log_path.read_text(errors="replace")[-3000:]

    _until(lambda: len(anomalies()) == 2, "opsgraph to open both anomalies", log_tail)
    opened = anomalies()
    assert opened["HighCPU"].resource_id == "web-7:9100"
    assert opened["HighCPU"].severity is Severity.MEDIUM
    assert opened["ErrorBudgetBurn"].resource_id == "checkout"
    assert opened["ErrorBudgetBurn"].severity is Severity.CRITICAL
    assert all(a.status is AnomalyStatus.OPEN for a in opened.values())
    assert abs(opened["HighCPU"].start_ts - started.timestamp()) < 1.0

    ended = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat()
    resolved = [{**alert, "endsAt": ended} for alert in alerts]
    assert httpx.post(f"{am}/api/v2/alerts", json=resolved, timeout=10).status_code == 200
    _until(
        lambda: all(a.status is AnomalyStatus.RESOLVED for a in anomalies().values()),
        "opsgraph to close both anomalies",
        log_tail,
    )
    assert len(anomalies()) == 2


def test_our_webhook_out_is_taken_by_an_alertmanager_consumer(served: Served) -> None:
    """opsgraph's own Alertmanager-format notification, sent to an Alertmanager webhook
    consumer (opsgraph's webhook in), opens the same alert there."""
    anomaly = Anomaly(
        id=3,
        resource_id="db-1",
        metric="latency_ms",
        detector="robust_z",
        start_ts=time.time() - 60,
        last_ts=time.time(),
        score=0.9,
        max_score=0.9,
        severity=Severity.HIGH,
        value=950.0,
        expected=120.0,
    )
    notification = to_notification(
        Message("anomaly:new", anomaly.model_dump(mode="json")),
        lookup=lambda _: None,
        base_url="http://opsgraph-a:8000",
    )
    assert notification is not None
    notifier = AlertmanagerNotifier(
        AlertmanagerReceiver(
            name="downstream",
            url=f"{served.url}/alerts/alertmanager",
            bearer_token=served.key,
        )
    )
    asyncio.run(notifier.send(notification))
    (received,) = _alert_anomalies(served.runtime).values()
    assert (received.resource_id, received.metric) == ("db-1", "latency_ms")
    assert received.severity is Severity.HIGH and received.value == 950.0
