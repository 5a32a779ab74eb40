"""Tests of the topology and series part of the store: resources, dependencies, series ids.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest

from opsgraph.core.errors import InvalidInputError, NotFoundError
from opsgraph.core.models import Dependency, DependencyKind, Resource, ResourceKind
from opsgraph.store import Store


def _estate() -> tuple[list[Resource], list[Dependency]]:
    resources = [
        Resource(id="elb-1", kind=ResourceKind.ELB, name="front", region="eu-west-1"),
        Resource(id="ec2-1", kind=ResourceKind.EC2, tags={"team": "web"}, attrs={"cpus": 4}),
        Resource(id="rds-1", kind=ResourceKind.RDS, attrs={"engine": "postgres", "gb": 100.5}),
    ]
    deps = [
        Dependency(source="elb-1", target="ec2-1"),
        Dependency(source="ec2-1", target="rds-1", inferred=True),
    ]
    return resources, deps


def test_upsert_topology_round_trip(store: Store) -> None:
    resources, deps = _estate()
    store.upsert_topology(resources, deps)
    assert store.list_resources() == sorted(resources, key=lambda r: r.id)
    assert store.list_dependencies() == sorted(deps, key=lambda d: (d.source, d.target))
    assert store.get_resource("rds-1").attrs == {"engine": "postgres", "gb": 100.5}


def test_upsert_topology_is_idempotent_and_updates(store: Store) -> None:
    resources, deps = _estate()
    store.upsert_topology(resources, deps)
    store.upsert_topology(resources, deps)
    assert store.counts()["resources"] == 3
    assert store.counts()["dependencies"] == 2

    changed = resources[1].model_copy(update={"name": "web-1", "tags": {"team": "ops"}})
    edge = deps[1].model_copy(update={"inferred": False})
    member = Dependency(source="elb-1", target="ec2-1", kind=DependencyKind.MEMBER)
    new = Resource(id="s3-1", kind=ResourceKind.S3)
    store.upsert_topology([changed, new], [edge, member])

    got = store.get_resource("ec2-1")
    assert (got.name, got.tags, got.attrs) == ("web-1", {"team": "ops"}, {"cpus": 4})
    assert store.counts()["resources"] == 4
    found = {(d.source, d.target, d.kind): d.inferred for d in store.list_dependencies()}
    assert found == {
        ("elb-1", "ec2-1", DependencyKind.CALLS): False,
        ("elb-1", "ec2-1", DependencyKind.MEMBER): False,
        ("ec2-1", "rds-1", DependencyKind.CALLS): False,
    }


def test_upsert_keeps_created_at(store: Store) -> None:
    resources, _ = _estate()
    store.upsert_topology(resources, [])
    with store._engine.connect() as conn:
        before = conn.exec_driver_sql(
            "SELECT created_at, updated_at FROM resources WHERE id = 'elb-1'"
        ).one()
    store.upsert_topology(resources[:1], [])
    with store._engine.connect() as conn:
        after = conn.exec_driver_sql(
            "SELECT created_at, updated_at FROM resources WHERE id = 'elb-1'"
        ).one()
    assert after[0] == before[0]
    assert after[1] >= before[1]


def test_dependency_to_unknown_resource_writes_nothing(store: Store) -> None:
    resources, deps = _estate()
    bad = [*deps, Dependency(source="ec2-1", target="ghost")]
    with pytest.raises(InvalidInputError) as err:
        store.upsert_topology(resources, bad)
    assert err.value.field == "dependencies[2].target"
    assert "ghost" in err.value.reason
    assert store.counts()["resources"] == 0
    assert store.counts()["dependencies"] == 0


def test_dependency_may_name_resources_stored_before(store: Store) -> None:
    resources, deps = _estate()
    store.upsert_topology(resources, [])
    store.upsert_topology([], deps)
    assert len(store.list_dependencies()) == 2


def test_get_unknown_resource(store: Store) -> None:
    with pytest.raises(NotFoundError) as err:
        store.get_resource("nope")
    assert (err.value.kind, err.value.ident) == ("resource", "nope")


def test_ensure_series(store: Store) -> None:
    store.upsert_topology(_estate()[0], [])
    keys = [("ec2-1", "cpu"), ("ec2-1", "memory"), ("rds-1", "cpu")]
    ids = store.ensure_series(keys)
    assert len(set(ids)) == 3
    # Existing series keep their ids; new ones are added; order and repeats follow the input.
    again = store.ensure_series([("rds-1", "cpu"), ("elb-1", "latency_ms"), ("ec2-1", "cpu")])
    assert again[0] == ids[2]
    assert again[2] == ids[0]
    assert again[1] not in ids
    assert store.series_ids() == {
        ("ec2-1", "cpu"): ids[0],
        ("ec2-1", "memory"): ids[1],
        ("rds-1", "cpu"): ids[2],
        ("elb-1", "latency_ms"): again[1],
    }
    assert store.ensure_series([]) == []
    assert store.counts()["series"] == 4


def test_ensure_series_refuses_unknown_resource_and_bad_metric(store: Store) -> None:
    store.upsert_topology(_estate()[0], [])
    with pytest.raises(InvalidInputError) as err:
        store.ensure_series([("ec2-1", "cpu"), ("ghost", "cpu")])
    assert err.value.field == "keys[1]"
    assert "'ghost'" in err.value.reason
    with pytest.raises(InvalidInputError) as err:
        store.ensure_series([("ec2-1", "no spaces")])
    assert err.value.field == "keys[0]"
    assert store.counts()["series"] == 0
