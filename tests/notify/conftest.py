"""Fixtures for the notifier tests: a local HTTP server recording what it is sent (with scripted
answers), a self-signed TLS certificate, and notifications built from real anomaly messages."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from opsgraph.core.errors import NotFoundError
from opsgraph.core.models import Anomaly, AuditEvent, Resource, ResourceKind, Severity
from opsgraph.notify.base import Notification
from opsgraph.notify.convert import to_notification
from opsgraph.notify.hub import Message

RESOURCES = {
    "db-1": Resource(
        id="db-1",
        kind=ResourceKind.RDS,
        region="eu-west-1",
        tags={"team": "payments", "aws:cloudformation:stack-name": "shop", "9lives": "x"},
    ),
    "web-1": Resource(id="web-1", kind=ResourceKind.EC2, region="us-east-1"),
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class CaptureServer:
    """Records each POST; answers with the next of `answers` (200 once they run out)."""

    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


def _serve(tls: Certificate | None) -> Iterator[CaptureServer]:
    state = CaptureServer(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            with lock:
                state.received.append(Received(self.path, headers, json.loads(raw)))
                status = state.answers.pop(0) if state.answers else 200
            body = b'{"status": "ok"}' if status < 400 else b"upstream trouble"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls.cert, tls.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    state.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def capture() -> Iterator[CaptureServer]:
    yield from _serve(None)


@pytest.fixture
def tls_capture(certificate: Certificate) -> Iterator[CaptureServer]:
    """The same over HTTPS, with the test certificate."""
    yield from _serve(certificate)


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "opsgraph-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    paths = Certificate(folder / "cert.pem", folder / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def anomaly(**changes: Any) -> Anomaly:
    base: dict[str, Any] = {
        "id": 41,
        "resource_id": "db-1",
        "metric": "latency_ms",
        "detector": "robust_z",
        "start_ts": 1_700_000_000.0,
        "last_ts": 1_700_000_120.0,
        "score": 0.91,
        "max_score": 0.93,
        "severity": Severity.CRITICAL,
        "value": 950.0,
        "expected": 120.0,
        "incident_id": 7,
    }
    return Anomaly(**{**base, **changes})


def lookup(resource_id: str) -> Resource | None:
    return RESOURCES.get(resource_id)


def notification_of(type_: str, data: Anomaly | dict[str, Any]) -> Notification:
    payload = data.model_dump(mode="json") if isinstance(data, Anomaly) else data
    n = to_notification(Message(type_, payload), lookup=lookup, base_url="http://ops.example:8000")
    assert n is not None
    return n


@pytest.fixture
def make_notification() -> Callable[..., Notification]:
    """A notification of an anomaly message (anomaly:new unless told), fields changed by kwargs."""

    def make(type_: str = "anomaly:new", **changes: Any) -> Notification:
        return notification_of(type_, anomaly(**changes))

    return make


class AuditStore:
    """The store as the dispatcher sees it: an audit list and the test resources."""

    def __init__(self) -> None:
        self.audit: list[AuditEvent] = []

    def append_audit(self, event: AuditEvent) -> AuditEvent:
        self.audit.append(event)
        return event

    def get_resource(self, resource_id: str) -> Resource:
        if resource_id not in RESOURCES:
            raise NotFoundError("resource", resource_id)
        return RESOURCES[resource_id]
