"""E-mail over SMTP against a local aiosmtpd server: plain, STARTTLS with login, implicit TLS;
recipients, subject and both bodies; temporary and permanent refusals."""

from __future__ import annotations

import asyncio
import email
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from opsgraph.notify.base import DeliveryError, Notification
from opsgraph.notify.email import EmailNotifier
from opsgraph.notify.settings import EmailReceiver

from .conftest import Certificate


@dataclass
class Inbox:
    """What the SMTP server accepted, and a scripted reply to the next DATA."""

    port: int = 0
    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.replies:
            return self.replies.pop(0)
        assert isinstance(envelope.content, bytes)
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope, parsed))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"ops", b"pw")
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(certificate: Certificate) -> Iterator[Callable[..., Inbox]]:
    """Starts an aiosmtpd server per call: mode 'plain', 'starttls' (login required) or 'ssl'."""
    import ssl

    controllers: list[Controller] = []

    def start(mode: str = "plain") -> Inbox:
        inbox = Inbox(port=_free_port())
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate.cert, certificate.key)
        kwargs: dict[str, Any] = {}
        if mode == "starttls":
            kwargs = {
                "tls_context": context,
                "require_starttls": True,
                "authenticator": inbox.authenticate,
                "auth_required": True,
            }
        elif mode == "ssl":
            kwargs = {"ssl_context": context}
        controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port, **kwargs)
        controller.start()
        controllers.append(controller)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


def _receiver(inbox: Inbox, certificate: Certificate, **extra: Any) -> EmailReceiver:
    settings: dict[str, Any] = {
        "name": "mail",
        "host": "127.0.0.1",
        "port": inbox.port,
        "security": "none",
        "sender": "opsgraph <opsgraph@example.com>",
        "to": ["oncall@example.com", "Team Lead <lead@example.com>"],
        "ca_file": certificate.cert,
        "timeout_s": 10,
        **extra,
    }
    return EmailReceiver(**settings)


def test_plain_smtp_delivers_text_and_html(
    smtp_server: Callable[..., Inbox],
    certificate: Certificate,
    make_notification: Callable[..., Notification],
) -> None:
    inbox = smtp_server("plain")
    asyncio.run(EmailNotifier(_receiver(inbox, certificate)).send(make_notification()))
    ((envelope, message),) = inbox.messages
    assert envelope.mail_from == "opsgraph@example.com"
    assert envelope.rcpt_tos == ["oncall@example.com", "lead@example.com"]
    assert message["Subject"] == "[opsgraph] [FIRING] critical: latency_ms anomaly on db-1"
    assert message["To"] == "oncall@example.com, Team Lead <lead@example.com>"
    assert len(message["X-Opsgraph-Fingerprint"]) == 16
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    plain = text.get_content()
    assert "latency_ms on db-1 is 950 (expected 120)" in plain
    assert "Open in opsgraph: http://ops.example:8000/#resource=db-1" in plain
    markup = html.get_content()
    assert "<h2" in markup and "950 vs 120" in markup
    assert 'href="http://ops.example:8000/#resource=db-1"' in markup


def test_starttls_with_login(
    smtp_server: Callable[..., Inbox],
    certificate: Certificate,
    make_notification: Callable[..., Notification],
) -> None:
    inbox = smtp_server("starttls")
    settings = _receiver(inbox, certificate, security="starttls", username="ops", password="pw")
    asyncio.run(EmailNotifier(settings).send(make_notification()))
    assert inbox.logins == ["ops"] and len(inbox.messages) == 1


def test_wrong_password_is_final(
    smtp_server: Callable[..., Inbox],
    certificate: Certificate,
    make_notification: Callable[..., Notification],
) -> None:
    inbox = smtp_server("starttls")
    settings = _receiver(inbox, certificate, security="starttls", username="ops", password="no")
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(EmailNotifier(settings).send(make_notification()))
    assert not caught.value.retryable and "535" in str(caught.value)
    assert inbox.messages == []


def test_implicit_tls(
    smtp_server: Callable[..., Inbox],
    certificate: Certificate,
    make_notification: Callable[..., Notification],
) -> None:
    inbox = smtp_server("ssl")
    settings = _receiver(inbox, certificate, security="ssl")
    asyncio.run(EmailNotifier(settings).send(make_notification("anomaly:resolved")))
    ((_, message),) = inbox.messages
    assert message["Subject"].startswith("[opsgraph] [RESOLVED] critical:")


def test_untrusted_certificate_is_a_final_failure(
    smtp_server: Callable[..., Inbox],
    certificate: Certificate,
    make_notification: Callable[..., Notification],
) -> None:
    inbox = smtp_server("ssl")
    settings = _receiver(inbox, certificate, security="ssl", ca_file=None)
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(EmailNotifier(settings).send(make_notification()))
    assert not caught.value.retryable and "TLS" in str(caught.value)


def test_temporary_refusal_is_retryable_and_permanent_is_not(
    smtp_server: Callable[..., Inbox],
    certificate: Certificate,
    make_notification: Callable[..., Notification],
) -> None:
    inbox = smtp_server("plain")
    inbox.replies[:] = ["451 4.3.0 try again later", "554 5.7.1 rejected"]
    notifier = EmailNotifier(_receiver(inbox, certificate))
    verdicts = []
    for _ in range(2):
        with pytest.raises(DeliveryError) as caught:
            asyncio.run(notifier.send(make_notification()))
        verdicts.append(caught.value.retryable)
    assert verdicts == [True, False]


def test_addresses_are_validated() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="to"):
        EmailReceiver(name="m", host="h", sender="a@b.c", to=["not an address"])
    with pytest.raises(ValidationError, match="username and password go together"):
        EmailReceiver(name="m", host="h", sender="a@b.c", to=["x@y.z"], username="u")
