"""Domain types validate what they are given and name the bad field."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.graph import ResourceGraph
from opsgraph.core.models import (
    Dependency,
    Resource,
    ResourceKind,
    Sample,
    SampleFrame,
    Severity,
    severity_for,
)


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (0.0, Severity.LOW),
        (0.34, Severity.LOW),
        (0.35, Severity.MEDIUM),
        (0.65, Severity.HIGH),
        (0.849, Severity.HIGH),
        (0.85, Severity.CRITICAL),
        (1.0, Severity.CRITICAL),
    ],
)
def test_severity_bounds(score: float, severity: Severity) -> None:
    assert severity_for(score) is severity


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_sample_refuses_non_finite(value: float) -> None:
    with pytest.raises(ValidationError, match="finite"):
        Sample(resource_id="db-1", metric="cpu", ts=1.0, value=value)


def test_sample_refuses_bad_names_and_extra_fields() -> None:
    with pytest.raises(ValidationError, match="resource_id"):
        Sample(resource_id="bad id/with slash", metric="cpu", ts=1, value=1)
    with pytest.raises(ValidationError, match="metric"):
        Sample(resource_id="db-1", metric="1cpu", ts=1, value=1)
    with pytest.raises(ValidationError, match="extra"):
        Sample.model_validate({"resource_id": "db-1", "metric": "cpu", "ts": 1, "value": 1, "x": 2})


def test_frame_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="shape"):
        SampleFrame(ts=0, resource_ids=("a",), metrics=("cpu", "memory"), values=np.zeros((2, 2)))


def test_graph_walks_both_ways_and_refuses_unknown_ends() -> None:
    rs = [Resource(id=i, kind=ResourceKind.GENERIC) for i in ("lb", "app", "db", "other")]
    deps = [Dependency(source="lb", target="app"), Dependency(source="app", target="db")]
    g = ResourceGraph(rs, deps)
    assert g.callers("db") == ["app"] and g.callees("lb") == ["app"]
    assert g.upstream("db") == {"app", "lb"} and g.downstream("lb") == {"app", "db"}
    assert g.upstream("other") == set()
    with pytest.raises(InvalidInputError) as info:
        ResourceGraph(rs, [Dependency(source="lb", target="ghost")])
    assert info.value.field == "dependencies[0]" and "ghost" in info.value.reason
