"""CloudWatch metrics and alarms polled from a local moto server: samples land on the resources
AWS discovery registers, a second poll reads only new points, alarm changes become alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from opsgraph.core.errors import ConfigError, InvalidInputError
from opsgraph.core.models import ResourceKind, Severity
from opsgraph.runtime.settings import Settings
from opsgraph.sources.aws import AwsTopology, boto3_clients
from opsgraph.sources.cloudwatch import CloudWatchSource, metric_name, resource_for
from opsgraph.sources.cloudwatch_alarms import (
    AlarmState,
    CloudWatchAlarmSource,
    SeverityRules,
    alarm_alert,
)
from opsgraph.sources.registry import build_pull_sources
from opsgraph.sources.replay import ReplaySource
from opsgraph.sources.settings import CloudWatchSettings

REGION = "us-east-1"


def _client(url: str, service: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=url)


@pytest.fixture(scope="module")
def estate(moto_url: str) -> dict[str, str]:
    """An EC2 instance and an RDS instance, as discovery registers them."""
    ec2 = _client(moto_url, "ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    _client(moto_url, "rds").create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="secret-password",
        AllocatedStorage=20,
    )
    return {"instance": instance["InstanceId"], "db": "orders"}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _put(
    url: str, namespace: str, metric: str, dims: dict[str, str], points: dict[float, float]
) -> None:
    _client(url, "cloudwatch").put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                "Timestamp": datetime.fromtimestamp(ts, UTC),
                "Value": value,
            }
            for ts, value in points.items()
        ],
    )


def _now() -> float:
    return float(int(datetime.now(UTC).timestamp()) // 60 * 60)


def _settings(url: str, **kwargs: Any) -> CloudWatchSettings:
    return CloudWatchSettings(regions=[REGION], endpoint_url=url, lookback_s=3600, **kwargs)


def test_polled_metrics_land_on_discovered_resources_and_only_new_points_follow(
    moto_url: str, estate: dict[str, str]
) -> None:
    found = AwsTopology([REGION], boto3_clients(endpoint_url=moto_url)).discover()
    discovered = {r.id: r.kind for r in found.resources}
    instance, db = estate["instance"], estate["db"]
    now = _now()
    old = [now - 60 * k for k in range(10, 2, -1)]  # 8 complete minutes
    _put(moto_url, "AWS/EC2", "CPUUtilization", {"InstanceId": instance}, {t: 40.0 for t in old})
    _put(moto_url, "AWS/EC2", "NetworkIn", {"InstanceId": instance}, {t: 6000.0 for t in old})
    _put(moto_url, "AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": db}, {t: 7.0 for t in old})
    _put(moto_url, "AWS/RDS", "FreeableMemory", {"DBInstanceIdentifier": db}, {t: 1e9 for t in old})
    queries = [
        {"namespace": "AWS/EC2", "metric": m, "dimensions": {"InstanceId": instance}}
        for m in ("CPUUtilization", "NetworkIn")
    ] + [
        {"namespace": "AWS/RDS", "metric": m, "dimensions": {"DBInstanceIdentifier": db}}
        for m in ("CPUUtilization", "FreeableMemory")
    ]
    clock = Clock(now)
    source = CloudWatchSource(
        _settings(moto_url, queries=queries), boto3_clients(endpoint_url=moto_url), clock
    )
    first = source.poll()
    series: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for s in first.samples:
        series.setdefault((s.resource_id, s.metric), []).append((s.ts, s.value))
    rds_id = f"rds:{db}"
    assert set(series) == {
        (instance, "cpu"),
        (instance, "net_in"),
        (rds_id, "cpu"),
        (rds_id, "cw_AWS_RDS_FreeableMemory"),
    }
    assert series[(instance, "cpu")] == [(t, 40.0) for t in old]
    assert series[(instance, "net_in")] == [(t, 100.0) for t in old]  # bytes per period -> per s
    assert series[(rds_id, "cpu")] == [(t, 7.0) for t in old]
    # The resources carry the id and kind discovery gave them.
    assert {r.id: r.kind for r in first.resources} == {
        instance: discovered[instance],
        rds_id: discovered[rds_id],
    }
    assert discovered[instance] is ResourceKind.EC2 and discovered[rds_id] is ResourceKind.RDS
    assert all(r.provider == "aws" and r.region == REGION for r in first.resources)

    assert source.poll().samples == []  # nothing new yet
    new = [now - 120, now - 60]
    _put(moto_url, "AWS/EC2", "CPUUtilization", {"InstanceId": instance}, {t: 90.0 for t in new})
    _put(moto_url, "AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": db}, {now: 9.0})
    clock.now = now + 60  # now - 60 has ended; `now` is still filling (delay_s)
    second = source.poll()
    assert [(s.resource_id, s.metric, s.ts, s.value) for s in second.samples] == [
        (instance, "cpu", t, 90.0) for t in new
    ]
    clock.now = now + 120
    assert [(s.resource_id, s.ts) for s in source.poll().samples] == [(rds_id, now)]


def test_queries_go_in_calls_of_at_most_500(moto_url: str) -> None:
    now = _now()
    ids = [f"i-{n:017x}" for n in range(501)]
    cw = _client(moto_url, "cloudwatch")
    for first in range(0, len(ids), 500):
        cw.put_metric_data(
            Namespace="Batch",
            MetricData=[
                {
                    "MetricName": "Load",
                    "Dimensions": [{"Name": "InstanceId", "Value": i}],
                    "Timestamp": datetime.fromtimestamp(now - 300, UTC),
                    "Value": float(n),
                }
                for n, i in enumerate(ids[first : first + 500], start=first)
            ],
        )
    calls: list[int] = []
    make = boto3_clients(endpoint_url=moto_url)

    def counting(service: str, region: str) -> Any:
        client = make(service, region)
        client.meta.events.register(
            "provide-client-params.cloudwatch.GetMetricData",
            lambda params, **_: calls.append(len(params["MetricDataQueries"])),
        )
        return client

    queries = [
        {"namespace": "Batch", "metric": "Load", "dimensions": {"InstanceId": i}} for i in ids
    ]
    samples = CloudWatchSource(_settings(moto_url, queries=queries), counting, Clock(now)).poll()
    assert calls == [500, 1]
    assert {(s.resource_id, s.metric, s.value) for s in samples.samples} == {
        (i, "cw_Batch_Load", float(n)) for n, i in enumerate(ids)
    }


def test_a_failed_call_is_asked_again_from_the_same_point(moto_url: str) -> None:
    now = _now()
    _put(moto_url, "Retry", "Load", {"InstanceId": "i-retry"}, {now - 300: 1.0, now - 240: 2.0})
    make = boto3_clients(endpoint_url=moto_url)
    failing = [True]

    def throttle(**_: Any) -> None:
        if failing[0]:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "Get")

    def clients(service: str, region: str) -> Any:
        client = make(service, region)
        client.meta.events.register("before-call.cloudwatch.GetMetricData", throttle)
        return client

    query = {"namespace": "Retry", "metric": "Load", "dimensions": {"InstanceId": "i-retry"}}
    source = CloudWatchSource(_settings(moto_url, queries=[query]), clients, Clock(now))
    assert source.poll().samples == []
    failing[0] = False
    assert [s.value for s in source.poll().samples] == [1.0, 2.0]


def test_discovery_mode_polls_per_resource_metrics_of_the_namespaces(moto_url: str) -> None:
    now = _now()
    _put(moto_url, "AWS/Lambda", "Invocations", {"FunctionName": "resize"}, {now - 300: 12.0})
    _put(moto_url, "AWS/Lambda", "Invocations", {"Resource": "resize:prod"}, {now - 300: 5.0})
    _put(moto_url, "AWS/Lambda", "Duration", {"FunctionName": "resize"}, {now - 300: 0.25e3})
    source = CloudWatchSource(
        _settings(moto_url, namespaces=["AWS/Lambda"]), boto3_clients(endpoint_url=moto_url)
    )
    source.clock = Clock(now)
    batch = source.poll()
    got = {(s.resource_id, s.metric, s.value) for s in batch.samples}
    # Invocations is a count, read as Sum; the alias-only series names no resource and is left.
    assert got == {("lambda:resize", "request_count", 12.0), ("lambda:resize", "latency_ms", 250.0)}
    assert [(r.id, r.kind) for r in batch.resources] == [("lambda:resize", ResourceKind.LAMBDA)]


def test_two_queries_for_one_series_are_refused_unless_named(moto_url: str) -> None:
    cpu = {"namespace": "AWS/EC2", "metric": "CPUUtilization", "dimensions": {"InstanceId": "i-1"}}
    clients = boto3_clients(endpoint_url=moto_url)
    with pytest.raises(InvalidInputError, match=r"queries\[1\].*queries\[0\]"):
        CloudWatchSource(_settings(moto_url, queries=[cpu, {**cpu, "stat": "Maximum"}]), clients)
    named = [cpu, {**cpu, "stat": "Maximum", "name": "cpu_max"}]
    source = CloudWatchSource(_settings(moto_url, queries=named), clients)
    assert [(q.name, q.stat) for q in source.queries] == [
        ("cpu", "Average"),
        ("cpu_max", "Maximum"),
    ]
    settings = Settings(
        sources={"cloudwatch": _settings(moto_url, queries=[cpu, cpu]).model_dump()}
    )
    with pytest.raises(ConfigError, match="give one of them a `name`"):
        build_pull_sources(settings.sources)


def test_names_follow_discovery_and_signals() -> None:
    lb = resource_for(
        "AWS/ApplicationELB", {"LoadBalancer": "app/shop/50dc6c495c0c9188"}, "eu-west-1"
    )
    assert (lb.id, lb.kind, lb.region) == ("elb:shop", ResourceKind.ELB, "eu-west-1")
    tg = resource_for(
        "AWS/ApplicationELB", {"TargetGroup": "targetgroup/web/1", "LoadBalancer": "app/shop/1"}, ""
    )
    assert tg.id == "elb:shop"
    assert resource_for("AWS/Lambda", {"FunctionName": "resize"}, "x").id == "lambda:resize"
    assert resource_for("AWS/S3", {"BucketName": "logs", "StorageType": "X"}, "x").region == ""
    custom = resource_for("Shop/Checkout", {"Service": "pay api"}, "x")
    assert (custom.id, custom.kind) == ("shop_checkout:pay_api", ResourceKind.GENERIC)
    assert resource_for("AWS/EC2", {}, "x").id == "cw:AWS_EC2"
    assert metric_name("AWS/EC2", "CPUUtilization") == "cpu"
    assert metric_name("AWS/RDS", "CPUUtilization", "Maximum") == "cpu"  # a gauge, any stat
    assert metric_name("AWS/ApplicationELB", "RequestCount", "Sum") == "request_count"
    assert metric_name("AWS/ApplicationELB", "RequestCount", "Average") == (
        "cw_AWS_ApplicationELB_RequestCount"
    )
    assert metric_name("AWS/EC2", "StatusCheckFailed") == "cw_AWS_EC2_StatusCheckFailed"


def test_alarm_changes_become_firing_then_resolved_alerts(moto_url: str) -> None:
    cw = _client(moto_url, "cloudwatch")
    for name, tags in (("web-cpu-high", [{"Key": "severity", "Value": "critical"}]), ("p1-db", [])):
        cw.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/EC2" if name.startswith("web") else "AWS/RDS",
            MetricName="CPUUtilization",
            Dimensions=[{"Name": "InstanceId", "Value": "i-0abc"}]
            if name.startswith("web")
            else [{"Name": "DBInstanceIdentifier", "Value": "orders"}],
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=80.0,
            ComparisonOperator="GreaterThanThreshold",
            Tags=tags,
        )
    clock = Clock(_now())
    source = CloudWatchAlarmSource(
        _settings(moto_url, alarms=True, severity_by_name={"p1-*": "medium"}),
        boto3_clients(endpoint_url=moto_url),
        clock,
    )
    assert source.poll().alerts == []  # OK / INSUFFICIENT_DATA: nothing to say
    reason = json.dumps({"statistic": "Average", "recentDatapoints": [95.5], "threshold": 80.0})
    cw.set_alarm_state(
        AlarmName="web-cpu-high", StateValue="ALARM", StateReason="high", StateReasonData=reason
    )
    cw.set_alarm_state(AlarmName="p1-db", StateValue="ALARM", StateReason="db high")
    fired = {a.name: a for a in source.poll().alerts}
    web, db = fired["web-cpu-high"], fired["p1-db"]
    assert web.firing and web.source == "cloudwatch"
    assert web.fingerprint == f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:web-cpu-high"
    assert (web.resource_id, web.metric, web.value) == ("i-0abc", "cpu", 95.5)
    assert web.severity is Severity.CRITICAL  # its severity tag
    assert (db.resource_id, db.metric, db.severity) == ("rds:orders", "cpu", Severity.MEDIUM)
    assert web.labels["InstanceId"] == "i-0abc" and web.annotations["reason"] == "high"
    assert source.poll().alerts == []  # still firing: no change
    cw.set_alarm_state(AlarmName="web-cpu-high", StateValue="OK", StateReason="back")
    cw.set_alarm_state(AlarmName="p1-db", StateValue="INSUFFICIENT_DATA", StateReason="gone")
    resolved = {a.name: a for a in source.poll().alerts}
    assert set(resolved) == {"web-cpu-high", "p1-db"}
    ok = resolved["web-cpu-high"]
    assert not ok.firing and ok.fingerprint == web.fingerprint
    assert ok.starts_at == web.starts_at and ok.ends_at is not None and ok.ends_at >= web.starts_at
    assert ok.severity is Severity.CRITICAL
    cw.set_alarm_state(AlarmName="p1-db", StateValue="ALARM", StateReason="again")
    assert [a.firing for a in source.poll().alerts] == [True]
    cw.delete_alarms(AlarmNames=["p1-db"])
    clock.now += 30
    gone = source.poll().alerts
    assert [(a.name, a.firing, a.ends_at) for a in gone] == [("p1-db", False, clock.now)]


def test_severity_rules_in_order() -> None:
    rules = SeverityRules(
        default=Severity.HIGH,
        by_tag={"env=dev": Severity.LOW},
        by_name={"*-p1-*": Severity.CRITICAL},
    )
    assert rules.pick("x", {"severity": "Medium", "env": "dev"}) is Severity.MEDIUM
    assert rules.pick("x-p1-y", {"severity": "urgent", "env": "dev"}) is Severity.LOW
    assert rules.pick("x-p1-y", {}) is Severity.CRITICAL
    assert rules.pick("other", {}) is Severity.HIGH


def test_long_arns_and_odd_dimension_values_still_make_valid_alerts() -> None:
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + "x" * 250
    alarm = AlarmState(
        arn=arn,
        name="x" * 250,
        state="ALARM",
        updated_at=1.0,
        region=REGION,
        namespace="/Odd Space",
        metric="Queue Depth",
        dimensions={"InstanceId": "-odd"},
    )
    alert, resource = alarm_alert(alarm, SeverityRules())
    assert len(alert.fingerprint) <= 200 and alert.fingerprint != arn
    assert alarm_alert(alarm, SeverityRules())[0].fingerprint == alert.fingerprint  # stable
    assert (resource.id, alert.metric) == ("ec2:-odd", "cw__Odd_Space_Queue_Depth")
    other = resource_for("/Odd Space", {"Queue": "q"}, REGION)
    assert other.id == "odd_space:q"


def test_registry_builds_the_configured_sources(tmp_path: Path) -> None:
    data = tmp_path / "cpu.csv"
    data.write_text("timestamp,cpu\n1,2\n")
    settings = Settings(
        data_dir=tmp_path,
        sources={
            "cloudwatch": {
                "regions": [REGION],
                "queries": [{"namespace": "AWS/EC2", "metric": "CPUUtilization"}],
                "alarms": True,
            },
            "replay": [{"path": str(data), "resource_id": "vm-1", "speed": "max"}],
        },
    )
    built = build_pull_sources(settings.sources)
    assert [type(s) for s in built] == [CloudWatchSource, CloudWatchAlarmSource, ReplaySource]
    assert build_pull_sources(Settings(data_dir=tmp_path).sources) == []
