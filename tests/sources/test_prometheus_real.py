"""opsgraph with a real Prometheus (/usr/bin/prometheus): Prometheus scrapes a test target and
remote-writes to opsgraph, opsgraph polls it with query_range, and Prometheus scrapes
opsgraph's /metrics, whose anomaly scores and the Grafana dashboard's queries it then answers."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
import yaml
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from opsgraph.api import create_app
from opsgraph.auth import Principal
from opsgraph.core.auth import Role
from opsgraph.core.errors import NotFoundError
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings
from opsgraph.sources.prometheus import RemoteWriteReceiver

PROMETHEUS = "/usr/bin/prometheus"
DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "opsgraph-dashboard.json"
DEADLINE_S = 90.0
T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], T | None], diagnose: Callable[[], str]) -> T:
    """Poll `check` until it returns something truthy; fail naming what never happened."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"after {DEADLINE_S:.0f} s: {what}\n{diagnose()}")
        time.sleep(0.25)


@dataclass
class Stack:
    runtime: Runtime
    receiver: Callable[[], RemoteWriteReceiver | None]
    target: str  # the scraped target's instance label, e.g. 127.0.0.1:PORT
    prometheus: str  # base URL
    log: Path
    gauges: CollectorRegistry
    stop_target: Callable[[], None]

    def diagnose(self) -> str:
        return "prometheus log (tail):\n" + "\n".join(self.log.read_text().splitlines()[-25:])

    def query(self, expr: str) -> dict[str, Any]:
        response = httpx.get(f"{self.prometheus}/api/v1/query", params={"query": expr}, timeout=10)
        body: dict[str, Any] = response.json()
        return body

    def stored(self, metric: str) -> list[float]:
        try:
            series = self.runtime.store.read_samples(self.target, metrics=[metric])
        except NotFoundError:
            return []
        return series.get(metric, ([], []))[1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("prometheus-real")
    target_port, opsgraph_port, prometheus_port = _free_port(), _free_port(), _free_port()

    # A scrape target exposing a few gauges.
    gauges = CollectorRegistry()
    Gauge("test_cpu_ratio", "CPU in use.", registry=gauges).set(0.42)
    depth = Gauge("test_queue_depth", "Messages waiting.", ["queue"], registry=gauges)
    depth.labels("orders").set(7)
    target_server, target_thread = start_http_server(target_port, addr="127.0.0.1", registry=gauges)
    target_up = [True]

    def stop_target() -> None:
        if target_up[0]:
            target_up[0] = False
            target_server.shutdown()
            target_server.server_close()
            target_thread.join(timeout=10)

    prometheus = f"http://127.0.0.1:{prometheus_port}"
    settings = Settings(
        data_dir=tmp / "opsgraph",
        sim={"enabled": False},
        gnn={"bootstrap": False},
        sources={
            "prometheus": {
                "url": prometheus,
                "queries": [{"expr": "test_cpu_ratio", "metric": "polled_cpu_ratio"}],
                "step_s": 1,
                "interval_s": 1,
                "lookback_s": 60,
            }
        },
    )
    runtime = Runtime(settings)
    key, _ = runtime.auth.create_key(
        "prometheus", Role.OPERATOR, by=Principal("admin", Role.ADMIN, "user", None)
    )
    app = create_app(runtime)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=opsgraph_port, log_level="warning", ws="none", http="h11"
        )
    )
    server_thread = threading.Thread(target=server.run, name="opsgraph-api", daemon=True)
    server_thread.start()

    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [
            {"job_name": "target", "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}]},
            {
                "job_name": "opsgraph",
                "static_configs": [{"targets": [f"127.0.0.1:{opsgraph_port}"]}],
            },
        ],
        "remote_write": [
            {
                "url": f"http://127.0.0.1:{opsgraph_port}/api/v1/write",
                "authorization": {"type": "Bearer", "credentials": key},
                # opsgraph's own metrics stay in Prometheus: writing them back would loop.
                "write_relabel_configs": [
                    {"source_labels": ["__name__"], "regex": "opsgraph_.*", "action": "drop"}
                ],
                "queue_config": {
                    "batch_send_deadline": "1s",
                    "min_backoff": "100ms",
                    "max_backoff": "1s",
                },
            }
        ],
    }
    config_file = tmp / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    log = tmp / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prometheus_port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    stack = Stack(
        runtime=runtime,
        receiver=lambda: getattr(app.state, "prometheus_receiver", None),
        target=f"127.0.0.1:{target_port}",
        prometheus=prometheus,
        log=log,
        gauges=gauges,
        stop_target=stop_target,
    )
    try:

        def ready() -> bool:
            if process.poll() is not None:
                pytest.fail(f"prometheus exited with {process.returncode}\n{stack.diagnose()}")
            try:
                return httpx.get(f"{prometheus}/-/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("Prometheus is ready", ready, stack.diagnose)
        wait_for("opsgraph serves", lambda: server.started, stack.diagnose)
        yield stack
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        server.should_exit = True
        server_thread.join(timeout=30)
        stop_target()
        runtime.close()


def test_remote_write_stores_the_scraped_series_under_the_target(stack: Stack) -> None:
    values = wait_for(
        "opsgraph stores test_cpu_ratio of the target from remote write",
        lambda: stack.stored("test_cpu_ratio"),
        stack.diagnose,
    )
    assert set(values) == {0.42}
    depth = wait_for(
        "opsgraph stores the labelled gauge",
        lambda: stack.stored("test_queue_depth.queue:orders"),
        stack.diagnose,
    )
    assert set(depth) == {7.0}
    resource = stack.runtime.estate.resources[stack.target]
    assert (resource.provider, resource.tags) == ("prometheus", {"job": "target"})
    receiver = stack.receiver()
    assert receiver is not None
    # The request is counted once its samples are stored, so the count can trail the store.
    wait_for(
        "the receiver counts an ok request",
        lambda: receiver.stats.snapshot().requests.get("ok", 0),
        stack.diagnose,
    )
    # Everything real Prometheus sent decoded: no request was refused.
    assert set(receiver.stats.snapshot().requests) == {"ok"}


def test_the_poller_pulls_the_same_series_with_query_range(stack: Stack) -> None:
    values = wait_for(
        "the query_range poller stores polled_cpu_ratio",
        lambda: stack.stored("polled_cpu_ratio"),
        stack.diagnose,
    )
    assert set(values) == {0.42}
    stamps = stack.runtime.store.read_samples(stack.target, metrics=["polled_cpu_ratio"])
    ts = stamps["polled_cpu_ratio"][0]
    assert len(ts) == len(set(ts))  # the cursor never asks for a step twice


def test_prometheus_scrapes_the_anomaly_scores_from_metrics(stack: Stack) -> None:
    expr = f'opsgraph_anomaly_score{{resource="{stack.target}", metric="test_cpu_ratio"}}'

    def scraped() -> list[dict[str, Any]] | None:
        answer = stack.query(expr)
        result: list[dict[str, Any]] = answer.get("data", {}).get("result", [])
        return result

    [series] = wait_for(f"Prometheus answers {expr}", scraped, stack.diagnose)
    assert series["metric"]["kind"] == "generic"
    assert series["metric"]["job"] == "opsgraph"
    assert 0.0 <= float(series["value"][1]) <= 1.0
    up = stack.query('up{job="opsgraph"}')["data"]["result"]
    assert [float(r["value"][1]) for r in up] == [1.0]
    # The poller's own health is scraped too: it reads points and no query fails.
    healthy = 'opsgraph_prometheus_poll_samples_total{outcome="accepted"} > 0'
    healthy += " and on() opsgraph_prometheus_poll_failing_queries == 0"
    wait_for(
        "Prometheus sees a healthy poller",
        lambda: stack.query(healthy)["data"]["result"],
        stack.diagnose,
    )


def test_every_dashboard_query_is_valid_promql_with_data(stack: Stack) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    wait_for(
        "Prometheus has scraped the remote-write counters",
        lambda: stack.query('opsgraph_remote_write_requests_total{outcome="ok"} > 0')["data"][
            "result"
        ],
        stack.diagnose,
    )
    substitutions = {"$__rate_interval": "1m", "$resource": ".*", "$kind": ".*"}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for name, value in substitutions.items():
                expr = expr.replace(name, value)
            answer = stack.query(expr)
            assert answer["status"] == "success", (panel["title"], expr, answer)
    # The core panels have data to show.
    for expr in ("opsgraph_resources", "sum by (severity) (opsgraph_anomalies_open)"):
        assert stack.query(expr)["data"]["result"], expr


def test_a_target_that_goes_away_sends_stale_markers_that_are_dropped(stack: Stack) -> None:
    wait_for(
        "remote write has started",
        lambda: stack.stored("test_cpu_ratio"),
        stack.diagnose,
    )
    stack.stop_target()

    def stale_counted() -> int:
        receiver = stack.receiver()
        return 0 if receiver is None else receiver.stats.snapshot().samples.get("stale", 0)

    wait_for("a staleness marker reaches opsgraph and is counted", stale_counted, stack.diagnose)
    # Nothing non-finite was stored: every stored value of the target is a real reading.
    assert set(stack.stored("test_cpu_ratio")) == {0.42}
