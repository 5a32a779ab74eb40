"""Fixtures shared across the test packages: a local moto server standing in for AWS."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import httpx
import pytest
from moto.server import ThreadedMotoServer


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server on a free port with test credentials in the environment.

    moto keeps its backends in the process, so the state is reset before and after each
    module: no module sees what another created.
    """
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    httpx.post(f"{url}/moto-api/reset").raise_for_status()
    try:
        yield url
    finally:
        httpx.post(f"{url}/moto-api/reset").raise_for_status()
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
