"""AWS discovery against a local moto server: every service, and edges from target groups,
Auto Scaling membership, event-source mappings, security groups and tags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from opsgraph.core.models import DependencyKind, ResourceKind
from opsgraph.sources.aws import AwsTopology, boto3_clients

REGION = "us-east-1"


@pytest.fixture(scope="module")
def estate(aws: Callable[[str], Any], lambda_zip: bytes) -> dict[str, str]:
    ec2 = aws("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    web_sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    db_sg = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=db_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "UserIdGroupPairs": [{"GroupId": web_sg}],
            }
        ],
    )
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ids = []
    for name, extra in (
        ("web-1", [{"Key": "opsgraph:depends-on", "Value": "sessions"}]),
        ("web-2", []),
    ):
        out = ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            SecurityGroupIds=[web_sg],
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}, *extra]}
            ],
        )
        ids.append(out["Instances"][0]["InstanceId"])
    asg = aws("autoscaling")
    asg.create_launch_configuration(
        LaunchConfigurationName="web-lc", ImageId=image, InstanceType="t3.micro"
    )
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchConfigurationName="web-lc",
        MinSize=0,
        MaxSize=4,
        DesiredCapacity=0,
        VPCZoneIdentifier=subnets[0],
    )
    asg.attach_instances(InstanceIds=ids, AutoScalingGroupName="web-asg")
    elb = aws("elbv2")
    lb = elb.create_load_balancer(Name="shop", Subnets=subnets, SecurityGroups=[web_sg])
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="shop-web", Protocol="HTTP", Port=80, VpcId=vpc)
    tg_arn = tg["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg_arn, Targets=[{"Id": i} for i in ids])
    elb.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
    )
    iam = aws("iam")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = aws("lambda")
    lam.create_function(
        FunctionName="resize",
        Runtime="python3.11",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": lambda_zip},
    )
    sqs = aws("sqs")
    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="resize")
    aws("rds").create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        AllocatedStorage=20,
        MasterUsername="app",
        MasterUserPassword="password123",
        VpcSecurityGroupIds=[db_sg],
    )
    aws("s3").create_bucket(Bucket="shop-assets")
    aws("elasticache").create_cache_cluster(
        CacheClusterId="sessions", Engine="redis", CacheNodeType="cache.t3.micro", NumCacheNodes=1
    )
    return {"web-1": ids[0], "web-2": ids[1]}


def test_discovery_finds_every_service_and_its_edges(moto_url: str, estate: dict[str, str]) -> None:
    topology = AwsTopology([REGION], boto3_clients(endpoint_url=moto_url)).discover()
    kinds = {r.id: r.kind for r in topology.resources}
    web1, web2 = estate["web-1"], estate["web-2"]
    expected = {
        web1: ResourceKind.EC2,
        web2: ResourceKind.EC2,
        "asg:web-asg": ResourceKind.ASG,
        "elb:shop": ResourceKind.ELB,
        "lambda:resize": ResourceKind.LAMBDA,
        "sqs:jobs": ResourceKind.GENERIC,
        "rds:orders": ResourceKind.RDS,
        "s3:shop-assets": ResourceKind.S3,
        "cache:sessions": ResourceKind.CACHE,
    }
    for rid, kind in expected.items():
        assert kinds.get(rid) == kind, rid
    names = {r.id: r.name for r in topology.resources}
    assert names[web1] == "web-1" and all(r.provider == "aws" for r in topology.resources)
    edges = {(d.source, d.target, d.kind) for d in topology.dependencies}
    calls, member = DependencyKind.CALLS, DependencyKind.MEMBER
    assert ("elb:shop", web1, calls) in edges and ("elb:shop", web2, calls) in edges
    assert ("asg:web-asg", web1, member) in edges and ("asg:web-asg", web2, member) in edges
    assert ("lambda:resize", "sqs:jobs", calls) in edges
    assert (web1, "rds:orders", calls) in edges and (web2, "rds:orders", calls) in edges
    assert (web1, "cache:sessions", calls) in edges  # the opsgraph:depends-on tag
    assert (web2, "cache:sessions", calls) not in edges


def test_discovered_topology_is_valid_for_the_store(moto_url: str, estate: dict[str, str]) -> None:
    from opsgraph.sources.topology import check_topology

    topology = AwsTopology([REGION], boto3_clients(endpoint_url=moto_url)).discover()
    assert check_topology(topology) is topology
    assert AwsTopology.name == "aws"
    with pytest.raises(ValueError, match="at least one region"):
        AwsTopology([])


def test_cli_writes_a_yaml_topology_and_the_server_discovers_at_start(
    moto_url: str, estate: dict[str, str], tmp_path: Any
) -> None:
    from typer.testing import CliRunner

    from opsgraph.cli.main import app
    from opsgraph.runtime.root import Runtime
    from opsgraph.runtime.settings import Settings
    from opsgraph.sources.topology import YamlTopology

    out = tmp_path / "aws.yaml"
    result = CliRunner().invoke(
        app,
        [
            "topology",
            "discover-aws",
            "--region",
            REGION,
            "--endpoint-url",
            moto_url,
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "discovered" in result.output and "1 rds" in result.output
    from_file = YamlTopology(out).discover()
    direct = AwsTopology([REGION], boto3_clients(endpoint_url=moto_url)).discover()
    assert from_file.resources == direct.resources
    assert from_file.dependencies == direct.dependencies

    settings = Settings(
        data_dir=tmp_path,
        sim={"enabled": False},
        topology={"aws_regions": [REGION], "aws_endpoint_url": moto_url},
    )
    rt = Runtime(settings)
    try:
        assert "rds:orders" in rt.estate.resources and estate["web-1"] in rt.estate.resources
        assert any(d.target == "rds:orders" for d in rt.estate.dependencies)
    finally:
        rt.close()


def test_cli_reports_an_unreachable_endpoint() -> None:
    from typer.testing import CliRunner

    from opsgraph.cli.main import app

    result = CliRunner().invoke(
        app,
        ["topology", "discover-aws", "--region", REGION, "--endpoint-url", "http://127.0.0.1:9"],
    )
    assert result.exit_code == 2 and "discovery failed" in result.output, result.output
