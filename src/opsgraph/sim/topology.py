"""Generates realistic cloud estates of exactly n resources, deterministically from a seed.

Web apps (elb -> ec2 in an asg -> lambdas) and Kubernetes apps (elb -> service -> pods) share
databases, caches and buckets; a few batch jobs also hit the databases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Dependency, DependencyKind, Resource, ResourceKind
from opsgraph.sim.flow import KIND_DEFAULTS, PEAK_FACTOR, FlowGraph

MIN_RESOURCES = 10
MAX_RESOURCES = 10_000

REGIONS: tuple[str, ...] = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1")
APP_NAMES: tuple[str, ...] = (
    "shop", "search", "auth", "cart", "billing", "catalog", "checkout", "media", "notify",
    "profile", "orders", "inventory", "payments", "reviews", "ads", "analytics", "chat", "feed",
    "maps", "mail", "video", "booking", "pricing", "ledger", "gateway", "reports", "support",
    "loyalty", "shipping", "tickets",
)  # fmt: skip
FN_NAMES: tuple[str, ...] = (
    "checkout", "login", "resize", "search", "render", "notify", "pay", "sync", "export",
    "index", "validate", "enrich",
)  # fmt: skip
TEAMS: tuple[str, ...] = ("web", "payments", "growth", "search", "mobile", "core", "media")

_K = ResourceKind
_CALLS, _MEMBER = DependencyKind.CALLS, DependencyKind.MEMBER
_MIN_SIZE = {"web": 4, "k8s": 3}  # elb + asg + ec2 + fn; elb + service + pod
_MAX_FUNCTIONS = 12


@dataclass
class _Plan:
    n_db: int
    n_cache: int
    n_bucket: int
    n_batch: int
    app_kinds: list[str]
    app_sizes: list[int]


@dataclass
class _Builder:
    rng: np.random.Generator
    resources: list[Resource] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)

    def node(
        self,
        rid: str,
        kind: ResourceKind,
        name: str,
        region: str,
        tags: dict[str, str],
        **attrs: Any,
    ) -> str:
        d = KIND_DEFAULTS[kind]
        u = self.rng.uniform
        # every node gets its own character so no two series look alike
        params: dict[str, Any] = {
            "service_ms": round(d.service_ms * u(0.7, 1.4), 3),
            "base_error": round(d.base_error * u(0.5, 2.0), 5),
            "base_memory": round(min(85.0, max(0.0, d.base_memory + u(-10, 10))), 2),
            "base_disk": round(min(80.0, max(0.0, d.base_disk + u(-15, 15))), 2),
            "idle_cpu": round(d.idle_cpu * u(0.7, 1.5), 2),
        }
        params.update(attrs)
        self.resources.append(
            Resource(
                id=rid, kind=kind, name=name, provider="sim", region=region, tags=tags, attrs=params
            )
        )
        return rid

    def edge(self, source: str, target: str, kind: DependencyKind = _CALLS) -> None:
        self.dependencies.append(Dependency(source=source, target=target, kind=kind))


def generate_topology(n_resources: int, seed: int) -> tuple[list[Resource], list[Dependency]]:
    """Exactly `n_resources` resources (10 to 10,000) and their dependencies; CALLS form a DAG."""
    if isinstance(n_resources, bool) or not isinstance(n_resources, int):
        raise InvalidInputError("resources", "must be an integer")
    if not MIN_RESOURCES <= n_resources <= MAX_RESOURCES:
        raise InvalidInputError(
            "resources", f"must be between {MIN_RESOURCES} and {MAX_RESOURCES}, got {n_resources}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError("seed", "must be a non-negative integer")
    rng = np.random.default_rng([seed, 0x7090])
    plan = _plan(n_resources, rng)
    b = _Builder(rng)

    dbs = _data_tier(b, "db", _K.RDS, "database", plan.n_db)
    caches = _data_tier(b, "cache", _K.CACHE, "cache cluster", plan.n_cache)
    buckets = _data_tier(b, "bucket", _K.S3, "bucket", plan.n_bucket)

    names = _app_names(len(plan.app_kinds), rng)
    for i, (kind, size, app) in enumerate(zip(plan.app_kinds, plan.app_sizes, names, strict=True)):
        # round-robin keeps every data node in use; fewer dbs than apps forces sharing
        deps = [dbs[i % plan.n_db], caches[i % plan.n_cache], buckets[i % plan.n_bucket]]
        second = dbs[(i * 7 + 3) % plan.n_db]
        if second not in deps and rng.random() < 0.35:
            deps.append(second)
        team = TEAMS[int(rng.integers(len(TEAMS)))]
        if kind == "web":
            _web_app(b, app, size, deps, team)
        else:
            _k8s_app(b, app, size, deps, team)

    for i in range(plan.n_batch):
        db, bucket = dbs[i % plan.n_db], buckets[i % plan.n_bucket]
        job = b.node(
            f"batch-{i + 1}",
            _K.GENERIC,
            f"batch job {i + 1}",
            _region(rng),
            _tags("ops", "platform", "batch"),
            base_rps=round(float(rng.uniform(1, 5)), 3),
            seasonality=0.2,
            calendar_sensitivity=0.0,
            fanout={db: 5.0, bucket: 1.0},
        )
        b.edge(job, db)
        b.edge(job, bucket)

    _plan_capacity(b, rng)
    return b.resources, b.dependencies


def _plan(n: int, rng: np.random.Generator) -> _Plan:
    """How many apps of which kind and size, and how many data nodes, to sum to exactly n."""
    n_batch = 0 if n < 30 else max(1, round(n * 0.01))
    avg_app = 4.0 + 10.0 * max(0.0, math.log10(n) - 1.0) ** 1.2
    n_apps = max(2, round(n / avg_app))
    extra_kinds = ["k8s" if rng.random() < 0.35 else "web" for _ in range(n_apps)]
    while True:
        n_db = max(1, math.ceil(n_apps / 2.5))
        n_cache = n_bucket = max(1, math.ceil(n_apps / 3))
        kinds = ["web", "k8s", *extra_kinds[: n_apps - 2]]
        rest = n - n_db - n_cache - n_bucket - n_batch
        minimum = sum(_MIN_SIZE[k] for k in kinds)
        if rest >= minimum or n_apps == 2:
            break
        n_apps -= 1
    spare = rest - minimum
    shares = rng.multinomial(spare, rng.dirichlet(np.full(n_apps, 2.0)))
    sizes = [_MIN_SIZE[k] + int(s) for k, s in zip(kinds, shares, strict=True)]
    return _Plan(n_db, n_cache, n_bucket, n_batch, kinds, sizes)


def _web_app(b: _Builder, app: str, size: int, deps: list[str], team: str) -> None:
    rng = b.rng
    n_fn = min(_MAX_FUNCTIONS, max(1, round((size - 2) * 0.3)))
    n_ec2 = size - 2 - n_fn
    region = _region(rng)
    per_instance = float(rng.uniform(25, 60))
    elb = b.node(
        f"{app}-elb",
        _K.ELB,
        f"{app} load balancer",
        region,
        _tags(app, team, "edge"),
        base_rps=round(per_instance * n_ec2, 2),
        seasonality=round(float(rng.uniform(0.7, 1.2)), 3),
        calendar_sensitivity=1.0,
    )
    asg = b.node(
        f"{app}-asg",
        _K.ASG,
        f"{app} auto scaling group",
        region,
        _tags(app, team, "web"),
        desired_capacity=n_ec2,
        min_capacity=1,
        max_capacity=4 * n_ec2,
    )
    # every function calls something and every app dependency is called, some more than once
    by_fn: list[set[str]] = [set() for _ in range(n_fn)]
    for t in range(max(n_fn, len(deps))):
        by_fn[t % n_fn].add(deps[t % len(deps)])
    fns = []
    for name, calls in zip(_fn_names(n_fn, rng), by_fn, strict=True):
        calls.update(d for d in deps if rng.random() < 0.3)
        fanout = {d: _data_fanout(d, rng) for d in sorted(calls)}
        fn = b.node(
            f"{app}-fn-{name}",
            _K.LAMBDA,
            f"{app} function {name}",
            region,
            _tags(app, team, "function"),
            fanout=fanout,
        )
        fns.append(fn)
        for d in fanout:
            b.edge(fn, d)
    # the same code runs on every instance, so each calls each function at the same rate
    fn_fanout = {fn: round(float(rng.uniform(0.2, 1.0)), 3) for fn in fns}
    for j in range(n_ec2):
        ec2 = b.node(
            f"{app}-ec2-{j + 1}",
            _K.EC2,
            f"{app} instance {j + 1}",
            region,
            _tags(app, team, "web"),
            fanout=dict(fn_fanout),
        )
        b.edge(elb, ec2)
        b.edge(asg, ec2, _MEMBER)
        for fn in fns:
            b.edge(ec2, fn)


def _k8s_app(b: _Builder, app: str, size: int, deps: list[str], team: str) -> None:
    rng = b.rng
    n_pod = size - 2
    region = _region(rng)
    elb = b.node(
        f"{app}-elb",
        _K.ELB,
        f"{app} ingress",
        region,
        _tags(app, team, "edge"),
        base_rps=round(float(rng.uniform(20, 50)) * n_pod, 2),
        seasonality=round(float(rng.uniform(0.7, 1.2)), 3),
        calendar_sensitivity=1.0,
    )
    svc = b.node(
        f"k8s-{app}-svc",
        _K.K8S_SERVICE,
        f"{app} service",
        region,
        _tags(app, team, "web"),
        desired_capacity=n_pod,
        min_capacity=1,
        max_capacity=4 * n_pod,
    )
    b.edge(elb, svc)
    fanout = {d: _data_fanout(d, rng) for d in deps}
    for j in range(n_pod):
        pod = b.node(
            f"k8s-{app}-pod-{j + 1}",
            _K.K8S_POD,
            f"{app} pod {j + 1}",
            region,
            _tags(app, team, "web"),
            fanout=dict(fanout),
        )
        b.edge(svc, pod, _MEMBER)
        for d in deps:
            b.edge(pod, d)


def _plan_capacity(b: _Builder, rng: np.random.Generator) -> None:
    """Size nodes so the normal daily peak uses about a third of them (elbs, buckets far less)."""
    flow = FlowGraph(b.resources, b.dependencies)
    base = np.array([float(r.attrs.get("base_rps", 0.0)) for r in b.resources])
    load, _ = flow.forward(base * PEAK_FACTOR, np.ones(flow.n))
    for r, rps in zip(b.resources, load.tolist(), strict=True):
        target = KIND_DEFAULTS[r.kind].target_util
        if target >= 0.1:
            target *= float(rng.uniform(0.75, 1.25))
        r.attrs["capacity_rps"] = round(max(rps / target, 1.0), 3)


def _data_tier(b: _Builder, prefix: str, kind: ResourceKind, label: str, count: int) -> list[str]:
    tags = _tags("shared", "platform", "data")
    return [
        b.node(f"{prefix}-{i + 1}", kind, f"{label} {i + 1}", _region(b.rng), dict(tags))
        for i in range(count)
    ]


def _data_fanout(dep: str, rng: np.random.Generator) -> float:
    if dep.startswith("db-"):
        return float(rng.integers(1, 4))  # queries per request
    if dep.startswith("cache-"):
        return float(rng.integers(1, 3))
    return round(float(rng.uniform(0.1, 0.5)), 3)  # only some requests touch objects


def _tags(app: str, team: str, tier: str) -> dict[str, str]:
    return {"app": app, "env": "prod", "team": team, "tier": tier}


def _region(rng: np.random.Generator) -> str:
    return REGIONS[int(rng.integers(len(REGIONS)))]


def _app_names(n: int, rng: np.random.Generator) -> list[str]:
    order = [APP_NAMES[i] for i in rng.permutation(len(APP_NAMES))]
    return [
        order[i % len(order)] + (str(i // len(order) + 1) if i >= len(order) else "")
        for i in range(n)
    ]


def _fn_names(n: int, rng: np.random.Generator) -> list[str]:
    order = [FN_NAMES[i] for i in rng.permutation(len(FN_NAMES))]
    return order[:n]
