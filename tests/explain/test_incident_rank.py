"""The live path's ranking of an incident's root (`explain/incident.py`): the onset comes from
the detector (never the truth), and a root that moved a few rows before the detector confirmed
the change is still judged first."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Dependency
from opsgraph.explain.incident import LEAD_ROWS, diagnose, incident_window
from opsgraph.explain.live import Series

T0 = 1_750_000_000.0
STEP = 60.0
DEPS = [Dependency(source="web", target="app"), Dependency(source="app", target="db")]


def _series(change: dict[str, int], rows: int = 60) -> Series:
    """Latency and CPU of web -> app -> db; each node's latency rises from its `change` row."""
    rng = np.random.default_rng(4)
    ts = [T0 + STEP * i for i in range(rows)]
    out: Series = {}
    for node in ("web", "app", "db"):
        latency = 50 + rng.normal(0, 2, rows)
        if node in change:
            latency[change[node] :] += 400
        out[(node, "latency_ms")] = (ts, latency.tolist())
        out[(node, "cpu")] = (ts, (30 + rng.normal(0, 1, rows)).tolist())
    return out


def test_the_callee_that_changed_first_is_the_root_even_when_detected_late() -> None:
    series = _series({"db": 40, "app": 41, "web": 42})
    # The detector confirmed the change at web two rows after db began.
    onset = T0 + STEP * 42
    nodes, start, _end = incident_window(["web", "app"], onset, T0 + STEP * 59, DEPS)
    assert nodes[:2] == ["web", "app"] and "db" in nodes
    assert start == onset - 1800.0
    result = diagnose(onset, series, nodes, DEPS)
    assert result.root == "db"
    assert result.confidence > 0.5
    assert result.hypotheses[0]["node"] == "db"
    assert len(result.hypotheses) == 3
    assert result.hypotheses[0]["evidence"][0]["metric"] == "latency_ms"
    assert result.onset_ts == onset - LEAD_ROWS * STEP
    assert "db" in result.summary


def test_a_caller_is_not_blamed_for_its_callee() -> None:
    result = diagnose(T0 + STEP * 40, _series({"app": 40, "web": 40}), ["web", "app", "db"], DEPS)
    assert result.root == "app"


@pytest.mark.parametrize(
    ("series", "onset", "why"),
    [
        ({}, T0, "no samples recorded"),
        (_series({"db": 40}), T0 + STEP * 500, "too little history"),
        ({("db", "cpu"): ([T0, T0 + STEP, T0 + 2 * STEP], [1.0, 1.0, 9.0])}, T0 + STEP, "history"),
    ],
)
def test_what_cannot_be_judged_says_why(series: Series, onset: float, why: str) -> None:
    with pytest.raises(InvalidInputError, match=why):
        diagnose(onset, series, ["db"], DEPS)


def test_a_change_one_row_old_leaves_the_ranking_unsettled() -> None:
    series = _series({"db": 40, "app": 41, "web": 42})
    nodes = ["web", "app", "db"]
    last = T0 + STEP * 59
    assert not diagnose(T0 + STEP * 42, series, nodes, DEPS, newest_ts=last).settled
    assert diagnose(T0 + STEP * 42, series, nodes, DEPS, newest_ts=last - STEP).settled
    assert diagnose(T0 + STEP * 42, series, nodes, DEPS).settled


def test_a_callee_that_only_began_to_change_leaves_the_ranking_unsettled() -> None:
    """app's latency rose two rows ago; db, which app calls, only in the last row: the
    ranking may still move to db, so it is not vouched for yet."""
    series = _series({"app": 57, "db": 59})
    result = diagnose(T0 + STEP * 57, series, ["web", "app", "db"], DEPS)
    assert result.root == "app" and not result.settled
    later = diagnose(T0 + STEP * 57, _series({"app": 57, "db": 58}), ["web", "app", "db"], DEPS)
    assert later.settled
