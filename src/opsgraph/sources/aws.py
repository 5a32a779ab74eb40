"""AWS discovery through boto3: resources and the dependencies between them.

Discovered per region:
- EC2 instances;
- Auto Scaling groups, with their members;
- ELBv2 load balancers, calling their target groups' registered targets;
- Lambda functions, with their event sources (an SQS queue, a stream) as `generic` resources
  the function reads from;
- RDS instances, S3 buckets and ElastiCache clusters.

Dependencies come from target groups, Auto Scaling membership, event-source mappings, security
groups and tags:
- if a security group admits traffic from another group, every resource in the source group
  calls every resource in the admitting group;
- a tag `opsgraph:depends-on` lists, comma-separated, the ids or names of what a resource calls.

Ids are prefixed by service (`elb:shop`, `rds:orders`, EC2 instance ids as they are) and
sanitised to the resource-id alphabet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.extras import require
from opsgraph.core.models import Dependency, DependencyKind, Resource, ResourceKind
from opsgraph.sources.topology import Topology

DEPENDS_ON_TAG = "opsgraph:depends-on"
ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


def _rid(prefix: str, name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_.:@-]", "_", name)[:190]
    return f"{prefix}:{clean}" if prefix else clean


def _tags(items: Iterable[dict[str, Any]] | None) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in items or [] if "Key" in t}


def boto3_clients(endpoint_url: str | None = None, profile: str | None = None) -> ClientFactory:
    """Clients from boto3's usual credential chain (or a named profile), optionally against
    another endpoint such as a local moto server."""
    require("boto3", "AWS (CloudWatch, discovery, the AWS executor)")
    import boto3

    session = boto3.Session(profile_name=profile) if profile else boto3.Session()

    def make(service: str, region: str) -> Any:
        return session.client(service, region_name=region, endpoint_url=endpoint_url)

    return make


@dataclass(slots=True)
class _Found:
    resources: dict[str, Resource] = field(default_factory=dict)
    edges: set[tuple[str, str, DependencyKind]] = field(default_factory=set)
    groups: dict[str, set[str]] = field(default_factory=dict)  # security group -> resource ids
    names: dict[str, str] = field(default_factory=dict)  # name or ARN -> resource id

    def add(self, r: Resource, *aliases: str, security_groups: Sequence[str] = ()) -> None:
        self.resources[r.id] = r
        for alias in (r.name, *aliases):
            if alias:
                self.names.setdefault(alias, r.id)
        for sg in security_groups:
            self.groups.setdefault(sg, set()).add(r.id)

    def link(self, source: str, target: str, kind: DependencyKind = DependencyKind.CALLS) -> None:
        if source != target and source in self.resources and target in self.resources:
            self.edges.add((source, target, kind))


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    paginator = client.get_paginator(operation)
    return [item for page in paginator.paginate(**kwargs) for item in page.get(key, [])]


class AwsTopology:
    """A topology source over one or more regions (see the module docstring)."""

    name = "aws"

    def __init__(self, regions: Sequence[str], clients: ClientFactory | None = None) -> None:
        if not regions:
            raise ValueError("give at least one region")
        self.regions = list(regions)
        self.clients = clients or boto3_clients()

    def discover(self) -> Topology:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self._discover()
        except (BotoCoreError, ClientError) as exc:
            raise InvalidInputError("aws", f"discovery failed: {exc}") from None

    def _discover(self) -> Topology:
        found = _Found()
        rules: list[tuple[str, str]] = []  # (admitting group, source group)
        for region in self.regions:
            rules += self._ec2(found, region)
            self._autoscaling(found, region)
            self._lambda(found, region)
            self._rds(found, region)
            self._elasticache(found, region)
            self._elbv2(found, region)
        self._s3(found, self.regions[0])
        for admitting, source in rules:
            for caller in found.groups.get(source, ()):
                for callee in found.groups.get(admitting, ()):
                    found.link(caller, callee)
        for r in list(found.resources.values()):
            for ref in r.tags.get(DEPENDS_ON_TAG, "").split(","):
                target = found.names.get(ref.strip(), ref.strip())
                found.link(r.id, target)
        dependencies = [
            Dependency(source=s, target=t, kind=k)
            for s, t, k in sorted(found.edges, key=lambda e: (e[0], e[1], e[2].value))
        ]
        return Topology(sorted(found.resources.values(), key=lambda r: r.id), dependencies)

    # -- services ---------------------------------------------------------------------------
    def _ec2(self, found: _Found, region: str) -> list[tuple[str, str]]:
        ec2 = self.clients("ec2", region)
        for reservation in _pages(ec2, "describe_instances", "Reservations"):
            for inst in reservation.get("Instances", []):
                if inst.get("State", {}).get("Name") == "terminated":
                    continue
                tags = _tags(inst.get("Tags"))
                groups = [g["GroupId"] for g in inst.get("SecurityGroups", [])]
                found.add(
                    Resource(
                        id=_rid("", inst["InstanceId"]),
                        kind=ResourceKind.EC2,
                        name=tags.get("Name", ""),
                        provider="aws",
                        region=region,
                        tags=tags,
                        attrs={
                            "instance_type": inst.get("InstanceType"),
                            "state": inst.get("State", {}).get("Name"),
                            "security_groups": groups,
                        },
                    ),
                    inst["InstanceId"],
                    security_groups=groups,
                )
        rules = []
        for sg in _pages(ec2, "describe_security_groups", "SecurityGroups"):
            for perm in sg.get("IpPermissions", []):
                for pair in perm.get("UserIdGroupPairs", []):
                    if pair.get("GroupId") and pair["GroupId"] != sg["GroupId"]:
                        rules.append((sg["GroupId"], pair["GroupId"]))
        return rules

    def _autoscaling(self, found: _Found, region: str) -> None:
        client = self.clients("autoscaling", region)
        for group in _pages(client, "describe_auto_scaling_groups", "AutoScalingGroups"):
            rid = _rid("asg", group["AutoScalingGroupName"])
            found.add(
                Resource(
                    id=rid,
                    kind=ResourceKind.ASG,
                    name=group["AutoScalingGroupName"],
                    provider="aws",
                    region=region,
                    tags=_tags(group.get("Tags")),
                    attrs={
                        "desired_capacity": group.get("DesiredCapacity"),
                        "min_size": group.get("MinSize"),
                        "max_size": group.get("MaxSize"),
                    },
                ),
                group.get("AutoScalingGroupARN", ""),
            )
            for inst in group.get("Instances", []):
                found.link(rid, inst["InstanceId"], DependencyKind.MEMBER)

    def _elbv2(self, found: _Found, region: str) -> None:
        client = self.clients("elbv2", region)
        for lb in _pages(client, "describe_load_balancers", "LoadBalancers"):
            rid = _rid("elb", lb["LoadBalancerName"])
            groups = list(lb.get("SecurityGroups", []))
            found.add(
                Resource(
                    id=rid,
                    kind=ResourceKind.ELB,
                    name=lb["LoadBalancerName"],
                    provider="aws",
                    region=region,
                    attrs={"type": lb.get("Type"), "dns_name": lb.get("DNSName")},
                ),
                lb["LoadBalancerArn"],
                security_groups=groups,
            )
            tgs = client.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])
            for tg in tgs.get("TargetGroups", []):
                health = client.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
                for desc in health.get("TargetHealthDescriptions", []):
                    target = desc["Target"]["Id"]
                    found.link(rid, found.names.get(target, target))

    def _lambda(self, found: _Found, region: str) -> None:
        client = self.clients("lambda", region)
        for fn in _pages(client, "list_functions", "Functions"):
            rid = _rid("lambda", fn["FunctionName"])
            groups = list(fn.get("VpcConfig", {}).get("SecurityGroupIds", []))
            found.add(
                Resource(
                    id=rid,
                    kind=ResourceKind.LAMBDA,
                    name=fn["FunctionName"],
                    provider="aws",
                    region=region,
                    attrs={"runtime": fn.get("Runtime"), "memory_mb": fn.get("MemorySize")},
                ),
                fn["FunctionArn"],
                security_groups=groups,
            )
        for mapping in _pages(client, "list_event_source_mappings", "EventSourceMappings"):
            source_arn = mapping.get("EventSourceArn", "")
            fn_id = found.names.get(mapping.get("FunctionArn", ""))
            if not source_arn or fn_id is None:
                continue
            service, name = source_arn.split(":")[2], source_arn.split(":")[-1].split("/")[-1]
            source_id = found.names.get(source_arn) or _rid(service, name)
            if source_id not in found.resources:
                found.add(
                    Resource(
                        id=source_id,
                        kind=ResourceKind.GENERIC,
                        name=name,
                        provider="aws",
                        region=region,
                        attrs={"arn": source_arn, "service": service},
                    ),
                    source_arn,
                )
            found.link(fn_id, source_id)

    def _rds(self, found: _Found, region: str) -> None:
        client = self.clients("rds", region)
        for db in _pages(client, "describe_db_instances", "DBInstances"):
            groups = [g["VpcSecurityGroupId"] for g in db.get("VpcSecurityGroups", [])]
            found.add(
                Resource(
                    id=_rid("rds", db["DBInstanceIdentifier"]),
                    kind=ResourceKind.RDS,
                    name=db["DBInstanceIdentifier"],
                    provider="aws",
                    region=region,
                    tags=_tags(db.get("TagList")),
                    attrs={"engine": db.get("Engine"), "class": db.get("DBInstanceClass")},
                ),
                db.get("DBInstanceArn", ""),
                security_groups=groups,
            )

    def _elasticache(self, found: _Found, region: str) -> None:
        client = self.clients("elasticache", region)
        for cluster in _pages(client, "describe_cache_clusters", "CacheClusters"):
            groups = [g["SecurityGroupId"] for g in cluster.get("SecurityGroups", [])]
            found.add(
                Resource(
                    id=_rid("cache", cluster["CacheClusterId"]),
                    kind=ResourceKind.CACHE,
                    name=cluster["CacheClusterId"],
                    provider="aws",
                    region=region,
                    attrs={"engine": cluster.get("Engine"), "nodes": cluster.get("NumCacheNodes")},
                ),
                cluster.get("ARN", ""),
                security_groups=groups,
            )

    def _s3(self, found: _Found, region: str) -> None:
        client = self.clients("s3", region)
        for bucket in client.list_buckets().get("Buckets", []):
            found.add(
                Resource(
                    id=_rid("s3", bucket["Name"]),
                    kind=ResourceKind.S3,
                    name=bucket["Name"],
                    provider="aws",
                    region="",
                ),
                f"arn:aws:s3:::{bucket['Name']}",
            )
