"""The generic webhook: POSTs opsgraph's own notification JSON (labels, annotations, the anomaly
or incident itself) for receivers that want every field.
"""

from __future__ import annotations

from typing import Any

import httpx

from opsgraph.notify.base import Notification
from opsgraph.notify.http import post_json
from opsgraph.notify.settings import WebhookReceiver

#: Version of the JSON below; a change that breaks readers gets a new one.
PAYLOAD_VERSION = "1"


def webhook_payload(notification: Notification, receiver: str) -> dict[str, Any]:
    return {"version": PAYLOAD_VERSION, "receiver": receiver, **notification.as_json()}


class WebhookNotifier:
    def __init__(
        self, settings: WebhookReceiver, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self.transport = transport

    async def send(self, notification: Notification) -> None:
        await post_json(
            self.settings, webhook_payload(notification, self.name), transport=self.transport
        )
