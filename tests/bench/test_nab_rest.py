"""The rest period after an alert: silence that follows a high score, per series."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.bench.nab.rest import RestPeriod


def test_rest_silences_the_rows_after_an_alert_per_series() -> None:
    rest = RestPeriod(rows=2, level=0.9)
    rest.reserve(2)
    idx = np.array([0, 1])
    stream = [[0.95, 0.1], [0.99, 0.2], [0.97, 0.95], [0.5, 0.96], [0.93, 0.97]]
    out = [rest(idx, np.array(row)).tolist() for row in stream]
    # Series 0 alerts at row 0, rests rows 1-2, is heard again from row 3 and alerts at 4.
    assert [r[0] for r in out] == [0.95, 0.0, 0.0, 0.5, 0.93]
    # Series 1 is untouched by series 0's rest; it alerts at row 2 and rests rows 3-4.
    assert [r[1] for r in out] == [0.1, 0.2, 0.95, 0.0, 0.0]


def test_rest_only_steps_the_series_it_is_given() -> None:
    rest = RestPeriod(rows=1, level=0.5)
    rest.reserve(2)
    rest(np.array([0]), np.array([0.9]))
    # Series 1 never alerted; series 0's rest is spent on its own next point only.
    assert rest(np.array([1]), np.array([0.7])).tolist() == [0.7]
    assert rest(np.array([0]), np.array([0.8])).tolist() == [0.0]
    assert rest(np.array([0]), np.array([0.8])).tolist() == [0.8]


def test_the_rest_grows_with_the_points_the_series_has_seen() -> None:
    rest = RestPeriod(rows=2, level=0.9, fraction=0.25)
    rest.reserve(1)
    idx = np.array([0])
    stream = [0.95, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.96, 0.99, 0.99, 0.99]
    out = [rest(idx, np.array([x])).tolist()[0] for x in stream]
    # The first alert comes with nothing seen before it: the floor of 2 rows.
    assert out[:4] == [0.95, 0.0, 0.0, 0.1]
    # The second follows 12 points: a quarter of them, 3 rows, outlasts the floor.
    assert out[12:] == [0.96, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("rows", "level", "fraction"), [(0, 0.9, 0.0), (3, 0.0, 0.0), (3, 1.5, 0.0), (3, 0.9, 1.0)]
)
def test_rest_rejects_bad_settings(rows: int, level: float, fraction: float) -> None:
    with pytest.raises(ValueError):
        RestPeriod(rows=rows, level=level, fraction=fraction)
