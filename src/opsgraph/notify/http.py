"""One JSON POST for the webhook-style notifiers, its failures sorted into retryable (timeouts,
refused connections, HTTP 5xx, 408, 429) and final (other 4xx, TLS).
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from opsgraph import __version__
from opsgraph.notify.base import DeliveryError
from opsgraph.notify.settings import AlertmanagerReceiver, SlackReceiver, WebhookReceiver

HttpReceiver = AlertmanagerReceiver | SlackReceiver | WebhookReceiver


def tls_verify(*, verify: bool, ca_file: str | None) -> ssl.SSLContext | bool:
    if not verify:
        return False
    return ssl.create_default_context(cafile=ca_file)


async def post_json(
    settings: HttpReceiver,
    payload: dict[str, Any],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """POST payload to the receiver's URL; raises DeliveryError unless it answers 2xx."""
    headers = {"User-Agent": f"opsgraph/{__version__}", **settings.headers}
    if settings.bearer_token is not None:
        headers["Authorization"] = f"Bearer {settings.bearer_token.get_secret_value()}"
    verify = tls_verify(
        verify=settings.verify_tls,
        ca_file=str(settings.ca_file) if settings.ca_file is not None else None,
    )
    url = str(settings.url)
    try:
        async with httpx.AsyncClient(
            timeout=settings.timeout_s, verify=verify, transport=transport
        ) as client:
            response = await client.post(url, json=payload, headers=headers)
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"POST {url} timed out ({type(exc).__name__})", retryable=True) from exc
    except httpx.TransportError as exc:
        # Refused or dropped connections are usually passing; a TLS failure will not heal itself.
        raise DeliveryError(f"POST {url} failed: {exc}", retryable=not _tls_failure(exc)) from exc
    if response.is_success:
        return
    body = response.text[:200].strip()
    status = response.status_code
    raise DeliveryError(
        f"POST {url} answered {status}" + (f": {body}" if body else ""),
        retryable=status >= 500 or status in (408, 429),
    )


def _tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ssl.SSLError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False
