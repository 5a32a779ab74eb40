"""Alertmanager's webhook in: `POST /alerts/alertmanager` takes a webhook notification (version 4)
and opens, updates or closes one anomaly per alert fingerprint (docs/notifications.md).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from opsgraph.api.deps import RuntimeDep
from opsgraph.notify.alertmanager import WebhookMessage, to_external_alerts

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.post("/alertmanager", summary="Receive an Alertmanager webhook notification")
async def alertmanager_webhook(message: WebhookMessage, runtime: RuntimeDep) -> dict[str, Any]:
    """Each alert becomes an external alert: fingerprint from the alert, resource from the
    `resource`, `instance` or `job` label, metric from `alertname`, severity from `severity`
    (warning → medium, error → high, page → critical; default medium)."""
    alerts = to_external_alerts(message, now=time.time())
    # The runtime writes to the store: off the event loop.
    anomalies = await run_in_threadpool(runtime.intake.receive_alerts, alerts)
    return {
        "received": len(alerts),
        "anomalies": [a.model_dump(mode="json") for a in anomalies],
    }
