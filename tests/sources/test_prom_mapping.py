"""Labels -> (resource, metric): resource labels in order, sanitising, names that keep series
apart, tags and region of new resources."""

from __future__ import annotations

import random
import string

import pytest

from opsgraph.core.metrics import METRIC_NAME_RE, RESOURCE_ID_RE
from opsgraph.core.models import ResourceKind
from opsgraph.sources.prom_mapping import (
    NO_NAME,
    NO_RESOURCE,
    SeriesMapper,
    SeriesTarget,
    sanitize_metric_name,
    sanitize_resource_id,
)
from opsgraph.sources.settings import PrometheusSourceSettings


def _target(result: SeriesTarget | str) -> SeriesTarget:
    assert isinstance(result, SeriesTarget), result
    return result


def test_instance_names_the_resource_and_job_becomes_a_tag() -> None:
    target = _target(
        SeriesMapper().map({"__name__": "up", "instance": "localhost:9100", "job": "node"})
    )
    assert (target.resource_id, target.metric) == ("localhost:9100", "up")
    resource = target.resource()
    assert resource.kind is ResourceKind.GENERIC
    assert resource.provider == "prometheus"
    assert resource.tags == {"job": "node"}


def test_job_is_the_fallback_then_the_configured_resource_then_nothing() -> None:
    mapper = SeriesMapper()
    assert _target(mapper.map({"__name__": "x", "job": "batch"})).resource_id == "batch"
    assert mapper.map({"__name__": "x"}) == NO_RESOURCE
    fallback = SeriesMapper(fallback_resource="prometheus")
    assert _target(fallback.map({"__name__": "x"})).resource_id == "prometheus"
    with pytest.raises(ValueError, match="not a resource id"):
        SeriesMapper(fallback_resource="has space")


def test_other_labels_keep_series_apart_in_the_metric_name() -> None:
    mapper = SeriesMapper(ignore_labels=["le_ignored"])
    labels = {"__name__": "node_cpu_seconds_total", "instance": "h:9100", "job": "node"}
    idle = _target(mapper.map({**labels, "mode": "idle", "cpu": "0", "le_ignored": "z"}))
    user = _target(mapper.map({**labels, "mode": "user", "cpu": "0"}))
    assert idle.metric == "node_cpu_seconds_total.cpu:0.mode:idle"
    assert user.metric == "node_cpu_seconds_total.cpu:0.mode:user"
    odd = _target(mapper.map({**labels, "path": "/var/log lib"}))
    assert odd.metric == "node_cpu_seconds_total.path:_var_log_lib"


def test_region_label_and_metric_override() -> None:
    target = _target(
        SeriesMapper().map({"instance": "a", "region": "eu-west-1"}, metric="cpu_ratio")
    )
    assert (target.metric, target.region) == ("cpu_ratio", "eu-west-1")
    assert target.resource().region == "eu-west-1"
    assert SeriesMapper().map({"instance": "a"}) == NO_NAME


def test_from_settings_uses_the_configured_labels() -> None:
    settings = PrometheusSourceSettings(
        resource_labels=["pod"], tag_labels=["namespace"], region_label=None
    )
    target = _target(
        SeriesMapper.from_settings(settings).map(
            {"__name__": "m", "pod": "web-1", "namespace": "shop", "region": "r", "instance": "i"}
        )
    )
    assert target.resource_id == "web-1"
    assert target.tags == {"namespace": "shop"}
    assert target.metric == "m.instance:i.region:r"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("localhost:9100", "localhost:9100"),
        ("[::1]:9090", "1_:9090"),
        ("10.0.0.1:80", "10.0.0.1:80"),
        ("web server/1", "web_server_1"),
        ("---", None),
        ("", None),
    ],
)
def test_resource_ids_are_sanitised(raw: str, expected: str | None) -> None:
    assert sanitize_resource_id(raw) == expected


def test_metric_names_are_sanitised_and_long_ones_stay_distinct() -> None:
    assert sanitize_metric_name(":recording:rule") == "_:recording:rule"
    assert sanitize_metric_name("9lives") == "_9lives"
    assert sanitize_metric_name("") is None
    a, b = sanitize_metric_name("m" * 200 + "a"), sanitize_metric_name("m" * 200 + "b")
    assert a is not None and b is not None
    assert a != b
    assert len(a) == 128 and METRIC_NAME_RE.match(a)


def test_whatever_the_labels_every_target_is_valid() -> None:
    rng = random.Random(5)
    alphabet = string.printable + "éß世\u00a0/\\"
    mapper = SeriesMapper()
    for _ in range(2000):
        labels = {
            name: "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
            for name in ("__name__", "instance", "job", "extra")
        }
        result = mapper.map(labels)
        if isinstance(result, SeriesTarget):
            assert RESOURCE_ID_RE.match(result.resource_id), result.resource_id
            assert METRIC_NAME_RE.match(result.metric), result.metric
        else:
            assert result in (NO_RESOURCE, NO_NAME)
