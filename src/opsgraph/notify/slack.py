"""Slack-compatible incoming webhooks (Mattermost and Rocket.Chat take the same JSON): a `text`
fallback plus blocks with severity, resource, metric, value against expected and a link.
"""

from __future__ import annotations

from typing import Any

import httpx

from opsgraph.notify.base import Notification, number
from opsgraph.notify.http import post_json
from opsgraph.notify.settings import SlackReceiver

# Block Kit limits: header text 150 characters, section text 3000, a field 2000, 10 fields.
_HEADER_MAX = 150
_TEXT_MAX = 3000
_FIELD_MAX = 2000


def escape(text: str) -> str:
    """Slack mrkdwn reserves &, < and >; everything else is shown as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def headline(n: Notification) -> str:
    return f"[{n.status.upper()}] {n.severity.value}: {n.title}"


def slack_payload(
    n: Notification, *, channel: str | None = None, username: str | None = None
) -> dict[str, Any]:
    fields = [("Severity", n.severity.value), ("Status", n.status)]
    if n.resource_id:
        fields.append(("Resource", n.resource_id))
    if n.metric:
        fields.append(("Metric", n.metric))
    if n.value is not None:
        fields.append(("Value vs expected", f"{number(n.value)} vs {number(n.expected)}"))
    if n.owner:
        fields.append(("Owner", n.owner))
    if "incident" in n.labels:
        fields.append(("Incident", n.labels["incident"]))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(headline(n), _HEADER_MAX)}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _clip(escape(n.summary), _TEXT_MAX)},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _clip(f"*{name}*\n{escape(value)}", _FIELD_MAX)}
                for name, value in fields[:10]
            ],
        },
    ]
    if n.link:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{n.link}|Open in opsgraph>"}],
            }
        )
    text = headline(n) + (f" — {n.link}" if n.link else "")
    payload: dict[str, Any] = {"text": _clip(escape(text), _TEXT_MAX), "blocks": blocks}
    if channel:
        payload["channel"] = channel
    if username:
        payload["username"] = username
    return payload


class SlackNotifier:
    """POSTs each notification to a Slack-compatible incoming webhook."""

    def __init__(
        self, settings: SlackReceiver, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self.transport = transport

    async def send(self, notification: Notification) -> None:
        payload = slack_payload(
            notification, channel=self.settings.channel, username=self.settings.username
        )
        await post_json(self.settings, payload, transport=self.transport)
