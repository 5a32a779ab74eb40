"""Grouping on the dependency graph: join, open at N related, wait, alone when critical."""

from __future__ import annotations

from opsgraph.alerts.grouping import Topology, group, likely_root
from opsgraph.core.models import Anomaly, Dependency, Incident, Severity

# web -> api -> db, api -> cache; batch is unrelated to all of them.
DEPS = [
    Dependency(source="web", target="api"),
    Dependency(source="api", target="db"),
    Dependency(source="api", target="cache"),
]


def _a(i: int, resource: str, ts: float, severity: Severity = Severity.HIGH) -> Anomaly:
    return Anomaly(
        id=i,
        resource_id=resource,
        metric="latency_ms",
        detector="d",
        start_ts=ts,
        last_ts=ts,
        score=0.7,
        max_score=0.7,
        severity=severity,
        value=1.0,
        expected=0.0,
    )


def _group(anomaly: Anomaly, pool: list[Anomaly], incidents=()):  # type: ignore[no-untyped-def]
    return group(
        anomaly,
        topology=Topology(DEPS),
        open_incidents=list(incidents),
        pool=pool,
        window_s=600,
        max_hops=2,
        min_anomalies=2,
        open_alone_at=Severity.CRITICAL,
    )


def test_waits_then_opens_with_related_neighbours_and_names_the_root() -> None:
    db = _a(1, "db", 0.0)
    first = _group(db, [db])
    assert first.action == "wait" and "1 of 2" in first.reason
    web = _a(2, "web", 120.0)
    opened = _group(web, [db, web])
    assert opened.action == "open" and {a.id for a in opened.members} == {1, 2}
    assert opened.root == "db"  # web depends on db through api: the fault started below
    assert "2 related anomalies" in opened.reason


def test_unrelated_or_late_anomalies_do_not_group() -> None:
    db = _a(1, "db", 0.0)
    assert _group(_a(2, "batch", 10.0), [db]).action == "wait"  # not connected
    assert _group(_a(3, "web", 5000.0), [db]).action == "wait"  # outside the window


def test_joins_an_open_incident_nearby_but_never_a_stale_one() -> None:
    incident = Incident(id=7, title="t", severity=Severity.HIGH, opened_ts=0.0, updated_ts=100.0)
    joined = _group(_a(5, "cache", 200.0), [], [(incident, ["db"])])
    assert joined.action == "join" and joined.incident is incident
    assert "2 hop(s) from db" in joined.reason
    stale = _group(_a(6, "cache", 5000.0), [], [(incident, ["db"])])
    assert stale.action == "wait"


def test_a_critical_anomaly_opens_alone() -> None:
    alone = _group(_a(1, "batch", 0.0, Severity.CRITICAL), [])
    assert alone.action == "open" and alone.root == "batch" and "on its own" in alone.reason


def test_root_ties_go_to_the_first_to_start() -> None:
    assert likely_root([_a(1, "cache", 50.0), _a(2, "db", 10.0)], Topology(DEPS)) == "db"


def test_the_root_is_the_first_health_signal_not_the_traffic_it_sent() -> None:
    # web fails requests (errors): api and db see less traffic at the same time. db is what most
    # depend on, but traffic moves down the call graph, away from where the fault started.
    errors = _a(1, "web", 10.0).model_copy(update={"metric": "error_rate"})
    api_drop = _a(2, "api", 10.0).model_copy(update={"metric": "request_count"})
    db_drop = _a(3, "db", 10.0).model_copy(update={"metric": "net_in"})
    assert likely_root([api_drop, db_drop, errors], Topology(DEPS)) == "web"
    # With only traffic anomalies there is nothing else to go by.
    assert likely_root([api_drop, db_drop], Topology(DEPS)) == "db"


def test_the_first_to_start_is_the_root_even_when_others_depend_less_on_it() -> None:
    # api slowed first; its caller web followed a step later.
    assert likely_root([_a(1, "web", 70.0), _a(2, "api", 10.0)], Topology(DEPS)) == "api"
    # At the same step, the one others depend on (db under api) wins.
    assert likely_root([_a(1, "api", 10.0), _a(2, "db", 10.0)], Topology(DEPS)) == "db"


def _m(resource: str, metric: str) -> Anomaly:
    a = _a(1, resource, 0.0)
    a.metric = metric
    return a


def test_member_roles_seen_from_the_root() -> None:
    from opsgraph.alerts.grouping import member_role

    topo = Topology(DEPS)
    # db is the root: web and api call it (directly or not), cache is api's other callee
    assert member_role(_m("db", "latency_ms"), "db", topo)[0] == "cause"
    role, why = member_role(_m("web", "latency_ms"), "db", topo)
    assert role == "symptom" and "web depends on db" in why
    assert member_role(_m("cache", "latency_ms"), "db", topo)[0] == "unexplained"
    assert member_role(_m("batch", "cpu"), "db", topo)[0] == "unexplained"
    # traffic follows the call graph both ways; a health signal on a callee is unexplained
    assert member_role(_m("db", "request_count"), "api", topo)[0] == "symptom"
    assert member_role(_m("web", "request_count"), "api", topo)[0] == "symptom"
    assert member_role(_m("db", "latency_ms"), "api", topo)[0] == "unexplained"
    assert member_role(_m("db", "cpu"), None, topo)[0] == "unexplained"
