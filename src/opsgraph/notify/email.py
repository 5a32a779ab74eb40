"""E-mail over SMTP: plain-text and HTML bodies sent with smtplib in a worker thread, with
STARTTLS, implicit TLS and login as configured.
"""

from __future__ import annotations

import asyncio
import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from opsgraph.notify.base import DeliveryError, Notification, number, rfc3339
from opsgraph.notify.settings import EmailReceiver

_COLOURS = {"critical": "#b3261e", "high": "#d9730d", "medium": "#b58900", "low": "#5f6b7a"}


def subject(n: Notification, prefix: str) -> str:
    text = f"[{n.status.upper()}] {n.severity.value}: {n.title}"
    # Headers must stay on one line whatever the title holds.
    text = " ".join(text.split())
    return f"{prefix} {text}" if prefix else text


def _rows(n: Notification) -> list[tuple[str, str]]:
    rows = [("Status", n.status), ("Severity", n.severity.value)]
    if n.resource_id:
        rows.append(("Resource", n.resource_id))
    if n.metric:
        rows.append(("Metric", n.metric))
    if n.value is not None:
        rows.append(("Value vs expected", f"{number(n.value)} vs {number(n.expected)}"))
    if n.owner:
        rows.append(("Owner", n.owner))
    if "incident" in n.labels:
        rows.append(("Incident", n.labels["incident"]))
    rows.append(("Started", rfc3339(n.starts_at)))
    if n.ends_at is not None:
        rows.append(("Ended", rfc3339(n.ends_at)))
    rows.append(("Fingerprint", n.fingerprint))
    return rows


def plain_body(n: Notification) -> str:
    width = max(len(k) for k, _ in _rows(n))
    lines = [n.title, "", n.summary, ""]
    lines += [f"{k.ljust(width)}  {v}" for k, v in _rows(n)]
    if n.link:
        lines += ["", f"Open in opsgraph: {n.link}"]
    return "\n".join(lines) + "\n"


def html_body(n: Notification) -> str:
    e = html.escape
    colour = _COLOURS.get(n.severity.value, "#5f6b7a")
    rows = "".join(
        f'<tr><th align="left" style="padding:2px 12px 2px 0">{e(k)}</th><td>{e(v)}</td></tr>'
        for k, v in _rows(n)
    )
    link = f'<p><a href="{e(n.link, quote=True)}">Open in opsgraph</a></p>' if n.link else ""
    return (
        '<!doctype html><html><body style="font-family:sans-serif">'
        f'<h2 style="color:{colour};margin:0 0 8px">{e(n.title)}</h2>'
        f"<p>{e(n.summary)}</p><table>{rows}</table>{link}</body></html>"
    )


def build_message(n: Notification, settings: EmailReceiver) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(n, settings.subject_prefix)
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(settings.sender)[1].rpartition("@")[2])
    # Lets mail filters thread or deduplicate the notifications of one alert.
    message["X-Opsgraph-Fingerprint"] = n.fingerprint
    message.set_content(plain_body(n))
    message.add_alternative(html_body(n), subtype="html")
    return message


def _tls_context(settings: EmailReceiver) -> ssl.SSLContext:
    context = ssl.create_default_context(
        cafile=str(settings.ca_file) if settings.ca_file is not None else None
    )
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def send_sync(message: EmailMessage, settings: EmailReceiver) -> None:
    """Deliver over SMTP now; raises DeliveryError (retryable for 4xx replies and lost
    connections, final for 5xx replies, refused login and TLS failures)."""
    where = f"SMTP {settings.host}:{settings.effective_port}"
    try:
        refused = _deliver(message, settings)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise DeliveryError(
            f"{where} refused every recipient: {exc.recipients}",
            retryable=all(400 <= c < 500 for c in codes),
        ) from exc
    except smtplib.SMTPResponseException as exc:
        reply = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        raise DeliveryError(
            f"{where} answered {exc.smtp_code}: {reply}", retryable=400 <= exc.smtp_code < 500
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"{where}: {exc}", retryable=False) from exc
    except ssl.SSLError as exc:
        raise DeliveryError(f"{where}: TLS failed: {exc}", retryable=False) from exc
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}", retryable=True) from exc
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"{where}: {exc}", retryable=False) from exc
    if refused:
        # The others have their copy: sending again would duplicate it.
        raise DeliveryError(f"{where} refused some recipients: {refused}", retryable=False)


def _deliver(message: EmailMessage, settings: EmailReceiver) -> dict[str, tuple[int, bytes]]:
    port = settings.effective_port
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.host, port, timeout=settings.timeout_s, context=_tls_context(settings)
        )
    else:
        smtp = smtplib.SMTP(settings.host, port, timeout=settings.timeout_s)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=_tls_context(settings))
        if settings.username is not None and settings.password is not None:
            smtp.login(settings.username, settings.password.get_secret_value())
        # The envelope takes bare addresses; the headers keep any display names.
        return smtp.send_message(
            message,
            from_addr=parseaddr(settings.sender)[1],
            to_addrs=[parseaddr(t)[1] for t in settings.to],
        )


class EmailNotifier:
    """Sends each notification as one e-mail to the configured recipients."""

    def __init__(self, settings: EmailReceiver) -> None:
        self.name = settings.name
        self.settings = settings

    async def send(self, notification: Notification) -> None:
        message = build_message(notification, self.settings)
        await asyncio.to_thread(send_sync, message, self.settings)
