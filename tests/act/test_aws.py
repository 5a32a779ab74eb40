"""The AWS executor against a local moto server: Auto Scaling capacity (bounded), EC2 stop /
start / reboot, SSM restarts, RDS failover, Lambda reserved concurrency and its reversal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from opsgraph.act.aws import AwsExecutor
from opsgraph.act.executors import ActionRequest, ExecutorContext, build_executors
from opsgraph.act.settings import ExecutorConfig
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Resource, ResourceKind

REGION = "us-east-1"


@pytest.fixture(scope="module")
def estate(aws: Callable[[str], Any], lambda_zip: bytes) -> dict[str, Resource]:
    ec2 = aws("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro")
    instance_id = instance["Instances"][0]["InstanceId"]
    asg = aws("autoscaling")
    asg.create_launch_configuration(
        LaunchConfigurationName="web-lc", ImageId=image, InstanceType="t3.micro"
    )
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchConfigurationName="web-lc",
        MinSize=1,
        MaxSize=3,
        DesiredCapacity=1,
        VPCZoneIdentifier=subnet,
    )
    role = aws("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")
    aws("lambda").create_function(
        FunctionName="resize",
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": lambda_zip},
    )
    aws("rds").create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        AllocatedStorage=20,
        MasterUsername="app",
        MasterUserPassword="password123",
    )
    found = [
        Resource(id=instance_id, kind=ResourceKind.EC2, provider="aws", region=REGION),
        Resource(id="asg:web-asg", kind=ResourceKind.ASG, name="web-asg", region=REGION),
        Resource(id="lambda:resize", kind=ResourceKind.LAMBDA, name="resize", region=REGION),
        Resource(id="rds:orders", kind=ResourceKind.RDS, name="orders", region=REGION),
    ]
    return {r.id: r for r in found}


@pytest.fixture
def executor(moto_url: str, estate: dict[str, Resource]) -> AwsExecutor:
    context = ExecutorContext(None, lambda _t, _d: None, resources=lambda: estate)
    options = {"region": REGION, "endpoint_url": moto_url}
    built = build_executors({"aws": ExecutorConfig(type="aws", options=options)}, context)
    aws = built["aws"]
    assert isinstance(aws, AwsExecutor)
    return aws


def _run(executor: AwsExecutor, action: str, target: str, **params: Any) -> Any:
    request = ActionRequest(action=action, target=target, params=params, key="k")
    return executor.execute(executor.plan(request, dry_run=False))


def _desired(aws: Callable[[str], Any]) -> int:
    groups = aws("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["web-asg"])
    return int(groups["AutoScalingGroups"][0]["DesiredCapacity"])


def test_scaling_changes_desired_capacity_within_bounds(
    executor: AwsExecutor, aws: Callable[[str], Any]
) -> None:
    request = ActionRequest(action="scale_out", target="asg:web-asg", params={"count": 1})
    plan = executor.plan(request)
    assert plan.steps == ["autoscaling:SetDesiredCapacity web-asg (us-east-1) {'count': 1}"]
    assert executor.execute(plan).dry_run and _desired(aws) == 1
    done = _run(executor, "scale_out", "asg:web-asg", count=1)
    assert done.ok and done.details["desired_after"] == 2 and _desired(aws) == 2
    refused = _run(executor, "scale_out", "asg:web-asg", count=5)
    assert not refused.ok and refused.message == "web-asg: 7 is outside [1, 3]"
    assert _run(executor, "scale_in", "asg:web-asg", count=1).ok and _desired(aws) == 1


def test_instances_stop_start_reboot_and_restart_services(
    executor: AwsExecutor, aws: Callable[[str], Any], estate: dict[str, Resource]
) -> None:
    instance = next(r.id for r in estate.values() if r.kind is ResourceKind.EC2)
    ec2 = aws("ec2")

    def state() -> str:
        found = ec2.describe_instances(InstanceIds=[instance])
        return str(found["Reservations"][0]["Instances"][0]["State"]["Name"])

    assert _run(executor, "stop_instance", instance).ok and state() == "stopped"
    assert _run(executor, "start_instance", instance).ok and state() == "running"
    assert _run(executor, "reboot_instance", instance).ok
    sent = _run(executor, "restart_service", instance, service="nginx")
    assert sent.ok and sent.details["command_id"]
    with pytest.raises(InvalidInputError, match="systemd unit"):
        executor.plan(ActionRequest(action="restart_service", target=instance, params={}))


def test_rds_failover_and_lambda_throttle_with_its_reversal(
    executor: AwsExecutor, aws: Callable[[str], Any]
) -> None:
    assert _run(executor, "rds_failover", "rds:orders", force=False).ok
    lam = aws("lambda")
    throttled = _run(executor, "lambda_throttle", "lambda:resize", reserved_concurrency=2)
    assert throttled.ok and throttled.details["previous"] is None
    assert lam.get_function_concurrency(FunctionName="resize")["ReservedConcurrentExecutions"] == 2
    plan = executor.plan(
        ActionRequest(
            action="lambda_throttle", target="lambda:resize", params={"reserved_concurrency": 2}
        )
    )
    assert plan.reversible and plan.reverse is not None
    # The reversal restores what the throttle replaced: no reservation at all.
    assert _run(executor, "lambda_throttle", "lambda:resize", reserved_concurrency=None).ok
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="resize")
    with pytest.raises(InvalidInputError, match="cannot rollback"):
        executor.plan(ActionRequest(action="rollback", target="lambda:resize"))


def test_a_retry_after_a_lost_answer_does_not_scale_twice(
    moto_url: str, estate: dict[str, Resource], aws: Callable[[str], Any]
) -> None:
    """Desired capacity is an absolute number fixed at the first attempt: when the cloud did
    the change but the answer was lost, the retry finds it done instead of adding again."""
    from opsgraph.sources.aws import boto3_clients

    real = boto3_clients(endpoint_url=moto_url, profile=None)
    lost: list[int] = []

    class LosesFirstAnswer:
        def __init__(self, client: Any) -> None:
            self._client = client

        def __getattr__(self, name: str) -> Any:
            return getattr(self._client, name)

        def set_desired_capacity(self, **kwargs: Any) -> Any:
            answer = self._client.set_desired_capacity(**kwargs)
            if not lost:
                lost.append(kwargs["DesiredCapacity"])
                raise ConnectionError("connection reset after the call landed")
            return answer

    def clients(service: str, region: str) -> Any:
        client = real(service, region)
        return LosesFirstAnswer(client) if service == "autoscaling" else client

    executor = AwsExecutor(clients, lambda: estate, region=REGION)
    before = _desired(aws)
    request = ActionRequest(action="scale_out", target="asg:web-asg", params={"count": 1}, key="r1")
    plan = executor.plan(request, dry_run=False)
    with pytest.raises(ConnectionError):
        executor.execute(plan)
    again = executor.execute(plan)  # what the runner's retry does
    assert again.ok and "already" in again.message
    assert _desired(aws) == before + 1 == lost[0]
    # back to where it was, for the other tests
    _run(executor, "scale_in", "asg:web-asg", count=1)
