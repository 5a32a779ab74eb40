"""The AWS executor: catalog actions through boto3 — Auto Scaling desired capacity, EC2 reboot /
stop / start, SSM service restarts, RDS failover, Lambda reserved concurrency.

Targets are opsgraph resources found by AWS discovery (`sources/aws.py`): the resource's name
(or, for instances, its id) is the AWS identifier and its region the client's region.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from opsgraph.act.executors import ActionRequest, Plan, Result, reverse_of
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Resource, ResourceKind

ClientFactory = Callable[[str, str], Any]

#: What each action calls, as shown in plans.
CALLS = {
    "scale_out": "autoscaling:SetDesiredCapacity",
    "scale_in": "autoscaling:SetDesiredCapacity",
    "reboot_instance": "ec2:RebootInstances",
    "stop_instance": "ec2:StopInstances",
    "start_instance": "ec2:StartInstances",
    "restart_service": "ssm:SendCommand AWS-RunShellScript",
    "rds_failover": "rds:RebootDBInstance ForceFailover",
    "lambda_throttle": "lambda:PutFunctionConcurrency",
}


class AwsExecutor:
    """Acts on AWS; dry-run plans make no call at all."""

    name = "aws"

    def __init__(
        self,
        clients: ClientFactory,
        resources: Callable[[], dict[str, Resource]],
        *,
        region: str = "us-east-1",
    ) -> None:
        self._clients = clients
        self._resources = resources
        self.region = region
        #: The absolute capacity each scaling request settled on at its first attempt, so a
        #: retry (after a lost answer, say) sets the same number instead of adding again.
        self._targets: OrderedDict[tuple[str, str, str, int], int] = OrderedDict()

    def _where(self, target: str | None) -> tuple[str, str]:
        """(AWS identifier, region) of a target."""
        if target is None:
            raise InvalidInputError("target", "AWS actions need a target resource")
        resource = self._resources().get(target)
        if resource is None:
            return target, self.region
        ident = resource.id if resource.kind is ResourceKind.EC2 else resource.name or resource.id
        return ident, resource.region or self.region

    def plan(self, request: ActionRequest, *, dry_run: bool = True) -> Plan:
        call = CALLS.get(request.action)
        if call is None:
            raise InvalidInputError(
                "action", f"the AWS executor cannot {request.action}; it can {', '.join(CALLS)}"
            )
        if request.action == "restart_service" and not request.params.get("service"):
            raise InvalidInputError("params.service", "name the systemd unit to restart on AWS")
        ident, region = self._where(request.target)
        shown = {k: v for k, v in request.params.items() if k != "force"}
        reverse = reverse_of(request)
        return Plan(
            executor=self.name,
            request=request,
            dry_run=dry_run,
            steps=[f"{call} {ident} ({region})" + (f" {shown}" if shown else "")],
            reversible=reverse is not None,
            reverse=reverse,
        )

    def execute(self, plan: Plan) -> Result:
        if plan.dry_run:
            return Result(ok=True, dry_run=True, message="dry run: " + "; ".join(plan.steps))
        request = plan.request
        ident, region = self._where(request.target)
        action, params = request.action, request.params
        if action in ("scale_out", "scale_in"):
            delta = params["count"] * (1 if action == "scale_out" else -1)
            return self._scale(ident, region, delta, (request.key, action, ident, delta))
        if action in ("reboot_instance", "stop_instance", "start_instance"):
            ec2 = self._clients("ec2", region)
            verb = action.removesuffix("_instance")
            getattr(ec2, f"{verb}_instances")(InstanceIds=[ident])
            return Result(ok=True, message=f"{verb} of {ident} requested")
        if action == "restart_service":
            ssm = self._clients("ssm", region)
            service = str(params["service"])
            sent = ssm.send_command(
                InstanceIds=[ident],
                DocumentName="AWS-RunShellScript",
                Parameters={"commands": [f"systemctl restart {service}"]},
                Comment=(request.reason or "opsgraph remediation")[:100],
            )
            command_id = sent["Command"]["CommandId"]
            return Result(
                ok=True,
                message=f"restart of {service} on {ident} sent",
                details={"command_id": command_id},
            )
        if action == "rds_failover":
            rds = self._clients("rds", region)
            rds.reboot_db_instance(DBInstanceIdentifier=ident, ForceFailover=True)
            return Result(ok=True, message=f"failover of {ident} requested")
        return self._throttle(ident, region, params.get("reserved_concurrency"))

    def _scale(self, name: str, region: str, delta: int, pin: tuple[str, str, str, int]) -> Result:
        """Desired capacity set to an absolute number: before + delta, fixed at the first
        attempt of the request; a retry sets that number again (never before + 2 delta)."""
        autoscaling = self._clients("autoscaling", region)
        groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
        if not groups["AutoScalingGroups"]:
            return Result(ok=False, message=f"no Auto Scaling group {name!r} in {region}")
        group = groups["AutoScalingGroups"][0]
        before, low, high = group["DesiredCapacity"], group["MinSize"], group["MaxSize"]
        after = self._targets.get(pin)
        if after is None:
            after = before + delta
            self._targets[pin] = after
            while len(self._targets) > 1000:
                self._targets.popitem(last=False)
        details = {"desired_before": before, "desired_after": after, "min": low, "max": high}
        if before == after:  # a retry after an answer was lost: already done
            return Result(
                ok=True, message=f"{name} desired capacity already {after}", details=details
            )
        if not low <= after <= high:
            return Result(
                ok=False, message=f"{name}: {after} is outside [{low}, {high}]", details=details
            )
        autoscaling.set_desired_capacity(
            AutoScalingGroupName=name, DesiredCapacity=after, HonorCooldown=False
        )
        return Result(
            ok=True, message=f"{name} desired capacity {before} -> {after}", details=details
        )

    def _throttle(self, name: str, region: str, value: int | None) -> Result:
        client = self._clients("lambda", region)
        current = client.get_function_concurrency(FunctionName=name)
        previous = current.get("ReservedConcurrentExecutions")
        if value is None:
            client.delete_function_concurrency(FunctionName=name)
        else:
            client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=value)
        return Result(
            ok=True,
            message=f"{name} reserved concurrency {previous} -> {value}",
            details={"previous": previous, "reserved_concurrency": value},
        )


def aws_factory(context: Any, options: dict[str, Any]) -> AwsExecutor:
    """`automation.executors.<name>: {type: aws, options: {region, endpoint_url, profile}}`."""
    from opsgraph.sources.aws import boto3_clients

    clients = boto3_clients(
        endpoint_url=options.get("endpoint_url"), profile=options.get("profile")
    )
    return AwsExecutor(clients, context.resources, region=str(options.get("region", "us-east-1")))
