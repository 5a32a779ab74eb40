"""Slack-compatible incoming webhook: text fallback plus blocks with severity, resource, metric,
value against expected and a link, posted to a local HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from opsgraph.notify.base import Notification
from opsgraph.notify.settings import SlackReceiver
from opsgraph.notify.slack import SlackNotifier, slack_payload

from .conftest import CaptureServer


def _fields(payload: dict[str, Any]) -> dict[str, str]:
    section = next(b for b in payload["blocks"] if "fields" in b)
    pairs = (f["text"].split("\n", 1) for f in section["fields"])
    return {name.strip("*"): value for name, value in pairs}


def test_posts_text_and_blocks(
    capture: CaptureServer, make_notification: Callable[..., Notification]
) -> None:
    notifier = SlackNotifier(
        SlackReceiver(name="chat", url=f"{capture.url}/services/T/B/X", channel="#ops")
    )
    asyncio.run(notifier.send(make_notification()))
    (received,) = capture.received
    assert received.path == "/services/T/B/X"
    payload = received.body
    assert payload["channel"] == "#ops"
    assert payload["text"].startswith("[FIRING] critical: latency_ms anomaly on db-1")
    assert payload["text"].endswith("http://ops.example:8000/#resource=db-1")
    header = payload["blocks"][0]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert _fields(payload) == {
        "Severity": "critical",
        "Status": "firing",
        "Resource": "db-1",
        "Metric": "latency_ms",
        "Value vs expected": "950 vs 120",
        "Owner": "payments",
        "Incident": "7",
    }
    link = payload["blocks"][-1]["elements"][0]["text"]
    assert link == "<http://ops.example:8000/#resource=db-1|Open in opsgraph>"


def test_mrkdwn_is_escaped_and_header_clipped(
    make_notification: Callable[..., Notification],
) -> None:
    n = make_notification(resource_id="a<b>&c" + "x" * 200)
    payload = slack_payload(n)
    assert len(payload["blocks"][0]["text"]["text"]) == 150
    assert "a&lt;b&gt;&amp;c" in _fields(payload)["Resource"]
    assert "<b>" not in payload["text"]
