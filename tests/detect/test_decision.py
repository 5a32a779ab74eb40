"""Episodes: open on crossing the threshold, update while high, close after quiet points."""

from __future__ import annotations

import numpy as np

from opsgraph.core.models import AnomalyStatus, Severity
from opsgraph.detect import EpisodeTracker


def _decide(tracker: EpisodeTracker, t: float, scores: list[float]):  # type: ignore[no-untyped-def]
    n = len(scores)
    return tracker.decide(
        ts=np.full(n, t),
        idx=np.arange(n),
        values=np.arange(n, dtype=float) + 100,
        expected=np.arange(n, dtype=float),
        scores=np.asarray(scores),
        keys=[(f"node-{i}", "cpu") for i in range(n)],
    )


def test_episode_lifecycle() -> None:
    tracker = EpisodeTracker(threshold=0.35, close_after=2, detector="robust_z")
    tracker.reserve(3)
    out = _decide(tracker, 1, [0.1, 0.5, 0.0])
    assert [a.resource_id for a in out.opened] == ["node-1"]
    assert out.opened[0].severity is Severity.MEDIUM
    out = _decide(tracker, 2, [0.1, 0.9, 0.0])
    assert not out.opened and out.updated[0].severity is Severity.CRITICAL
    assert out.updated[0].max_score == 0.9 and out.updated[0].last_ts == 2
    out = _decide(tracker, 3, [0.1, 0.2, 0.0])
    assert not out.closed
    out = _decide(tracker, 4, [0.1, 0.2, 0.0])
    assert len(out.closed) == 1
    closed = out.closed[0]
    assert closed.status is AnomalyStatus.RESOLVED and closed.end_ts == 2
    assert not tracker.open
    out = _decide(tracker, 5, [0.1, 0.7, 0.0])
    assert len(out.opened) == 1 and out.opened[0].severity is Severity.HIGH


def test_a_high_point_resets_the_quiet_count() -> None:
    tracker = EpisodeTracker(threshold=0.35, close_after=2, detector="robust_z")
    tracker.reserve(1)
    for t, s in enumerate([0.5, 0.1, 0.5, 0.1]):
        out = _decide(tracker, t, [s])
        assert not out.closed
    assert tracker.open


def test_an_episode_opens_only_after_enough_points_in_a_row() -> None:
    tracker = EpisodeTracker(threshold=0.35, close_after=2, detector="robust_z", open_after=2)
    tracker.reserve(2)
    assert not _decide(tracker, 1, [0.9, 0.1]).opened  # a one-point blip never opens
    assert not _decide(tracker, 2, [0.1, 0.5]).opened
    out = _decide(tracker, 3, [0.1, 0.6])
    assert len(out.opened) == 1
    anomaly = out.opened[0]
    assert anomaly.resource_id == "node-1" and anomaly.start_ts == 2  # dated from its first point
    assert anomaly.severity is Severity.MEDIUM


def test_bad_counts() -> None:
    import pytest

    with pytest.raises(ValueError):
        EpisodeTracker(threshold=0.35, close_after=0, detector="x")
    with pytest.raises(ValueError):
        EpisodeTracker(threshold=0.35, close_after=1, detector="x", open_after=0)


def _opened_at(tracker: EpisodeTracker, stream: list[list[float]]) -> list[list[int]]:
    """Per series, the steps at which an episode opened."""
    out: list[list[int]] = [[] for _ in stream[0]]
    for t, row in enumerate(stream):
        for anomaly in _decide(tracker, t, row).opened:
            out[int(anomaly.resource_id.split("-")[1])].append(t)
    return out


def test_after_an_opening_its_series_rests() -> None:
    tracker = EpisodeTracker(threshold=0.5, close_after=1, detector="d", rest_points=2)
    tracker.reserve(2)
    stream = [[0.9, 0.1], [0.1, 0.1], [0.9, 0.9], [0.1, 0.1], [0.9, 0.9], [0.9, 0.1]]
    # Series 0 opens at 0, rests through 1-2 (the high point at 2 opens nothing), and opens
    # again at 4; series 1's rest is its own: it opens at 2 and rests through 3-4.
    assert _opened_at(tracker, stream) == [[0, 4], [2]]


def test_the_rest_grows_with_the_points_the_series_has_seen() -> None:
    tracker = EpisodeTracker(
        threshold=0.5, close_after=1, detector="d", rest_points=2, rest_fraction=0.25
    )
    tracker.reserve(1)
    stream = [[0.9]] + [[0.1]] * 11 + [[0.9], [0.1], [0.9], [0.1], [0.9], [0.9]]
    # The first opening has seen nothing before it: the floor of 2 points. The second, at 12,
    # follows 12 points: a quarter of them, 3 points (13-15), outlasts the floor.
    assert _opened_at(tracker, stream) == [[0, 12, 16]]


