"""The contract every built-in executor keeps: a dry-run plan names its steps and executes
nothing (no call to the cloud, no POST, no message), and plans carry the request unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from opsgraph.act.executors import ActionRequest, Executor, ExecutorContext, build_executors
from opsgraph.act.settings import ExecutorConfig
from opsgraph.core.models import Resource, ResourceKind

REQUESTS = {
    "sim": ActionRequest(action="scale_out", target="grp", params={"count": 1}, key="k"),
    "webhook": ActionRequest(
        action="webhook", target="i1", params={"url": "http://127.0.0.1:9/never"}, key="k"
    ),
    "notify": ActionRequest(action="notify", target="i1", params={"message": "m"}, key="k"),
    "aws": ActionRequest(action="reboot_instance", target="i-1", params={}, key="k"),
}


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Executor], list[str]]:
    calls: list[str] = []

    def apply(kind: str, node: str, params: dict[str, Any]) -> dict[str, Any]:
        calls.append(f"sim {kind}")
        return {"ok": True}

    def no_clients(service: str, region: str) -> Any:
        calls.append(f"aws {service}")
        raise AssertionError("a dry run must not call AWS")

    monkeypatch.setattr("opsgraph.sources.aws.boto3_clients", lambda **_kw: no_clients)
    context = ExecutorContext(
        apply,
        lambda t, _d: calls.append(f"publish {t}"),
        resources=lambda: {"i-1": Resource(id="i-1", kind=ResourceKind.EC2)},
    )
    executors = build_executors({"aws": ExecutorConfig(type="aws")}, context)
    return executors, calls


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_dry_run_executes_nothing(name: str, built: tuple[dict[str, Executor], list[str]]) -> None:
    executors, calls = built
    executor = executors[name]
    assert isinstance(executor, Executor) and executor.name == name
    request = REQUESTS[name]
    plan = executor.plan(request)
    assert plan.dry_run and plan.executor == name and plan.request == request
    assert plan.steps
    result = executor.execute(plan)
    assert result.ok and result.dry_run and result.message.startswith("dry run: ")
    assert calls == []
