"""False-positive knobs: direction, minimum deviation, valid range, warm-up, per metric."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.core.errors import ConfigError
from opsgraph.detect.knobs import KnobFilter, Knobs
from opsgraph.detect.settings import DetectSettings
from opsgraph.ingest.stream import knob_filter


def _apply(f: KnobFilter, values: list[float], expected: list[float], scores: list[float]):  # type: ignore[no-untyped-def]
    n = len(values)
    return f.apply(np.arange(n), np.array(values), np.array(expected), np.array(scores)).tolist()


def test_direction_and_minimum_deviation() -> None:
    f = KnobFilter(
        Knobs(),
        {
            "error_rate": Knobs(direction="up"),
            "free_mem": Knobs(direction="down"),
            "rps": Knobs(min_deviation=5.0, min_rel_deviation=0.1),
        },
    )
    f.add_series(["error_rate", "error_rate", "free_mem", "rps", "rps", "rps", "cpu"])
    out = _apply(
        f,
        values=[0.5, 0.0, 10.0, 104.0, 109.0, 111.0, 1.0],
        expected=[0.1, 0.1, 5.0, 100.0, 100.0, 100.0, 50.0],
        scores=[0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9],
    )
    # error rate up: kept; error rate down: good news; free memory up: fine;
    # rps +4 < 5 and +9 < 10 % of 100: normal; +11: kept; cpu with no knobs: kept.
    assert out == [0.9, 0.0, 0.0, 0.0, 0.0, 0.9, 0.9]


def test_valid_range_and_warmup() -> None:
    f = KnobFilter(Knobs(warmup_points=2), {"cpu": Knobs(valid_min=0.0, valid_max=100.0)})
    f.add_series(["latency", "cpu"])
    assert _apply(f, [1.0, 150.0], [1.0, 50.0], [0.9, 0.0]) == [0.0, 1.0]
    assert _apply(f, [1.0, 50.0], [1.0, 50.0], [0.9, 0.2]) == [0.0, 0.2]  # still warming up
    assert _apply(f, [1.0, 50.0], [1.0, 50.0], [0.9, 0.2]) == [0.9, 0.2]
    # No expected value yet (NaN): the score is left as the detector gave it.
    assert _apply(f, [1.0, 50.0], [np.nan, np.nan], [0.4, np.nan]) == [0.4, 0.0]


def test_config_defaults_and_validation() -> None:
    cfg = DetectSettings()
    assert cfg.per_metric["error_rate"].direction == "up"
    f = knob_filter(cfg)
    f.add_series(["error_rate", "cpu"])
    assert _apply(f, [0.0, 120.0], [0.01, 50.0], [0.9, 0.0]) == [0.0, 1.0]
    with pytest.raises(ValueError, match="valid_min"):
        DetectSettings(per_metric={"cpu": {"valid_min": 5, "valid_max": 1}})
    with pytest.raises(ValueError, match="direction"):
        DetectSettings(knobs={"direction": "sideways"})


def test_a_bad_knob_in_a_config_file_names_the_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from opsgraph.runtime.settings import load_settings

    cfg = tmp_path / "c.yaml"
    cfg.write_text("detect:\n  per_metric:\n    cpu:\n      direction: sideways\n")
    with pytest.raises(ConfigError, match=r"detect\.per_metric\.cpu\.direction"):
        load_settings(cfg)