def test_without_a_rest_every_new_crossing_opens() -> None:
    tracker = EpisodeTracker(threshold=0.5, close_after=1, detector="d")
    tracker.reserve(1)
    assert _opened_at(tracker, [[0.9], [0.1], [0.9], [0.1], [0.9]]) == [[0, 2, 4]]


def test_bad_rest_settings_are_refused() -> None:
    import pytest

    for kwargs in ({"rest_points": -1}, {"rest_fraction": 1.0}, {"rest_fraction": -0.1}):
        with pytest.raises(ValueError):
            EpisodeTracker(threshold=0.5, close_after=1, detector="d", **kwargs)  # type: ignore[arg-type]


def test_rarity_opens_and_distance_sets_the_severity() -> None:
    tracker = EpisodeTracker(threshold=0.4, close_after=3, detector="ensemble")
    tracker.reserve(2)
    keys = [("quiet", "cpu"), ("far", "cpu")]

    def step(t: float, scores: list[float], distance: list[float]):  # type: ignore[no-untyped-def]
        return tracker.decide(
            ts=np.full(2, t),
            idx=np.arange(2),
            values=np.array([1.0, 2.0]),
            expected=np.zeros(2),
            scores=np.asarray(scores),
            keys=keys,
            severity=np.asarray(distance),
        )

    # One in 10^9 for a quiet series, but close to normal: worth a look, not a page. A far
    # point takes its severity once the distance has held for two points.
    opened = step(0.0, [0.9, 0.45], [0.1, 0.7]).opened
    assert [(a.resource_id, a.severity) for a in opened] == [
        ("quiet", Severity.MEDIUM),
        ("far", Severity.MEDIUM),
    ]
    # Severity follows the distance as it holds and grows, though the rarity does not.
    for t, expected in ((1.0, Severity.HIGH), (2.0, Severity.CRITICAL)):
        updated = step(t, [0.9, 0.45], [0.2, 0.9]).updated
        assert {a.resource_id: a.severity for a in updated} == {
            "quiet": Severity.MEDIUM,
            "far": expected,
        }
    assert {a.resource_id: a.max_score for a in updated} == {"quiet": 0.9, "far": 0.45}


def test_one_far_point_is_not_enough_for_a_page() -> None:
    tracker = EpisodeTracker(threshold=0.4, close_after=3, detector="ensemble")
    tracker.reserve(1)

    def step(t: float, distance: float):  # type: ignore[no-untyped-def]
        return tracker.decide(
            ts=np.array([t]),
            idx=np.array([0]),
            values=np.ones(1),
            expected=np.zeros(1),
            scores=np.array([0.5]),
            keys=[("a", "cpu")],
            severity=np.array([distance]),
        )

    (anomaly,) = step(0.0, 0.95).opened
    assert anomaly.severity is Severity.MEDIUM
    step(1.0, 0.1)
    step(2.0, 0.95)
    assert anomaly.severity is Severity.MEDIUM
    step(3.0, 0.95)
    assert anomaly.severity is Severity.CRITICAL


def test_an_open_episode_takes_the_distance_of_points_no_longer_rare() -> None:
    # A series whose tail has seen an earlier outage: the outage's first point is rare, the
    # second is not (score under the threshold), yet it holds the same distance from normal.
    tracker = EpisodeTracker(threshold=0.4, close_after=3, detector="ensemble")
    tracker.reserve(2)

    def step(t: float, scores: list[float], distance: list[float]):  # type: ignore[no-untyped-def]
        return tracker.decide(
            ts=np.full(2, t),
            idx=np.arange(2),
            values=np.array([300.0, 5.0]),
            expected=np.array([80.0, 4.0]),
            scores=np.asarray(scores),
            keys=[("far", "latency_ms"), ("near", "latency_ms")],
            severity=np.asarray(distance),
        )

    step(0.0, [0.1, 0.1], [0.9, 0.1])  # the point before: already far, not rare
    opened = step(1.0, [1.0, 1.0], [0.9, 0.1]).opened
    assert {a.resource_id: a.severity for a in opened} == {
        "far": Severity.CRITICAL,
        "near": Severity.MEDIUM,
    }
    tracker = EpisodeTracker(threshold=0.4, close_after=3, detector="ensemble")
    tracker.reserve(2)
    far, near = step(0.0, [1.0, 1.0], [0.9, 0.1]).opened
    assert far.severity is near.severity is Severity.MEDIUM
    out = step(1.0, [0.1, 0.1], [0.9, 0.1])
    assert out.updated == [far] and far.severity is Severity.CRITICAL
    assert near.severity is Severity.MEDIUM
    assert far.last_ts == 0.0  # a point below the threshold does not extend the episode
    assert step(2.0, [0.1, 0.1], [0.9, 0.1]).updated == []  # no change, no update
    closed = step(3.0, [0.1, 0.1], [0.9, 0.1]).closed
    assert {a.resource_id for a in closed} == {"far", "near"}
