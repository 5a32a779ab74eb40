"""`opsgraph bench ui`: how fast the dashboard draws a large estate in a real browser.

A demo of N resources runs in a child process; Debian's chromium (through Playwright, a test
dependency) logs in, opens the dashboard and reports the time to the first full draw of the
graph and the cost of one redraw (what panning and zooming pay per frame).
"""

from __future__ import annotations

import contextlib
import secrets
import signal
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from opsgraph.bench.api_server import Server, opsgraph_process
from opsgraph.core.errors import InvalidInputError

CHROMIUM = Path("/usr/bin/chromium")
#: Flags for a headless chromium that never reaches the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
READY = "() => Boolean(window.opsgraph && window.opsgraph.graphReady)"
#: One frame at 60 Hz: a redraw under this keeps panning and zooming smooth.
FRAME_MS = 1000 / 60


@contextlib.contextmanager
def demo_server(resources: int, password: str) -> Iterator[Server]:
    """`opsgraph demo` with `resources` nodes, no scheduled faults, stopped at exit."""
    with tempfile.TemporaryDirectory(prefix="opsgraph-bench-ui-") as tmp_name:
        tmp = Path(tmp_name)
        env = {
            "OPSGRAPH_DATA_DIR": str(tmp),
            "OPSGRAPH_AUTH__ADMIN_PASSWORD": password,
            "OPSGRAPH_GNN__BOOTSTRAP": "false",
        }
        args = ["demo", "--resources", str(resources), "--fault-every", "0"]
        with opsgraph_process(args, env, tmp, signal.SIGINT, timeout=300) as server:
            yield server


def run_ui_bench(*, resources: int = 2000, loads: int = 3, redraws: int = 30) -> dict[str, Any]:
    """Open the dashboard `loads` times on a fresh demo of `resources` nodes."""
    if not CHROMIUM.exists():
        raise InvalidInputError("chromium", f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise InvalidInputError(
            "playwright", "the UI bench needs Playwright: pip install -e '.[test]'"
        ) from exc
    password = secrets.token_urlsafe(12)
    first_draw: list[float] = []
    redraw: list[float] = []
    with demo_server(resources, password) as server, sync_playwright() as pw:
        nodes = len(_graph(server, password))
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                login = {"username": "admin", "password": password}
                context.request.post(f"{server.url}/auth/login", data=login).dispose()
                page = context.new_page()
                page.goto(server.url + "/")
                page.wait_for_function(READY, timeout=60_000)
                first_draw.append(float(page.evaluate("() => window.opsgraph.readyAt")))
                cost = page.evaluate(f"() => window.opsgraph.measureDraw({redraws})")
                redraw.append(float(cost["median"]))
                context.close()
        finally:
            browser.close()
    return {
        "benchmark": "ui",
        "resources": resources,
        "nodes": nodes,
        "loads": loads,
        "first_draw_ms": {"median": statistics.median(first_draw), "all": first_draw},
        "redraw_ms": {"median": statistics.median(redraw), "all": redraw},
        "targets": {"first_draw_ms": 1000, "redraw_ms": FRAME_MS},
    }


def _graph(server: Server, password: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        client.post(
            "/auth/login", json={"username": "admin", "password": password}
        ).raise_for_status()
        nodes: list[dict[str, Any]] = client.get("/graph").json()["nodes"]
        return nodes
