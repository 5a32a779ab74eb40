"""The runtime: serve keeps its data and resumes after it; the demo starts afresh; push-only."""

from __future__ import annotations

from pathlib import Path

from opsgraph.core.models import Resource, Sample
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings


def _settings(tmp_path: Path, **sim: object) -> Settings:
    return Settings(data_dir=tmp_path, sim={"resources": 20, "preroll_steps": 10, **sim})


def test_serve_resumes_after_what_is_stored(tmp_path: Path) -> None:
    first = Runtime(_settings(tmp_path))
    first.simulation.start()
    first.simulation.step()
    last = first.store.last_sample_ts()
    count = first.store.counts()["samples"]
    first.close()
    assert last is not None and count == 11 * 20 * 8

    second = Runtime(_settings(tmp_path))
    assert len(second.estate.resources) == 20  # the topology came back from the store
    sim = second.simulation.start()
    assert sim.now == last + 15.0  # no pre-roll over stored history, no timestamp twice
    second.simulation.step()
    assert second.store.counts()["samples"] == count + 20 * 8
    second.close()


def test_demo_starts_from_a_clean_database(tmp_path: Path) -> None:
    for _ in range(2):
        rt = Runtime(_settings(tmp_path), demo=True)
        rt.simulation.start()
        assert rt.store.counts()["samples"] == 10 * 20 * 8
        rt.close()
    assert (tmp_path / "demo.db").exists() and not (tmp_path / "opsgraph.db").exists()


def test_push_only_server(tmp_path: Path) -> None:
    rt = Runtime(_settings(tmp_path, enabled=False))
    assert rt.simulation.cloud is None and rt.health()["sim"] is False
    rt.estate.upsert([Resource(id="api-1")], [])
    result = rt.ingestor.ingest_samples(
        [Sample(resource_id="api-1", metric="cpu", ts=float(t), value=1.0) for t in range(5)]
    )
    assert result.samples == 5 and rt.store.counts()["samples"] == 5
    assert [n["id"] for n in rt.estate.graph()["nodes"]] == ["api-1"]
    rt.close()


def test_calendar_events_are_recorded(tmp_path: Path) -> None:
    from opsgraph.sim import CalendarEvent

    rt = Runtime(_settings(tmp_path, preroll_steps=0))
    sim = rt.simulation.start()
    sale = CalendarEvent(
        name="flash-sale", start_ts=sim.now + 60, end_ts=sim.now + 180, multiplier=2.0, kind="sale"
    )
    rt.ingestor.set_calendar([*rt.ingestor.calendar.events, sale])
    for _ in range(round(240 / rt.settings.sim.step_s) + 1):
        rt.simulation.step()
    events, _ = rt.store.list_events(limit=10)
    kinds = sorted((e.kind, e.payload.get("name")) for e in events if e.kind.startswith("cal"))
    assert ("calendar.start", "flash-sale") in kinds and ("calendar.end", "flash-sale") in kinds
    rt.close()


def test_faults_a_change_brings_record_the_change_and_an_expired_certificate_does_not(
    tmp_path: Path,
) -> None:
    from opsgraph.sim import ActionKind, FaultKind

    rt = Runtime(_settings(tmp_path, preroll_steps=0))
    sim = rt.simulation.start()
    app = next(r.id for r in sim.resources if r.kind.value == "ec2")
    other = [r.id for r in sim.resources if r.kind.value == "ec2"][1]
    rt.simulation.inject_fault(FaultKind.MISCONFIGURATION, app)
    rt.simulation.inject_fault(FaultKind.CERTIFICATE_EXPIRY, other)
    changes, _ = rt.store.list_events(kind="change.deploy")
    assert [e.resource_id for e in changes] == [app]
    # The expired certificate looks like a misconfiguration, but a rollback does not cure it.
    rt.simulation.step()
    outcome = rt.simulation.apply_action(ActionKind.ROLLBACK, other)
    assert outcome.ok
    for _ in range(12):
        rt.simulation.step()
    faults = {f.root: f for f in sim.faults}
    assert faults[other].cleared_by in (None, "expired")
    rt.close()
