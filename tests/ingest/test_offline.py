"""Scoring files and backtesting: causal, label-blind, explained per signal, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.table import Table
from opsgraph.detect.settings import DetectSettings
from opsgraph.ingest.offline import backtest, score_table
from opsgraph.sources.files import read_table


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n")
    return path


def _wide(path: Path, n: int, spike_at: int | None = None, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    rows = ["timestamp,cpu,latency,label"]
    for i in range(n):
        cpu, lat = 40 + rng.normal(0, 1), 100 + rng.normal(0, 3)
        label = 0
        if spike_at is not None and spike_at <= i < spike_at + 3:
            lat, label = 400.0, 1
        rows.append(
            f"2024-01-01T00:00:00Z,{cpu:.3f},{lat:.3f},{label}".replace(
                "2024-01-01T00:00:00Z", str(1_700_000_000 + 60 * i)
            )
        )
    return _write(path, rows)


def test_scores_every_row_and_explains_by_signal(tmp_path: Path) -> None:
    test = read_table(_wide(tmp_path / "test.csv", 600, spike_at=500))
    assert test.columns == ["cpu", "latency"] and test.ignored == ["label"]
    result = score_table(test)
    scores, per_signal = result.scores, result.per_signal
    assert scores.shape == (600,) and per_signal.shape == (600, 2)
    assert np.all((scores >= 0) & (scores <= 1))
    assert scores[500] == scores.max() and np.argmax(per_signal[500]) == 1  # latency did it
    # Causal: rows after 400 cannot change the scores before it.
    cut = read_table(_wide(tmp_path / "cut.csv", 400))
    np.testing.assert_array_equal(score_table(cut).scores, scores[:400])


def test_training_first_makes_the_test_start_warm(tmp_path: Path) -> None:
    train = read_table(_wide(tmp_path / "train.csv", 500, seed=1))
    test = read_table(_wide(tmp_path / "test.csv", 50, spike_at=10))
    cold = score_table(test).scores
    warm = score_table(test, train, multivariate=()).scores  # the streaming members, warmed
    assert cold[10] == 0.0  # nothing learned yet
    assert warm[10] > 0.99
    other = read_table(_write(tmp_path / "other.csv", ["timestamp,disk", "1,1", "2,2"]))
    with pytest.raises(InvalidInputError, match="cpu"):
        score_table(test, other)


def test_files_without_time_and_bad_files(tmp_path: Path) -> None:
    table = read_table(
        _write(tmp_path / "a.csv", ["x,y"] + [f"{i % 3},{i % 5}" for i in range(50)])
    )
    assert table.ts is None
    scores = score_table(table).scores  # the seasonal member is left out without time
    assert scores.shape == (50,)
    with pytest.raises(InvalidInputError, match="needs a timestamp"):
        score_table(table, members="seasonal")
    for rows, message in [
        (["timestamp,x", "1,abc"], "not a number"),
        (["timestamp,x", "yesterday,1"], "ISO 8601"),
        (["timestamp,x", "1,2,3"], "fields"),
        (["timestamp,label", "1,0"], "no signal column"),
        (["timestamp,x", "1,inf"], "infinite"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            read_table(_write(tmp_path / "bad.csv", rows))
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_table(tmp_path / "missing.csv")


def test_long_tables_and_backtest(tmp_path: Path) -> None:
    rows = ["resource_id,metric,timestamp,value"]
    rng = np.random.default_rng(2)
    for i in range(300):
        for res in ("db-1", "api-1"):
            value = 20 + rng.normal(0, 1) + (60 if res == "db-1" and 250 <= i < 260 else 0)
            rows.append(f"{res},cpu,{1_700_000_000 + 60 * i},{value:.3f}")
    table = read_table(_write(tmp_path / "long.csv", rows))
    assert table.columns == ["db-1/cpu", "api-1/cpu"] and table.values.shape == (300, 2)
    report = backtest(table, DetectSettings())
    assert [
        (a.resource_id, a.metric) for a in report.alerts if a.start_ts >= 1_700_000_000 + 60 * 250
    ]
    hit = [
        a
        for a in report.alerts
        if a.resource_id == "db-1" and a.start_ts >= 1_700_000_000 + 60 * 249
    ]
    assert hit and hit[0].severity.value == "critical"
    summary = report.summary()
    assert (
        summary["rows"] == 300
        and summary["series"] == 2
        and summary["alerts"] == len(report.alerts)
    )


def test_member_specs() -> None:
    from opsgraph.detect.members import parse_members
    from opsgraph.ingest.offline import build_ensemble

    members = parse_members("robust_z@120, cusum , seasonal:period=week:slot_minutes=30")
    assert members == [
        ("robust_z", 120, {}),
        ("cusum", None, {}),
        ("seasonal", None, {"period": "week", "slot_minutes": 30}),
    ]
    ensemble = build_ensemble(members)
    assert [m.name for m in ensemble.members] == ["robust_z", "cusum", "seasonal"]
    for bad, message in [("robust_z@x", "integer"), ("seasonal:week", "key=value"), (",", "empty")]:
        with pytest.raises(InvalidInputError, match=message):
            parse_members(bad)


def test_with_training_the_fitted_model_scores_and_attributes(tmp_path: Path) -> None:
    train = read_table(_wide(tmp_path / "train.csv", 400, seed=1))
    test = read_table(_wide(tmp_path / "test.csv", 60, spike_at=30))
    fitted = score_table(test, train)  # the default: the PCA residual fitted on train
    # Averaged over 6 rows, the score climbs after the 3 spiked rows (30-32) past one in 10^4
    # (0.4 on the surprise scale), above every calm row.
    assert fitted.scores[33:36].max() >= 0.4 > fitted.scores[:25].max()
    assert int(np.argmax(fitted.scores)) in range(30, 37)
    assert np.median(fitted.scores[:25]) < 0.1
    # Each signal's probability is its share of the row's: they add up to the row's score.
    np.testing.assert_allclose(fitted.per_signal.sum(axis=1), fitted.scores, atol=1e-9)
    spiked = test.columns.index("latency")  # the signal _wide spikes
    assert int(np.argmax(fitted.per_signal[32])) == spiked
    streaming = score_table(test, train, multivariate=()).scores
    assert streaming[30] > 0.99  # 'none': the streaming members warmed on train decide


def test_autoencoder_reports_drift(tmp_path: Path) -> None:
    train = read_table(_wide(tmp_path / "train.csv", 400, seed=1))
    test = read_table(_wide(tmp_path / "test.csv", 100, seed=2))
    result = score_table(test, train, multivariate=["autoencoder"])
    assert len(result.notes) == 1 and result.notes[0].startswith("autoencoder: KS")


def test_clean_data_scores_low_with_and_without_training() -> None:
    """A daily sine plus noise has nothing rare in it: no row reaches 0.9 (one in 10^9) on the
    live scale, streaming or with a model fitted on training rows (it was 78 and 126 rows of
    580 when scores were probabilities)."""
    rng = np.random.default_rng(0)

    def sine(n: int, start: int) -> Table:
        i = np.arange(start, start + n)
        values = 50 + 20 * np.sin(2 * np.pi * i / 288) + rng.normal(0, 2, n)
        return Table(["cpu"], values[:, None], 1.7e9 + 300.0 * i, [])

    train, test = sine(2000, 0), sine(580, 2000)
    for scored in (
        score_table(test),
        score_table(test, train),
        score_table(test, train, multivariate=()),
    ):
        assert int((scored.scores >= 0.9).sum()) == 0
        assert int((scored.scores >= 0.4).sum()) <= 0.02 * 580
