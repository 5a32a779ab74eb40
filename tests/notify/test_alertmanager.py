"""Alertmanager webhook v4 out (against a local HTTP server) and the mapping of a received
Alertmanager notification onto external alerts."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import METRIC_NAME_RE, RESOURCE_ID_RE
from opsgraph.core.models import AnomalyStatus, Severity
from opsgraph.notify.alertmanager import (
    ZERO_TIME,
    AlertmanagerNotifier,
    WebhookMessage,
    metric_from,
    resource_id_from,
    severity_from,
    to_external_alerts,
)
from opsgraph.notify.base import DeliveryError, Notification
from opsgraph.notify.settings import AlertmanagerReceiver

from .conftest import CaptureServer, Certificate

V4_KEYS = {
    "version",
    "groupKey",
    "truncatedAlerts",
    "status",
    "receiver",
    "groupLabels",
    "commonLabels",
    "commonAnnotations",
    "externalURL",
    "alerts",
}
ALERT_KEYS = {
    "status",
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "generatorURL",
    "fingerprint",
}


def _notifier(url: str, **extra: Any) -> AlertmanagerNotifier:
    return AlertmanagerNotifier(AlertmanagerReceiver(name="oncall", url=url, **extra))


def test_posts_version_4_json_for_firing_then_resolved(
    capture: CaptureServer, make_notification: Callable[..., Notification]
) -> None:
    notifier = _notifier(f"{capture.url}/hook", bearer_token="s3cret", headers={"X-Team": "ops"})
    asyncio.run(notifier.send(make_notification()))
    asyncio.run(
        notifier.send(
            make_notification(
                "anomaly:resolved", status=AnomalyStatus.RESOLVED, end_ts=1_700_000_300.0
            )
        )
    )
    firing, resolved = capture.received
    assert firing.path == "/hook"
    assert firing.headers["authorization"] == "Bearer s3cret"
    assert firing.headers["x-team"] == "ops"
    body = firing.body
    assert set(body) == V4_KEYS
    assert body["version"] == "4" and body["status"] == "firing" and body["receiver"] == "oncall"
    assert body["truncatedAlerts"] == 0
    assert body["externalURL"] == "http://ops.example:8000"
    assert body["groupLabels"] == {"alertname": "latency_ms", "resource": "db-1"}
    assert body["groupKey"] == '{}:{alertname="latency_ms", resource="db-1"}'
    (alert,) = body["alerts"]
    assert set(alert) == ALERT_KEYS
    assert alert["labels"] == {
        "alertname": "latency_ms",
        "resource": "db-1",
        "kind": "rds",
        "region": "eu-west-1",
        "owner": "payments",
        "team": "payments",
        "aws_cloudformation_stack_name": "shop",
        "provider": "sim",
        "metric": "latency_ms",
        "severity": "critical",
        "detector": "robust_z",
        "source": "opsgraph",
        "incident": "7",
    }
    assert body["commonLabels"] == alert["labels"]
    assert alert["annotations"]["value"] == "950"
    assert alert["annotations"]["expected"] == "120"
    assert alert["startsAt"] == "2023-11-14T22:13:20.000Z"
    assert alert["endsAt"] == ZERO_TIME
    assert alert["generatorURL"] == "http://ops.example:8000/#resource=db-1"
    assert len(alert["fingerprint"]) == 16
    # What we send parses as what a real Alertmanager sends.
    WebhookMessage.model_validate(body)

    (gone,) = resolved.body["alerts"]
    assert resolved.body["status"] == "resolved" and gone["status"] == "resolved"
    assert gone["endsAt"] == "2023-11-14T22:18:20.000Z"
    assert gone["fingerprint"] == alert["fingerprint"]


def test_server_errors_are_retryable_and_client_errors_final(
    capture: CaptureServer, make_notification: Callable[..., Notification]
) -> None:
    notifier = _notifier(capture.url)
    capture.answers[:] = [503, 429, 400]
    outcomes = []
    for _ in range(3):
        with pytest.raises(DeliveryError) as caught:
            asyncio.run(notifier.send(make_notification()))
        outcomes.append((caught.value.retryable, str(caught.value)))
    assert [retryable for retryable, _ in outcomes] == [True, True, False]
    assert "answered 503" in outcomes[0][1] and "upstream trouble" in outcomes[0][1]


def test_refused_connection_is_retryable(make_notification: Callable[..., Notification]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(_notifier(f"http://127.0.0.1:{port}/").send(make_notification()))
    assert caught.value.retryable


def test_https_with_our_ca_and_an_untrusted_certificate(
    tls_capture: CaptureServer,
    certificate: Certificate,
    make_notification: Callable[..., Notification],
) -> None:
    trusted = _notifier(tls_capture.url, ca_file=certificate.cert)
    asyncio.run(trusted.send(make_notification()))
    assert len(tls_capture.received) == 1
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(_notifier(tls_capture.url).send(make_notification()))
    assert not caught.value.retryable  # a certificate problem does not heal by retrying
    unchecked = _notifier(tls_capture.url, verify_tls=False)
    asyncio.run(unchecked.send(make_notification()))
    assert len(tls_capture.received) == 2


def test_receiver_urls_are_validated() -> None:
    with pytest.raises(ValidationError, match="url"):
        AlertmanagerReceiver(name="x", url="ftp://example.com/hook")
    with pytest.raises(ValidationError, match="name"):
        AlertmanagerReceiver(name="has space", url="http://example.com/")


def _message(*alerts: dict[str, Any], status: str = "firing") -> WebhookMessage:
    return WebhookMessage.model_validate(
        {
            "version": "4",
            "groupKey": "{}:{}",
            "status": status,
            "receiver": "opsgraph",
            "externalURL": "http://alertmanager:9093",
            "alerts": list(alerts),
        }
    )


def _alert(labels: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": "s"},
        "startsAt": "2024-05-01T10:00:00.123Z",
        "endsAt": ZERO_TIME,
        "generatorURL": "http://prometheus/graph",
        "fingerprint": "c0ffee",
        **extra,
    }


def test_incoming_alerts_map_to_external_alerts() -> None:
    firing, resolved = to_external_alerts(
        _message(
            _alert({"alertname": "HighCPU", "instance": "web-1:9100", "severity": "warning"}),
            _alert(
                {"alertname": "Disk Full!", "job": "node", "severity": "PAGE"},
                status="resolved",
                endsAt="2024-05-01T10:05:00Z",
                fingerprint="",
            ),
        ),
        now=2e9,
    )
    assert firing.source == "alertmanager" and firing.fingerprint == "c0ffee"
    assert (firing.resource_id, firing.metric, firing.name) == ("web-1:9100", "HighCPU", "HighCPU")
    assert firing.severity is Severity.MEDIUM and firing.firing and firing.ends_at is None
    assert firing.starts_at == dt.datetime(2024, 5, 1, 10, 0, 0, 123000, dt.UTC).timestamp()
    assert firing.labels["instance"] == "web-1:9100" and firing.annotations == {"summary": "s"}
    assert (resolved.resource_id, resolved.metric) == ("node", "Disk_Full_")
    assert resolved.severity is Severity.CRITICAL and not resolved.firing
    assert resolved.ends_at == dt.datetime(2024, 5, 1, 10, 5, tzinfo=dt.UTC).timestamp()
    assert len(resolved.fingerprint) == 16  # computed from the labels when Alertmanager sent none


def test_resource_falls_back_and_resolution_without_end_uses_now() -> None:
    (alert,) = to_external_alerts(
        _message(_alert({"alertname": "Watchdog"}, status="resolved"), status="resolved"), now=123.0
    )
    assert alert.resource_id == "alertmanager" and alert.ends_at == 123.0
    assert alert.severity is Severity.MEDIUM


def test_an_alert_without_alertname_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInputError) as caught:
        to_external_alerts(_message(_alert({"alertname": "A"}), _alert({"job": "x"})), now=0)
    assert caught.value.field == "alerts[1].labels.alertname"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("info", Severity.LOW),
        ("low", Severity.LOW),
        ("warning", Severity.MEDIUM),
        ("medium", Severity.MEDIUM),
        ("error", Severity.HIGH),
        ("High", Severity.HIGH),
        ("page", Severity.CRITICAL),
        ("critical", Severity.CRITICAL),
        ("whatever", Severity.MEDIUM),
        (None, Severity.MEDIUM),
    ],
)
def test_severity_labels(label: str | None, expected: Severity) -> None:
    assert severity_from(label) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("web-1:9100", "web-1:9100"),
        ("https://api.example.com/health", "https:-api.example.com-health"),
        ("  /leading/slash", "leading-slash"),
        ("name with spaces", "name-with-spaces"),
        ("///", None),
        ("x" * 300, "x" * 200),
    ],
)
def test_resource_ids_are_sanitised(raw: str, expected: str | None) -> None:
    got = resource_id_from(raw)
    assert got == expected
    assert got is None or RESOURCE_ID_RE.match(got)


@pytest.mark.parametrize("raw", ["HighCPU", "9lives", "a-b c", "ünïcode", ":colon", "x" * 300])
def test_metric_names_are_sanitised(raw: str) -> None:
    assert METRIC_NAME_RE.match(metric_from(raw))
