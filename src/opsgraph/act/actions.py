"""The catalog of remediation actions: each declares its parameter schema, the permissions it
needs, the resource kinds and states it may act on, how it is reversed, and an example.

Cloud Custodian style: a policy can only name an action from here, with parameters that pass its
schema, so a typo or a wrong type is refused when the policy is loaded, not at 3 a.m.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import ResourceKind

_K = ResourceKind
_COMPUTE = frozenset({_K.EC2, _K.LAMBDA, _K.K8S_POD, _K.GENERIC})
_ANY = frozenset(ResourceKind)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoParams(_Params):
    """No parameters."""


class ScaleParams(_Params):
    count: int = Field(default=1, ge=1, le=100, description="Members to add or remove.")


class RebootParams(_Params):
    force: bool = Field(default=False, description="Hard reboot when a clean one hangs.")


class ServiceParams(_Params):
    service: str = Field(default="", max_length=200, description="Unit to restart; '' = main.")


class FailoverParams(_Params):
    force: bool = Field(default=False, description="Fail over even if the standby lags.")


class ThrottleParams(_Params):
    reserved_concurrency: int | None = Field(
        ge=0, le=10_000, description="New reserved concurrency; null removes the reservation."
    )


class RollbackParams(_Params):
    version: str = Field(default="", max_length=200, description="Version; '' = last known-good.")


class NotifyParams(_Params):
    message: str = Field(default="", max_length=2000, description="Text for the receivers.")


class WebhookParams(_Params):
    url: AnyHttpUrl = Field(description="Where to POST the action (StackStorm, Rundeck...).")
    payload: dict[str, Any] = Field(default_factory=dict, description="Extra JSON fields.")


class RunbookStep(_Params):
    action: str = Field(min_length=1, description="A catalog action (not a runbook).")
    params: dict[str, Any] = Field(default_factory=dict)


class RunbookParams(_Params):
    steps: list[RunbookStep] = Field(min_length=1, max_length=20, description="In order.")
    stop_on_failure: bool = Field(default=True, description="Stop at the first failed step.")


@dataclass(frozen=True)
class ActionSpec:
    """One action of the catalog."""

    name: str
    description: str
    params: type[_Params]
    permissions: tuple[str, ...]
    kinds: frozenset[ResourceKind]
    #: Values of the resource's `attrs["state"]` it may act on (absent state: allowed).
    states: tuple[str, ...] = ()
    #: The action that undoes it, and how its parameters follow from this one's.
    reverse: str | None = None
    reverse_how: str = ""
    example: dict[str, Any] = field(default_factory=dict)
    risk: Literal["low", "medium", "high"] = "medium"

    @property
    def reversible(self) -> bool:
        return self.reverse is not None

    def validate(self, params: dict[str, Any], where: str = "params") -> dict[str, Any]:
        """The parameters checked against the schema (defaults filled in)."""
        try:
            model = self.params.model_validate(params)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            raise InvalidInputError(f"{where}.{loc}" if loc else where, err["msg"]) from exc
        return model.model_dump(mode="json")

    def reverse_params(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.name in ("scale_out", "scale_in"):
            return {"count": params.get("count", 1)}
        if self.name == "lambda_throttle":  # the executor reports the value it replaced
            return {"reserved_concurrency": params.get("previous")}
        return {}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params_schema": self.params.model_json_schema(),
            "permissions": list(self.permissions),
            "resource_kinds": sorted(k.value for k in self.kinds),
            "states": list(self.states),
            "reversible": self.reversible,
            "reverse": self.reverse,
            "reverse_how": self.reverse_how,
            "risk": self.risk,
            "example": self.example,
        }


def _spec(name: str, **kw: Any) -> ActionSpec:
    return ActionSpec(name=name, **kw)


CATALOG: dict[str, ActionSpec] = {
    s.name: s
    for s in (
        _spec(
            "scale_out",
            description="Raise an Auto Scaling group's (or k8s service's) desired capacity.",
            params=ScaleParams,
            permissions=("autoscaling:SetDesiredCapacity", "autoscaling:DescribeAutoScalingGroups"),
            kinds=frozenset({_K.ASG, _K.K8S_SERVICE}),
            reverse="scale_in",
            reverse_how="scale_in by the same count",
            example={"action": "scale_out", "target": "group", "params": {"count": 2}},
            risk="low",
        ),
        _spec(
            "scale_in",
            description="Lower a group's desired capacity (never below its minimum).",
            params=ScaleParams,
            permissions=("autoscaling:SetDesiredCapacity", "autoscaling:DescribeAutoScalingGroups"),
            kinds=frozenset({_K.ASG, _K.K8S_SERVICE}),
            reverse="scale_out",
            reverse_how="scale_out by the same count",
            example={"action": "scale_in", "target": "group", "params": {"count": 1}},
        ),
        _spec(
            "reboot_instance",
            description="Reboot an instance (clears leaks and hogs; the instance keeps its id).",
            params=RebootParams,
            permissions=("ec2:RebootInstances",),
            kinds=frozenset({_K.EC2, _K.GENERIC}),
            states=("running",),
            example={"action": "reboot_instance", "target": "root"},
        ),
        _spec(
            "stop_instance",
            description="Stop an instance (for example one that runs away with cost or errors).",
            params=NoParams,
            permissions=("ec2:StopInstances",),
            kinds=frozenset({_K.EC2}),
            states=("running",),
            reverse="start_instance",
            reverse_how="start_instance",
            example={"action": "stop_instance", "target": "root"},
            risk="high",
        ),
        _spec(
            "start_instance",
            description="Start a stopped instance.",
            params=NoParams,
            permissions=("ec2:StartInstances",),
            kinds=frozenset({_K.EC2}),
            states=("stopped",),
            reverse="stop_instance",
            reverse_how="stop_instance",
            example={"action": "start_instance", "target": "resource:i-0abc"},
            risk="low",
        ),
        _spec(
            "restart_service",
            description="Restart the service process on a compute resource.",
            params=ServiceParams,
            permissions=("ssm:SendCommand",),
            kinds=_COMPUTE,
            states=("running",),
            example={"action": "restart_service", "target": "root", "params": {"service": ""}},
        ),
        _spec(
            "rds_failover",
            description="Fail a Multi-AZ database (or cache) over to its standby.",
            params=FailoverParams,
            permissions=("rds:RebootDBInstance", "rds:FailoverDBCluster"),
            kinds=frozenset({_K.RDS, _K.CACHE}),
            states=("available",),
            example={"action": "rds_failover", "target": "root"},
            risk="high",
        ),
        _spec(
            "lambda_throttle",
            description="Set a function's reserved concurrency (0 stops it being invoked).",
            params=ThrottleParams,
            permissions=("lambda:PutFunctionConcurrency", "lambda:GetFunctionConcurrency"),
            kinds=frozenset({_K.LAMBDA}),
            reverse="lambda_throttle",
            reverse_how="lambda_throttle back to the concurrency read before the change",
            example={
                "action": "lambda_throttle",
                "target": "root",
                "params": {"reserved_concurrency": 5},
            },
        ),
        _spec(
            "rollback",
            description="Roll the resource's configuration back to the last known-good one.",
            params=RollbackParams,
            permissions=("deploy:Rollback",),
            kinds=_COMPUTE | {_K.ELB},
            example={"action": "rollback", "target": "root", "params": {"version": ""}},
        ),
        _spec(
            "notify",
            description="Tell people (the notify routes that match automation:log).",
            params=NotifyParams,
            permissions=(),
            kinds=_ANY,
            example={"action": "notify", "params": {"message": "db failing over"}},
            risk="low",
        ),
        _spec(
            "webhook",
            description="POST the action to an outside system (StackStorm, Rundeck, ...).",
            params=WebhookParams,
            permissions=("network:egress",),
            kinds=_ANY,
            example={"action": "webhook", "params": {"url": "https://rundeck.example/hook"}},
        ),
        _spec(
            "runbook",
            description="An ordered list of actions; by default it stops at the first failure.",
            params=RunbookParams,
            permissions=(),
            kinds=_ANY,
            example={
                "action": "runbook",
                "target": "root",
                "params": {
                    "steps": [
                        {"action": "notify", "params": {"message": "restarting"}},
                        {"action": "restart_service"},
                    ]
                },
            },
        ),
    )
}


def get_action(name: str, where: str = "action") -> ActionSpec:
    spec = CATALOG.get(name)
    if spec is None:
        raise InvalidInputError(where, f"unknown action {name!r}; known: {', '.join(CATALOG)}")
    return spec


def validate_action(name: str, params: dict[str, Any], where: str = "action") -> dict[str, Any]:
    """Check an action name and its parameters; runbook steps are checked one by one."""
    spec = get_action(name, where)
    base = "params" if where == "action" else f"{where}.params"
    clean = spec.validate(params, base)
    if spec.name == "runbook":
        for i, step in enumerate(clean["steps"]):
            step_where = f"{base}.steps[{i}]"
            if step["action"] == "runbook":
                raise InvalidInputError(f"{step_where}.action", "a runbook cannot hold a runbook")
            step["params"] = validate_action(step["action"], step["params"], step_where)
    return clean
