"""Tests of the executors: the simulated cloud (plan, dry-run, closed loop through its action
kinds) and the HTTP webhook executor against a local HTTP server; plug-in discovery."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from opsgraph.act import executors as ex
from opsgraph.act.executors import (
    ActionRequest,
    ExecutorContext,
    SimExecutor,
    WebhookExecutor,
    build_executors,
)
from opsgraph.act.settings import ExecutorConfig
from opsgraph.core.errors import ConfigError, InvalidInputError


class Server:
    """A local HTTP server that records POSTs and answers with `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.httpd.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    thread.join()


def test_webhook_posts_the_action_with_its_idempotency_key(server: Server) -> None:
    executor = WebhookExecutor(headers={"X-Token": "t"})
    request = ActionRequest(
        action="webhook",
        target="i1",
        params={"url": f"{server.url}/hooks/run", "payload": {"job": "restart"}},
        key="k-1",
        reason="incident #3",
    )
    plan = executor.plan(request, dry_run=False)
    assert plan.steps == [f"POST {server.url}/hooks/run webhook on i1"]
    result = executor.execute(plan)
    assert (result.ok, result.message) == (True, "HTTP 200")
    ((path, headers, body),) = server.requests
    assert path == "/hooks/run"
    assert headers["Idempotency-Key"] == "k-1" and headers["X-Token"] == "t"
    assert body == {
        "action": "webhook",
        "target": "i1",
        "params": {},
        "key": "k-1",
        "reason": "incident #3",
        "job": "restart",
    }


def test_webhook_dry_run_sends_nothing_and_errors_are_reported(server: Server) -> None:
    executor = WebhookExecutor(f"{server.url}/x")
    request = ActionRequest(action="restart_service", target="i1", key="k")
    assert executor.execute(executor.plan(request)).dry_run
    assert server.requests == []
    server.status = 503
    failed = executor.execute(executor.plan(request, dry_run=False))
    assert (failed.ok, failed.details["status"]) == (False, 503)
    with pytest.raises(InvalidInputError, match="needs a url"):
        WebhookExecutor().plan(request)


def test_sim_executor_plans_and_applies_simulator_actions() -> None:
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def apply(kind: str, node: str, params: dict[str, Any]) -> dict[str, Any]:
        calls.append((kind, node, params))
        return {"ok": True, "message": f"{kind} of {node} done"}

    executor = SimExecutor(apply)
    request = ActionRequest(action="scale_out", target="asg-1", params={"count": 2})
    plan = executor.plan(request)
    assert plan.steps == ["sim scale_out asg-1 {'count': 2}"]
    assert plan.reversible and plan.reverse is not None and plan.reverse.action == "scale_in"
    assert executor.execute(plan).dry_run and calls == []
    done = executor.execute(executor.plan(request, dry_run=False))
    assert done.ok and calls == [("scale_out", "asg-1", {"count": 2})]
    reboot = ActionRequest(action="reboot_instance", target="i1")
    executor.execute(executor.plan(reboot, dry_run=False))
    assert calls[-1] == ("restart", "i1", {})
    with pytest.raises(InvalidInputError, match="cannot lambda_throttle"):
        executor.plan(ActionRequest(action="lambda_throttle", target="f", params={}))
    stopped = SimExecutor(None).execute(SimExecutor(None).plan(reboot, dry_run=False))
    assert not stopped.ok


class PluginExecutor:
    name = "plugin"

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def plan(self, request: ActionRequest, *, dry_run: bool = True) -> ex.Plan:
        return ex.Plan(executor=self.name, request=request, dry_run=dry_run)

    def execute(self, plan: ex.Plan) -> ex.Result:
        return ex.Result(ok=True, message="plugin")


class _EntryPoint:
    name = "acme"

    def load(self) -> Any:
        return lambda _ctx, opts: PluginExecutor(opts)


def test_configured_and_plugin_executors_are_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        ex, "entry_points", lambda group: [_EntryPoint()] if group == ex.ENTRY_POINT_GROUP else []
    )
    context = ExecutorContext(apply_sim_action=None, publish=lambda _t, _d: None)
    built = build_executors(
        {
            "rundeck": ExecutorConfig(type="webhook", options={"url": "http://127.0.0.1:9/x"}),
            "custom": ExecutorConfig(type="acme", options={"region": "eu"}),
        },
        context,
    )
    assert set(built) == {"sim", "webhook", "notify", "rundeck", "custom"}
    custom = built["custom"]
    assert isinstance(custom, PluginExecutor) and custom.options == {"region": "eu"}
    with pytest.raises(ConfigError, match=r"automation\.executors\.bad\.type"):
        build_executors({"bad": ExecutorConfig(type="nope")}, context)


def test_notify_executor_publishes_an_automation_message() -> None:
    seen: list[tuple[str, Any]] = []
    built = build_executors({}, ExecutorContext(None, lambda t, d: seen.append((t, d))))
    notify = built["notify"]
    request = ActionRequest(action="notify", target="db", params={"message": "failing over"})
    assert notify.execute(notify.plan(request, dry_run=False)).ok
    assert seen == [
        (
            "automation:log",
            {"event": "notify", "target": "db", "message": "failing over", "key": ""},
        )
    ]
