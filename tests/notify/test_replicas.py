"""Two real `opsgraph serve` replicas sharing PostgreSQL and Redis act as one service.

An anomaly found on replica A reaches replica B's WebSocket clients and B's reads; a topology
registered on A is known to B.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from websockets.asyncio.client import ClientConnection, connect

PG_URL = os.environ.get("OPSGRAPH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("OPSGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

pytestmark = pytest.mark.postgres

TOPOLOGY = {
    "resources": [{"id": "web-1", "kind": "ec2"}, {"id": "db-1", "kind": "rds"}],
    "dependencies": [{"source": "web-1", "target": "db-1"}],
}


def _pg(sql: str) -> None:
    engine = create_engine(PG_URL, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"opsgraph_replicas_{uuid.uuid4().hex[:12]}"
    _pg(f'CREATE SCHEMA "{name}"')
    yield name
    _pg(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


class Replica:
    """One `opsgraph serve` process without the simulator."""

    def __init__(self, name: str, tmp: Path, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"{name}.log"
        (tmp / name).mkdir()
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "opsgraph", "serve", "--port", str(self.port)],
                cwd=tmp / name,  # no ./opsgraph.yaml from the checkout
                env={**env, "OPSGRAPH_DATA_DIR": str(tmp / name)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"replica exited {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"replica not ready after {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def replicas(
    schema: str, tmp_path: Path, quick_detect: dict[str, Any]
) -> Iterator[tuple[Replica, Replica]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSGRAPH_")}
    env |= {
        # Each replica's connections use the test's own schema.
        "OPSGRAPH_STORE__URL": f"{PG_URL}?options=-csearch_path%3D{schema}",
        "OPSGRAPH_SIM__ENABLED": "false",
        "OPSGRAPH_GNN__BOOTSTRAP": "false",
        "OPSGRAPH_AUTH__ENABLED": "false",
        "OPSGRAPH_EVENTS__REDIS_URL": REDIS_URL,
        "OPSGRAPH_EVENTS__CHANNEL": f"opsgraph:test:{uuid.uuid4().hex}",
        **{f"OPSGRAPH_DETECT__{k.upper()}": str(v) for k, v in quick_detect.items()},
    }
    a = Replica("a", tmp_path, env)
    b = Replica("b", tmp_path, env)
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()


async def _next_of(ws: ClientConnection, type_: str, timeout: float = 20.0) -> dict[str, Any]:
    """The next message of a type; the timeout only bounds a failing test."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == type_:
                data: dict[str, Any] = message["data"]
                return data


def _samples(resource: str, start: float, values: list[float]) -> list[dict[str, Any]]:
    return [
        {"resource_id": resource, "metric": "cpu", "ts": start + 60.0 * i, "value": v}
        for i, v in enumerate(values)
    ]


def test_an_anomaly_found_on_one_replica_reaches_the_other(
    replicas: tuple[Replica, Replica],
) -> None:
    a, b = replicas

    async def scenario() -> None:
        async with (
            httpx.AsyncClient(timeout=30) as http,
            connect(f"ws://127.0.0.1:{b.port}/ws") as ws,
        ):
            assert json.loads(await ws.recv())["type"] == "hello"
            # B relays A's topology event once its Redis subscription is up; until then, repeat
            # the (idempotent) registration.
            for _ in range(50):
                r = await http.post(f"{a.url}/resources", json=TOPOLOGY)
                assert r.status_code == 200, r.text
                try:
                    update = await _next_of(ws, "graph:update", timeout=0.5)
                except TimeoutError:
                    continue
                assert update["topology"] is True
                break
            else:
                pytest.fail("replica B never relayed A's graph:update")

            # B follows the topology registered on A (from the shared store).
            async with asyncio.timeout(20):
                while True:
                    ids = {r["id"] for r in (await http.get(f"{b.url}/resources")).json()}
                    if {"web-1", "db-1"} <= ids:
                        break
                    await asyncio.sleep(0.1)

            t0 = time.time() - 7200.0  # the door refuses samples far from now
            calm = [50.0 + 0.5 * (i % 5) for i in range(40)]
            r = await http.post(
                f"{a.url}/ingest/samples", json={"samples": _samples("web-1", t0, calm)}
            )
            assert r.status_code == 200, r.text
            assert r.json() == {"accepted": 40, "anomalies": []}
            spike = _samples("web-1", t0 + 60.0 * len(calm), [99.0, 99.5, 99.0])
            r = await http.post(f"{a.url}/ingest/samples", json={"samples": spike})
            assert r.status_code == 200, r.text
            opened = r.json()["anomalies"]
            assert [(x["resource_id"], x["metric"]) for x in opened] == [("web-1", "cpu")]
            anomaly_id = opened[0]["id"]

            seen = await _next_of(ws, "anomaly:new")
            assert seen["id"] == anomaly_id and seen["resource_id"] == "web-1"

            page = (await http.get(f"{b.url}/anomalies", params={"resource_id": "web-1"})).json()
            assert [x["id"] for x in page["items"]] == [anomaly_id]
            one = (await http.get(f"{b.url}/anomalies/{anomaly_id}")).json()
            assert one["metric"] == "cpu" and one["severity"] in ("high", "critical")
            # B's own pipeline takes samples for the resources A registered.
            r = await http.post(
                f"{b.url}/ingest/samples",
                json={"samples": _samples("db-1", t0, [1.0, 2.0])},
            )
            assert r.status_code == 200, r.text

    asyncio.run(scenario())
