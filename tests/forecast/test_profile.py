"""The seasonal profile: depth and level window chosen on the history's own last days."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.core.errors import InvalidInputError
from opsgraph.forecast.profile import SeasonalProfile, profile_forecast

DAY = 86_400.0
STEP = 3_600.0  # hourly: a day is 24 steps


def _hours(days: int) -> np.ndarray:
    return 1_700_000_000.0 + np.arange(days * 24) * STEP


def test_the_forecast_averages_periods_and_follows_the_level() -> None:
    grid = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])  # two periods of 4
    np.testing.assert_array_equal(profile_forecast(grid, 4, 4, 1, 0), [5, 6, 7, 8])
    np.testing.assert_array_equal(profile_forecast(grid, 4, 4, 2, 0), [3, 4, 5, 6])
    # Level over the last 2 steps (7.5) against the same steps a period before (3.5): +4.
    np.testing.assert_array_equal(profile_forecast(grid, 4, 4, 1, 2), [9, 10, 11, 12])
    # Beyond one period the same phases repeat; a phase never seen takes the last value.
    np.testing.assert_array_equal(profile_forecast(grid, 6, 4, 1, 0), [5, 6, 7, 8, 5, 6])
    gappy = grid.copy()
    gappy[4] = np.nan
    np.testing.assert_array_equal(profile_forecast(gappy, 2, 4, 1, 0), [8, 6])


def test_noisy_periods_choose_more_depth() -> None:
    rng = np.random.default_rng(1)
    ts = _hours(28)
    values = 10 + 5 * np.sin(2 * np.pi * (ts % DAY) / DAY) + rng.normal(0, 3.0, ts.size)
    model = SeasonalProfile(period_s=DAY, periods=(1, 4), level_s=(0.0,)).fit(ts, values)
    assert model.chosen == (4, 0)
    assert model.selection[(4, 0)] < model.selection[(1, 0)]


def test_a_level_shift_chooses_a_level_window() -> None:
    ts = _hours(28)
    values = 10 + 5 * np.sin(2 * np.pi * (ts % DAY) / DAY) + np.arange(ts.size) * 0.2
    model = SeasonalProfile(period_s=DAY, periods=(2,), level_s=(0.0, 6 * STEP)).fit(ts, values)
    assert model.chosen == (2, 6)
    fc = model.predict(DAY)
    truth = 10 + 5 * np.sin(2 * np.pi * (fc.ts % DAY) / DAY) + (ts.size + np.arange(24)) * 0.2
    assert np.abs(fc.mean - truth).max() < 6.0  # the trend's level, not two days behind it


def test_without_a_selection_day_it_is_the_seasonal_naive() -> None:
    ts = _hours(1)
    values = np.arange(24.0)
    model = SeasonalProfile(period_s=DAY).fit(ts, values)
    assert model.selection == {} and model.chosen == (1, 0)
    np.testing.assert_array_equal(model.predict(DAY).mean, values)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"period_s": 0.0}, "period_s"),
        ({"periods": ()}, "periods"),
        ({"periods": (0, 2)}, "periods"),
        ({"level_s": (-1.0,)}, "level_s"),
        ({"select_horizon_s": 0.0}, "select_s"),
    ],
)
def test_bad_parameters_name_their_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        SeasonalProfile(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
