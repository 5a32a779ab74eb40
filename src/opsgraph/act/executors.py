"""Executors carry actions out: `plan(request) -> Plan` says what would happen, and
`execute(plan) -> Result` does it (or, for a dry-run plan, only says so).

Built in: `sim` (the simulated cloud, closed loop), `webhook` (POSTs the action as JSON),
`notify` (an automation:log message for the notify routes) and `aws` (boto3, see act/aws.py).
Plug-ins register factories in the `opsgraph.executors` entry-point group:
`factory(context, options) -> Executor`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, Field

from opsgraph.act.actions import get_action
from opsgraph.act.settings import ExecutorConfig
from opsgraph.core.errors import ConfigError, InvalidInputError
from opsgraph.core.models import Resource

ENTRY_POINT_GROUP = "opsgraph.executors"


class ActionRequest(BaseModel):
    """One action on one target, as a policy or an operator asks for it."""

    model_config = ConfigDict(extra="forbid")

    action: str
    target: str | None
    params: dict[str, Any] = Field(default_factory=dict)
    key: str = ""  # the idempotency key, passed on so outside systems can deduplicate too
    reason: str = ""


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    executor: str
    request: ActionRequest
    dry_run: bool = True
    steps: list[str] = Field(default_factory=list)
    reversible: bool = False
    reverse: ActionRequest | None = None


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    message: str
    dry_run: bool = False
    details: dict[str, Any] = Field(default_factory=dict)


@runtime_checkable
class Executor(Protocol):
    name: str

    def plan(self, request: ActionRequest, *, dry_run: bool = True) -> Plan: ...

    def execute(self, plan: Plan) -> Result: ...


def reverse_of(request: ActionRequest) -> ActionRequest | None:
    spec = get_action(request.action)
    if spec.reverse is None:
        return None
    return ActionRequest(
        action=spec.reverse,
        target=request.target,
        params=spec.reverse_params(request.params),
        key=f"{request.key}:reverse" if request.key else "",
        reason=f"roll back {request.action}",
    )


def _no_resources() -> dict[str, Resource]:
    return {}


@dataclass
class ExecutorContext:
    """What executors may use of the process: the simulator's action hook, the hub and the
    estate's resources (to map a target to its cloud identifier and region)."""

    apply_sim_action: Callable[[str, str, dict[str, Any]], dict[str, Any]] | None
    publish: Callable[[str, Any], None]
    resources: Callable[[], dict[str, Resource]] = _no_resources


#: Catalog actions the simulated cloud performs, and its own action kind for each.
SIM_KINDS = {
    "scale_out": "scale_out",
    "scale_in": "scale_in",
    "reboot_instance": "restart",
    "restart_service": "restart",
    "rds_failover": "failover",
    "rollback": "rollback",
}


class SimExecutor:
    """Acts on the simulated cloud: the effect shows in the metrics of later steps."""

    name = "sim"

    def __init__(self, apply: Callable[[str, str, dict[str, Any]], dict[str, Any]] | None) -> None:
        self._apply = apply

    def plan(self, request: ActionRequest, *, dry_run: bool = True) -> Plan:
        kind = SIM_KINDS.get(request.action)
        if kind is None:
            raise InvalidInputError(
                "action",
                f"the simulated cloud cannot {request.action}; it can {', '.join(SIM_KINDS)}",
            )
        if request.target is None:
            raise InvalidInputError("target", "the simulated cloud needs a target node")
        params = {"count": request.params["count"]} if "count" in request.params else {}
        step = f"sim {kind} {request.target}" + (f" {params}" if params else "")
        reverse = reverse_of(request)
        return Plan(
            executor=self.name,
            request=request,
            dry_run=dry_run,
            steps=[step],
            reversible=reverse is not None,
            reverse=reverse,
        )

    def execute(self, plan: Plan) -> Result:
        if plan.dry_run:
            return Result(ok=True, dry_run=True, message="dry run: " + "; ".join(plan.steps))
        if self._apply is None:
            return Result(ok=False, message="the simulated cloud is not running in this process")
        request = plan.request
        assert request.target is not None
        params = {"count": request.params["count"]} if "count" in request.params else {}
        outcome = self._apply(SIM_KINDS[request.action], request.target, params)
        return Result(
            ok=bool(outcome.get("ok")), message=str(outcome.get("message")), details=outcome
        )


