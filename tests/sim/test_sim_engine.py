"""The simulated cloud's frames: shape, determinism, ranges, noise, seasonality and load flow."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIM_METRICS
from opsgraph.core.models import Dependency, DependencyKind, Resource, ResourceKind, SampleFrame
from opsgraph.sim import Calendar, CalendarEvent, FaultKind, SimulatedCloud
from opsgraph.sim.workload import DAY_S, REGION_UTC_OFFSET_H

MONDAY = 1_700_438_400.0  # 2023-11-20 00:00 UTC
COL = {m: j for j, m in enumerate(SIM_METRICS)}


def _col(frames: list[SampleFrame], metric: str) -> npt.NDArray[np.float64]:
    return np.stack([f.values[:, COL[metric]] for f in frames])


def test_frame_shape_and_clock() -> None:
    sim = SimulatedCloud.generate(57, seed=1, start_ts=MONDAY, step_s=30.0)
    assert sim.metrics == SIM_METRICS
    assert len(sim.graph) == 57 and sim.step_s == 30.0
    first, second = sim.step(), sim.step()
    assert first.ts == MONDAY and second.ts == MONDAY + 30.0
    assert sim.now == MONDAY + 60.0
    assert first.values.shape == (57, len(SIM_METRICS))
    assert first.resource_ids == tuple(r.id for r in sim.resources)
    assert first.metrics == SIM_METRICS


def test_same_seed_same_frames_including_faults_and_actions() -> None:
    def play(seed: int) -> list[np.ndarray]:
        sim = SimulatedCloud.generate(120, seed=seed, start_ts=MONDAY)
        out = [f.values for f in sim.run(3)]
        sim.inject(FaultKind.CPU_HOG, next(r.id for r in sim.resources if r.kind == "ec2"))
        out += [f.values for f in sim.run(3)]
        asg = next(r.id for r in sim.resources if r.kind == "asg")
        sim.apply_action("scale_out", asg, {"count": 2})
        out += [f.values for f in sim.run(3)]
        return out

    a, b = play(8), play(8)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    other = SimulatedCloud.generate(120, seed=9, start_ts=MONDAY)
    assert not np.array_equal(a[0], other.step().values)
    # same topology, other seed: only the noise differs, and it does
    d = SimulatedCloud(*_shared_topology(), seed=1, start_ts=MONDAY, calendar=Calendar())
    e = SimulatedCloud(*_shared_topology(), seed=2, start_ts=MONDAY, calendar=Calendar())
    assert not np.array_equal(d.step().values, e.step().values)


@pytest.fixture(scope="module")
def week_of_frames() -> tuple[SimulatedCloud, list[SampleFrame]]:
    sim = SimulatedCloud.generate(300, seed=4, start_ts=MONDAY, step_s=900.0)
    return sim, sim.run(7 * 96)


def test_values_are_physical(week_of_frames: tuple[SimulatedCloud, list[SampleFrame]]) -> None:
    _, frames = week_of_frames
    v = np.stack([f.values for f in frames])
    assert np.isfinite(v).all() and (v >= 0).all()
    for m in ("cpu", "memory", "disk"):
        assert v[:, :, COL[m]].max() <= 100.0
    err = v[:, :, COL["error_rate"]]
    assert err.max() <= 1.0
    assert (err > 0).all()
    assert 0.0005 < float(np.median(err)) < 0.02


def test_every_series_is_noisy(week_of_frames: tuple[SimulatedCloud, list[SampleFrame]]) -> None:
    _, frames = week_of_frames
    v = np.stack([f.values for f in frames[:30]])
    assert (v.std(axis=0) > 0).all()


def test_daily_seasonality(week_of_frames: tuple[SimulatedCloud, list[SampleFrame]]) -> None:
    sim, frames = week_of_frames
    ts = np.array([f.ts for f in frames[: 5 * 96]])  # Monday to Friday
    req = _col(frames[: 5 * 96], "request_count")
    for r in sim.resources:
        if r.kind is not ResourceKind.ELB:
            continue
        hour = ((ts / 3600.0) + REGION_UTC_OFFSET_H[r.region]) % 24.0
        i = sim.resource_ids.index(r.id)
        night = req[(hour >= 2) & (hour < 5), i].mean()
        afternoon = req[(hour >= 13) & (hour < 17), i].mean()
        assert afternoon > 1.6 * night, r.id


def test_calendar_event_raises_traffic() -> None:
    topology = _shared_topology()
    event = CalendarEvent(
        name="black-friday",
        start_ts=MONDAY + 3600,
        end_ts=MONDAY + 7200,
        multiplier=2.0,
        kind="sale",
    )
    with_sale = SimulatedCloud(*topology, seed=3, start_ts=MONDAY, step_s=600, calendar=Calendar())
    with_sale.calendar.add(event)
    plain = SimulatedCloud(*topology, seed=3, start_ts=MONDAY, step_s=600, calendar=Calendar())
    a, b = _col(with_sale.run(12), "request_count"), _col(plain.run(12), "request_count")
    elb = with_sale.resource_ids.index("web-elb")
    db = with_sale.resource_ids.index("db")
    assert np.array_equal(a[:6], b[:6])
    assert (a[6:12, elb] > 1.7 * b[6:12, elb]).all()
    assert (a[6:12, db] > 1.5 * b[6:12, db]).all()
    assert [e.name for e in with_sale.calendar.active(MONDAY + 4000)] == ["black-friday"]


def test_generated_calendar_is_used_by_default() -> None:
    sim = SimulatedCloud.generate(20, seed=6, start_ts=MONDAY)
    kinds = {e.kind for e in sim.calendar.events}
    assert kinds == {"sale", "promotion"}
    assert all(e.end_ts > MONDAY for e in sim.calendar.events)


def _shared_topology() -> tuple[list[Resource], list[Dependency]]:
    """web-elb -> web-1/2 (asg web-asg) -> fn -> db; the db is also used by a batch job."""
    flat = {"seasonality": 0.0}
    resources = [
        Resource(id="web-elb", kind=ResourceKind.ELB, attrs={"base_rps": 100.0, **flat}),
        Resource(id="web-asg", kind=ResourceKind.ASG),
        Resource(id="web-1", kind=ResourceKind.EC2, attrs={"capacity_rps": 100.0}),
        Resource(id="web-2", kind=ResourceKind.EC2, attrs={"capacity_rps": 100.0}),
        Resource(id="fn", kind=ResourceKind.LAMBDA, attrs={"capacity_rps": 400.0}),
        Resource(id="db", kind=ResourceKind.RDS, attrs={"capacity_rps": 1000.0}),
        Resource(id="job", kind=ResourceKind.GENERIC, attrs={"base_rps": 5.0}),
    ]
    calls, member = DependencyKind.CALLS, DependencyKind.MEMBER
    deps = [
        Dependency(source="web-elb", target="web-1", kind=calls),
        Dependency(source="web-elb", target="web-2", kind=calls),
        Dependency(source="web-asg", target="web-1", kind=member),
        Dependency(source="web-asg", target="web-2", kind=member),
        Dependency(source="web-1", target="fn"),
        Dependency(source="web-2", target="fn"),
        Dependency(source="fn", target="db"),
        Dependency(source="job", target="db"),
    ]
    return resources, deps


def test_load_flows_down_and_groups_aggregate() -> None:
    sim = SimulatedCloud(*_shared_topology(), seed=2, start_ts=MONDAY, calendar=Calendar())
    frames = sim.run(40)
    req = _col(frames, "request_count").mean(axis=0) / sim.step_s
    ix = {rid: i for i, rid in enumerate(sim.resource_ids)}
    assert req[ix["web-elb"]] == pytest.approx(100, rel=0.1)
    assert req[ix["web-1"]] == pytest.approx(50, rel=0.1)
    assert req[ix["fn"]] == pytest.approx(100, rel=0.1)
    assert req[ix["db"]] == pytest.approx(105, rel=0.1)
    assert req[ix["web-asg"]] == pytest.approx(req[ix["web-1"]] + req[ix["web-2"]], rel=1e-9)
    cpu = _col(frames, "cpu")
    assert np.allclose(cpu[:, ix["web-asg"]], (cpu[:, ix["web-1"]] + cpu[:, ix["web-2"]]) / 2)
    lat = _col(frames, "latency_ms").mean(axis=0)
    assert lat[ix["web-1"]] > lat[ix["fn"]] > lat[ix["db"]]  # callers include callees' time


def test_latency_rises_sharply_near_saturation() -> None:
    def own_latency(base_rps: float) -> float:
        resources = [
            Resource(
                id="lb", kind=ResourceKind.ELB, attrs={"base_rps": base_rps, "seasonality": 0}
            ),
            Resource(id="vm", kind=ResourceKind.EC2, attrs={"capacity_rps": 100.0}),
        ]
        sim = SimulatedCloud(
            resources,
            [Dependency(source="lb", target="vm")],
            seed=1,
            start_ts=MONDAY,
            calendar=Calendar(),
        )
        return float(_col(sim.run(20), "latency_ms")[:, 1].mean())

    low, high, saturated = own_latency(20), own_latency(80), own_latency(110)
    assert high > 3 * low
    assert saturated > 4 * high


def test_defaults_when_attrs_are_missing() -> None:
    resources = [Resource(id="lb", kind=ResourceKind.ELB), Resource(id="vm", kind=ResourceKind.EC2)]
    sim = SimulatedCloud(resources, [Dependency(source="lb", target="vm")], seed=0, start_ts=0.0)
    v = sim.step().values
    assert v[1, COL["request_count"]] > 0 and 0 < v[1, COL["cpu"]] < 100


def test_constructor_errors() -> None:
    resources, deps = _shared_topology()
    with pytest.raises(InvalidInputError) as err:
        SimulatedCloud(resources, deps, seed=1, start_ts=MONDAY, step_s=0)
    assert err.value.field == "step_s"
    with pytest.raises(InvalidInputError) as err:
        SimulatedCloud([*resources, resources[0]], deps, seed=1, start_ts=MONDAY)
    assert err.value.field == "resources"
    with pytest.raises(InvalidInputError) as err:
        SimulatedCloud(
            resources, [*deps, Dependency(source="db", target="fn")], seed=1, start_ts=MONDAY
        )
    assert err.value.field == "dependencies" and "cycle" in err.value.reason
    with pytest.raises(InvalidInputError):
        SimulatedCloud(resources, [Dependency(source="x", target="db")], seed=1, start_ts=MONDAY)
    with pytest.raises(InvalidInputError):
        SimulatedCloud([], [], seed=1, start_ts=MONDAY)
    with pytest.raises(InvalidInputError) as err:
        SimulatedCloud(resources, deps, seed=1, start_ts=float("nan"))
    assert err.value.field == "start_ts"


def test_ten_thousand_resources() -> None:
    sim = SimulatedCloud.generate(10_000, seed=1, start_ts=MONDAY)
    frame = sim.step()
    assert frame.values.shape == (10_000, len(SIM_METRICS))
    assert np.isfinite(frame.values).all()
    assert abs(sim.now - (MONDAY + DAY_S / 1440)) < 1e-6
