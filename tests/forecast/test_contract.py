"""What every registered forecaster promises (docs/forecasting.md): no look-ahead, clone and
pickle round-trips, horizon and step handling, gaps, too-short history, and conformal
coverage on a hold-out."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from opsgraph.core.errors import InvalidInputError
from opsgraph.forecast import Conformal, Forecaster, HoltWinters, SeasonalNaive, available, create

NAMES = sorted(available())
STEP = 1800.0  # 30 min: ten days are 480 points, enough for the weekly season and fast.
DAY = 86_400.0


def _series(days: float, step: float = STEP, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = 1_700_000_000.0 + np.arange(int(days * DAY / step)) * step
    values = 50 + 10 * np.sin(2 * np.pi * ts / DAY) + rng.normal(0, 1.0, ts.size)
    return ts, values


def _fitted(name: str, days: float = 10) -> tuple[Forecaster, np.ndarray, np.ndarray]:
    ts, values = _series(days)
    return create(name).fit(ts, values), ts, values


def test_the_builtins_are_registered() -> None:
    assert {
        "naive",
        "seasonal_naive",
        "seasonal_naive_weekly",
        "holt_winters",
        "conformal",
    } <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_no_look_ahead(name: str) -> None:
    ts, values = _series(12)
    cut = int(10 * DAY / STEP)
    changed = values.copy()
    changed[cut:] += 1000.0
    a = create(name).fit(ts[:cut], values[:cut]).predict(DAY)
    b = create(name).fit(ts[:cut], changed[:cut]).predict(DAY)
    np.testing.assert_array_equal(a.mean, b.mean)
    for q in a.quantiles:
        np.testing.assert_array_equal(a.quantiles[q], b.quantiles[q])


@pytest.mark.parametrize("name", NAMES)
def test_clone_and_pickle_give_the_same_predictions(name: str) -> None:
    f, ts, values = _fitted(name)
    want = f.predict(DAY)
    clone = f.clone()
    assert not clone.fitted
    assert clone.params().keys() == f.params().keys()
    again = clone.fit(ts, values).predict(DAY)
    thawed = pickle.loads(pickle.dumps(f)).predict(DAY)
    for got in (again, thawed):
        np.testing.assert_allclose(got.mean, want.mean)
        for q in want.quantiles:
            np.testing.assert_allclose(got.quantiles[q], want.quantiles[q])


@pytest.mark.parametrize("name", NAMES)
def test_horizon_and_step(name: str) -> None:
    f, ts, _ = _fitted(name)
    fc = f.predict(DAY)
    assert fc.mean.shape == fc.ts.shape == (48,)
    assert fc.ts[0] > ts[-1]
    np.testing.assert_allclose(np.diff(fc.ts), STEP)
    np.testing.assert_allclose(fc.ts[0], ts[-1] + STEP)
    assert set(fc.quantiles) == {0.1, 0.5, 0.9}
    assert np.all(fc.quantiles[0.1] <= fc.quantiles[0.9])
    coarse = f.predict(DAY, step_s=3 * STEP, quantiles=(0.25, 0.75))
    assert coarse.mean.shape == (16,)
    np.testing.assert_allclose(np.diff(coarse.ts), 3 * STEP)
    np.testing.assert_allclose(coarse.mean, fc.mean[2::3])
    assert set(coarse.quantiles) == {0.25, 0.75}
    for bad in (float("nan"), float("inf"), 0.0, -STEP, 1.5 * STEP):
        with pytest.raises(InvalidInputError) as err:
            f.predict(bad)
        assert err.value.field == "horizon_s"
    for bad_step in (0.0, float("nan"), 1.5 * STEP):
        with pytest.raises(InvalidInputError) as err:
            f.predict(DAY, step_s=bad_step)
        assert err.value.field == "step_s"
    with pytest.raises(InvalidInputError) as err:
        f.predict(DAY, quantiles=(0.0, 0.5))
    assert err.value.field == "quantiles"


@pytest.mark.parametrize("name", NAMES)
def test_gaps_in_history(name: str) -> None:
    ts, values = _series(11)
    values = values.copy()
    values[100:130] = np.nan  # missing values
    values[-3] = np.nan
    keep = np.ones(ts.size, dtype=bool)
    keep[200:260] = False  # missing timestamps
    keep[300:301] = False
    fc = create(name).fit(ts[keep], values[keep]).predict(DAY)
    assert np.all(np.isfinite(fc.mean))
    for band in fc.quantiles.values():
        assert np.all(np.isfinite(band))
    np.testing.assert_allclose(fc.ts[0], ts[-1] + STEP)


@pytest.mark.parametrize("name", NAMES)
def test_too_short_history_names_the_field(name: str) -> None:
    ts, values = _series(1.5)
    with pytest.raises(InvalidInputError) as err:
        create(name).fit(ts[:1], values[:1])
    assert err.value.field == "ts"
    with pytest.raises(InvalidInputError) as err:
        create(name).fit(ts[:5], np.full(5, np.nan))
    assert err.value.field == "values"
    if name != "naive":  # every seasonal model needs at least a day (a week for weekly)
        with pytest.raises(InvalidInputError) as err:
            create(name).fit(ts[:20], values[:20])
        assert err.value.field == "ts"
        assert "period" in err.value.reason


def test_predict_before_fit_and_bad_inputs() -> None:
    with pytest.raises(InvalidInputError) as err:
        create("naive").predict(DAY)
    assert err.value.field == "forecaster"
    with pytest.raises(InvalidInputError) as err:
        create("naive").fit([3.0, 2.0, 1.0], [1.0, 2.0, 3.0])
    assert err.value.field == "ts"
    with pytest.raises(InvalidInputError) as err:
        create("naive").fit([1.0, 2.0], [1.0])
    assert err.value.field == "values"


def test_registry_errors() -> None:
    with pytest.raises(InvalidInputError, match="unknown forecaster 'nope'") as err:
        create("nope")
    assert err.value.field == "forecaster"
    with pytest.raises(InvalidInputError) as err:
        create("naive", alpha=0.3)
    assert err.value.field == "forecaster.naive"
    with pytest.raises(InvalidInputError) as err:
        create("seasonal_naive", period_s=-1)
    assert err.value.field == "period_s"
    with pytest.raises(InvalidInputError) as err:
        create("conformal", calibration_fraction=1.5)
    assert err.value.field == "calibration_fraction"


def test_seasonal_naive_falls_back_to_the_last_value_at_the_same_phase() -> None:
    ts = np.arange(12) * 10.0
    values = np.arange(12, dtype=float)
    values[9] = np.nan  # the latest value of phase 1 (period 4 steps): fall back to 5
    fc = SeasonalNaive(period_s=40.0).fit(ts, values).predict(40.0)
    np.testing.assert_array_equal(fc.mean, [8.0, 5.0, 10.0, 11.0])


@pytest.mark.parametrize("inner", [HoltWinters(), SeasonalNaive()])
def test_conformal_80_percent_interval_covers_the_hold_out(inner: Forecaster) -> None:
    ts, values = _series(6, step=300.0, seed=11)
    cut = ts.size - 288
    fc = Conformal(inner, calibration_fraction=0.2).fit(ts[:cut], values[:cut]).predict(DAY)
    lo, hi = fc.interval(0.1, 0.9)
    covered = float(np.mean((values[cut:] >= lo) & (values[cut:] <= hi)))
    assert 0.65 <= covered <= 0.95, covered
    assert np.all(hi - lo > 0)