class WebhookExecutor:
    """POSTs {action, target, params, key, reason} as JSON to a URL (the action's own `url`
    parameter, else the configured one); any 2xx answer is success."""

    name = "webhook"

    def __init__(
        self,
        url: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.headers = headers or {}
        self.timeout_s = timeout_s
        self._transport = transport

    def _url(self, request: ActionRequest) -> str:
        url = request.params.get("url") or self.url
        if not url:
            raise InvalidInputError("params.url", "the webhook executor needs a url")
        return str(url)

    def plan(self, request: ActionRequest, *, dry_run: bool = True) -> Plan:
        return Plan(
            executor=self.name,
            request=request,
            dry_run=dry_run,
            steps=[f"POST {self._url(request)} {request.action} on {request.target}"],
            reversible=False,
        )

    def execute(self, plan: Plan) -> Result:
        if plan.dry_run:
            return Result(ok=True, dry_run=True, message="dry run: " + "; ".join(plan.steps))
        request = plan.request
        body = {
            "action": request.action,
            "target": request.target,
            "params": {k: v for k, v in request.params.items() if k not in ("url", "payload")},
            "key": request.key,
            "reason": request.reason,
            **dict(request.params.get("payload") or {}),
        }
        headers = {"Idempotency-Key": request.key, **self.headers} if request.key else self.headers
        with httpx.Client(timeout=self.timeout_s, transport=self._transport) as client:
            response = client.post(self._url(request), json=body, headers=headers)
        ok = 200 <= response.status_code < 300
        return Result(
            ok=ok,
            message=f"HTTP {response.status_code}",
            details={"status": response.status_code, "body": response.text[:2000]},
        )


class NotifyExecutor:
    """Publishes an automation:log message; the notify routes matching it reach people."""

    name = "notify"

    def __init__(self, publish: Callable[[str, Any], None]) -> None:
        self._publish = publish

    def plan(self, request: ActionRequest, *, dry_run: bool = True) -> Plan:
        text = request.params.get("message") or request.reason
        return Plan(executor=self.name, request=request, dry_run=dry_run, steps=[f"notify: {text}"])

    def execute(self, plan: Plan) -> Result:
        if plan.dry_run:
            return Result(ok=True, dry_run=True, message="dry run: " + "; ".join(plan.steps))
        request = plan.request
        message = request.params.get("message") or request.reason
        self._publish(
            "automation:log",
            {"event": "notify", "target": request.target, "message": message, "key": request.key},
        )
        return Result(ok=True, message=f"notified: {message}")


Factory = Callable[[ExecutorContext, dict[str, Any]], Executor]


def sim_factory(context: ExecutorContext, _options: dict[str, Any]) -> SimExecutor:
    return SimExecutor(context.apply_sim_action)


def webhook_factory(_context: ExecutorContext, options: dict[str, Any]) -> WebhookExecutor:
    return WebhookExecutor(
        options.get("url"),
        headers=dict(options.get("headers") or {}),
        timeout_s=float(options.get("timeout_s", 10.0)),
    )


def notify_factory(context: ExecutorContext, _options: dict[str, Any]) -> NotifyExecutor:
    return NotifyExecutor(context.publish)


def _builtin(kind: str) -> Factory | None:
    if kind == "aws":  # boto3 is imported only when an AWS executor is configured
        from opsgraph.act.aws import aws_factory

        return aws_factory
    factories: dict[str, Factory] = {
        "sim": sim_factory,
        "webhook": webhook_factory,
        "notify": notify_factory,
    }
    return factories.get(kind)


def _plugin(kind: str) -> Factory | None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == kind:
            factory: Factory = ep.load()
            return factory
    return None


def build_executors(
    configs: dict[str, ExecutorConfig], context: ExecutorContext
) -> dict[str, Executor]:
    """The built-in executors under their own names, plus every configured one."""
    out: dict[str, Executor] = {}
    for name in ("sim", "webhook", "notify"):
        factory = _builtin(name)
        assert factory is not None
        out[name] = factory(context, {})
    for name, cfg in configs.items():
        factory = _builtin(cfg.type) or _plugin(cfg.type)
        if factory is None:
            raise ConfigError(
                f"automation.executors.{name}.type: unknown executor type {cfg.type!r} "
                f"(built in: sim, webhook, notify, aws; or an {ENTRY_POINT_GROUP} plug-in)"
            )
        executor = factory(context, dict(cfg.options))
        if not isinstance(executor, Executor):
            raise ConfigError(f"automation.executors.{name}: {cfg.type} is not an executor")
        out[name] = executor
    return out
