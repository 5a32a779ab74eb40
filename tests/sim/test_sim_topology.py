"""Generated topologies: exact sizes, every kind, a DAG of calls, shared databases, stable ids."""

from __future__ import annotations

from collections import defaultdict

import pytest

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.graph import ResourceGraph
from opsgraph.core.models import DependencyKind, ResourceKind
from opsgraph.sim import generate_topology


@pytest.mark.parametrize("n", [10, 11, 29, 57, 1000, 10_000])
def test_exact_size(n: int) -> None:
    resources, dependencies = generate_topology(n, seed=7)
    assert len(resources) == n
    assert len({r.id for r in resources}) == n
    ResourceGraph(resources, dependencies)  # every edge names known resources


@pytest.mark.parametrize("n", [9, 0, -5, 10_001])
def test_out_of_range(n: int) -> None:
    with pytest.raises(InvalidInputError) as err:
        generate_topology(n, seed=1)
    assert err.value.field == "resources"


def test_refuses_non_integers() -> None:
    with pytest.raises(InvalidInputError):
        generate_topology(50.0, seed=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError) as err:
        generate_topology(50, seed=-1)
    assert err.value.field == "seed"


@pytest.mark.parametrize("n", [57, 300])
def test_all_kinds_present(n: int) -> None:
    resources, _ = generate_topology(n, seed=3)
    assert {r.kind for r in resources} == set(ResourceKind)


def test_smallest_estate_still_has_both_app_shapes() -> None:
    kinds = {r.kind for r in generate_topology(10, seed=0)[0]}
    assert {ResourceKind.ELB, ResourceKind.ASG, ResourceKind.EC2, ResourceKind.LAMBDA} <= kinds
    assert {ResourceKind.K8S_SERVICE, ResourceKind.K8S_POD, ResourceKind.RDS} <= kinds


@pytest.mark.parametrize("n", [10, 57, 1000])
def test_calls_graph_is_a_dag(n: int) -> None:
    resources, dependencies = generate_topology(n, seed=5)
    out: dict[str, list[str]] = defaultdict(list)
    for d in dependencies:
        if d.kind is DependencyKind.CALLS:
            out[d.source].append(d.target)
    state: dict[str, int] = {}

    def visit(node: str) -> None:
        state[node] = 1
        for nxt in out[node]:
            assert state.get(nxt) != 1, f"cycle through {nxt}"
            if nxt not in state:
                visit(nxt)
        state[node] = 2

    for r in resources:
        if r.id not in state:
            visit(r.id)


def test_app_shapes() -> None:
    resources, dependencies = generate_topology(200, seed=11)
    graph = ResourceGraph(resources, dependencies)
    kind = {r.id: r.kind for r in resources}
    for r in resources:
        if r.kind is ResourceKind.ASG:
            members = graph.callees(r.id, DependencyKind.MEMBER)
            assert members and all(kind[m] is ResourceKind.EC2 for m in members)
            for m in members:
                assert any(
                    kind[c] is ResourceKind.ELB for c in graph.callers(m, DependencyKind.CALLS)
                )
                assert all(kind[c] is ResourceKind.LAMBDA for c in graph.callees(m))
        if r.kind is ResourceKind.K8S_SERVICE:
            pods = graph.callees(r.id, DependencyKind.MEMBER)
            assert pods and all(kind[p] is ResourceKind.K8S_POD for p in pods)
            assert any(kind[c] is ResourceKind.ELB for c in graph.callers(r.id))
        if r.kind is ResourceKind.LAMBDA:
            targets = {kind[t] for t in graph.callees(r.id)}
            assert targets and targets <= {ResourceKind.RDS, ResourceKind.S3, ResourceKind.CACHE}
        if r.kind in (ResourceKind.RDS, ResourceKind.CACHE, ResourceKind.S3):
            assert graph.callers(r.id), f"{r.id} is never used"


@pytest.mark.parametrize("n", [10, 57, 1000])
def test_databases_are_shared(n: int) -> None:
    resources, dependencies = generate_topology(n, seed=2)
    app = {r.id: r.tags["app"] for r in resources}
    kind = {r.id: r.kind for r in resources}
    apps_per_db: dict[str, set[str]] = defaultdict(set)
    for d in dependencies:
        if kind[d.target] is ResourceKind.RDS:
            apps_per_db[d.target].add(app[d.source])
    assert any(len(apps) >= 2 for apps in apps_per_db.values())


def test_readable_ids_tags_and_params() -> None:
    resources, _ = generate_topology(57, seed=4)
    ids = {r.id for r in resources}
    assert "db-1" in ids and "cache-1" in ids and "bucket-1" in ids
    assert any(i.endswith("-elb") for i in ids) and any(i.endswith("-asg") for i in ids)
    assert any(i.startswith("k8s-") and "-pod-" in i for i in ids)
    for r in resources:
        assert r.provider == "sim"
        assert r.region
        assert set(r.tags) == {"app", "env", "team", "tier"}
        assert r.attrs["capacity_rps"] > 0


def test_deterministic_by_seed() -> None:
    assert generate_topology(120, seed=9) == generate_topology(120, seed=9)
    assert generate_topology(120, seed=9) != generate_topology(120, seed=10)
