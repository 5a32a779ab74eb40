"""The server `opsgraph bench api` measures: `opsgraph serve` in a child process, no simulator.

SQLite in a temporary folder by default, or a fresh schema of a PostgreSQL server, dropped after.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from opsgraph.core.errors import InvalidInputError


@dataclass
class Server:
    url: str
    store_url: str
    connect_args: dict[str, Any]
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def _store(url: str | None, tmp: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The server's store URL: a fresh SQLite file, or a fresh schema of the PostgreSQL given."""
    if url is None:
        yield f"sqlite:///{tmp / 'bench.db'}", {}
        return
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInputError("store_url", "must be a PostgreSQL URL (SQLite is the default)")
    schema = f"og_bench_api_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        search_path = f"-csearch_path={schema}"
        server_url = parsed.update_query_dict({"options": search_path})
        yield server_url.render_as_string(hide_password=False), {"options": search_path}
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def api_server(store_url: str | None) -> Iterator[Server]:
    """`opsgraph serve` without the simulator, on a free port; stopped (SIGTERM) at exit."""
    with tempfile.TemporaryDirectory(prefix="opsgraph-bench-api-") as tmp_name:
        tmp = Path(tmp_name)
        with _store(store_url, tmp) as (url, connect_args):
            env = {
                "OPSGRAPH_STORE__URL": url,
                "OPSGRAPH_SIM__ENABLED": "false",
                "OPSGRAPH_GNN__BOOTSTRAP": "false",
                # The bench measures the data path; credentials are checked per request apart.
                "OPSGRAPH_AUTH__ENABLED": "false",
                "OPSGRAPH_DATA_DIR": str(tmp / "data"),
            }
            with opsgraph_process(["serve"], env, tmp, signal.SIGTERM) as server:
                yield Server(server.url, url, connect_args, server.log)


@contextlib.contextmanager
def opsgraph_process(
    args: list[str],
    env: dict[str, str],
    folder: Path,
    stop_signal: signal.Signals,
    *,
    timeout: float = 120,
) -> Iterator[Server]:
    """`python -m opsgraph ARGS --port P` in `folder` on a free port, its output in
    folder/server.log; waits for /health, and stops it with `stop_signal` at exit."""
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "opsgraph", *args, "--port", str(port)],
            cwd=folder,
            env=os.environ | env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", "", {}, log)
    try:
        wait_ready(server, process, timeout)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(stop_signal)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_ready(server: Server, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the server exited ({process.returncode}):\n{server.log.read_text()}"
            )
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {timeout} s:\n{server.log.read_text()}")
