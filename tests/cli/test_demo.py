"""`opsgraph demo` end to end: /health, a fault, its anomaly listed, a clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(predicate, timeout: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_demo_detects_its_first_fault_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "OPSGRAPH_DATA_DIR": str(tmp_path),
        "OPSGRAPH_DEMO__FIRST_FAULT_AFTER_S": "3",
        "OPSGRAPH_SIM__STEP_S": "60",
        "OPSGRAPH_AUTH__ADMIN_PASSWORD": "demo-test-admin",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "opsgraph",
            "demo",
            "--port",
            str(port),
            "--speed",
            "600",
            "--fault-every",
            "60",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    api = httpx.Client(base_url=base, timeout=10)
    try:
        _wait(lambda: api.get("/health").json()["status"] == "ok", 60)
        assert api.get("/sim/faults").status_code == 401  # the demo needs a login too
        login = {"username": "admin", "password": "demo-test-admin"}
        api.post("/auth/login", json=login).raise_for_status()  # the session cookie
        # The demo remediates with the shipped policy set (no policy_dir configured).
        names = {p["name"] for p in api.get("/automation/policies").json()}
        assert {"restart-saturated", "failover-data-tier"} <= names
        fault = _wait(lambda: api.get("/sim/faults").json(), 30)[0]

        def hit() -> list[dict[str, object]]:
            items = api.get("/anomalies", params={"limit": 500}).json()["items"]
            return [a for a in items if a["resource_id"] in fault["affected"]]

        assert _wait(hit, 30)
    finally:
        api.close()
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert f"http://127.0.0.1:{port}" in output and "stopped" in output
    assert "remediation policies:" in output
    assert "Traceback" not in output
