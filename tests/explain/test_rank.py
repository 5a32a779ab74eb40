"""Root-cause ranking: evidence from each metric's own normal, blame along the graph, timing."""

from __future__ import annotations

import re

import numpy as np
import pytest

from opsgraph.explain import rank_root_causes, score_metrics
from opsgraph.explain.evidence import robust_scale, slo_affinity
from opsgraph.explain.summary import result_json, summary

ROWS, START = 60, 40
T0 = 1_700_000_000.0


def _estate(seed: int = 0) -> tuple[list[str], list[str], np.ndarray]:
    """web -> api -> db, each with latency and requests; healthy noise everywhere."""
    rng = np.random.default_rng(seed)
    nodes = ["web", "web", "api", "api", "db", "db"]
    metrics = ["latency", "requests"] * 3
    level = np.array([100.0, 500.0, 50.0, 500.0, 5.0, 800.0])
    values = level * (1 + 0.02 * rng.standard_normal((ROWS, 6)))
    return nodes, metrics, values


CALLS = [("web", "api"), ("api", "db")]


def test_a_slow_database_is_blamed_before_its_callers() -> None:
    nodes, metrics, values = _estate()
    values[START:, 4] *= 8  # db latency x8 from the start
    values[START + 2 :, 2] *= 3  # api slows two rows later
    values[START + 3 :, 0] *= 2  # then web
    ev = score_metrics(nodes, metrics, values, START)
    result = rank_root_causes(ev, edges=CALLS, fault_row=START)
    assert result.ranking[0].node == "db"
    assert result.cascade_path == ["db", "api", "web"]
    assert sum(r.confidence for r in result.ranking) == pytest.approx(1.0)
    assert result.ranking[0].confidence > 0.5
    text = summary(result, T0 + np.arange(ROWS))
    assert re.match(r"db latency rose 8\.\dx at \d\d:\d\d:\d\d, 2 s before api latency", text)
    assert "likely root cause db (" in text and text.endswith("path db -> api -> web")


def test_a_load_surge_is_blamed_on_the_caller_it_came_from() -> None:
    nodes, metrics, values = _estate()
    values[START:, 1] *= 3  # web requests triple (from outside)
    values[START:, 3] *= 3  # so api's
    values[START:, 5] *= 3  # and db's
    values[START:, 4] *= 6  # the db saturates: its latency looks worst of all
    values[START:, 2] *= 4  # and everyone upstream waits
    values[START:, 0] *= 4
    ev = score_metrics(nodes, metrics, values, START)
    assert max(ev, key=lambda e: e.score).node == "db"
    result = rank_root_causes(ev, edges=CALLS, fault_row=START)
    assert result.ranking[0].node == "web"


def test_without_a_graph_the_path_is_the_order_of_change() -> None:
    nodes, metrics, values = _estate()
    values[START + 1 :, 0] *= 3
    values[START:, 4] *= 9
    result = rank_root_causes(score_metrics(nodes, metrics, values, START), fault_row=START)
    assert result.ranking[0].node == "db"
    assert result.cascade_path == ["db", "web"]
    assert "no graph" in result.method
    body = result_json(result, None, top=2)
    assert len(body["ranking"]) == 2 and body["hypotheses"][0]["node"] == "db"
    assert body["hypotheses"][0]["evidence"][0]["change_row"] == START


def test_groups_pass_blame_to_their_members() -> None:
    nodes = ["asg"] * 2 + ["i-1"] * 2 + ["i-2"] * 2
    metrics = ["cpu", "latency"] * 3
    rng = np.random.default_rng(3)
    values = 50 * (1 + 0.02 * rng.standard_normal((ROWS, 6)))
    values[START:, 2] *= 3  # i-1 cpu
    values[START:, 0] *= 2  # the group's average follows, strongly (quiet group history)
    ev = score_metrics(nodes, metrics, values, START)
    result = rank_root_causes(ev, edges=[], members=[("asg", "i-1"), ("asg", "i-2")])
    assert result.ranking[0].node == "i-1"


def test_scale_never_collapses_on_a_flat_series() -> None:
    flat = np.full((30, 1), 3.0e8)
    assert robust_scale(flat)[0] == pytest.approx(3.0e6)  # 1 % of the level
    nodes, metrics, values = ["m"], ["mem"], np.full((40, 1), 3.0e8)
    values[30:] = 3.0e8 + 4e6  # a few MB on 300 MB: not a catastrophe
    # flat while normal: the scale is at least PINNED_FLOOR of the largest value seen
    assert score_metrics(nodes, metrics, values, 30)[0].score == pytest.approx(4e6 / 3.04e7)
    counter = np.zeros((40, 1))
    counter[30:] = 1.0  # a counter at 0 that ticks: moved, but not infinitely far
    assert score_metrics(["m"], ["errors"], counter, 30)[0].score == pytest.approx(10.0)


def test_a_one_row_blip_scores_less_than_a_held_change() -> None:
    rng = np.random.default_rng(4)
    values = 10 * (1 + 0.02 * rng.standard_normal((40, 2)))
    values[32, 0] = 40.0  # one row
    values[30:, 1] = 25.0  # every row from the start
    blip, held = sorted(score_metrics(["a", "b"], ["cpu", "cpu"], values, 30), key=lambda e: e.node)
    assert held.score > 10 * blip.score
    assert blip.peak == 40.0 and blip.peak_row == 32  # the peak is still reported


def test_a_series_that_spiked_while_normal_is_judged_by_its_spikes() -> None:
    rng = np.random.default_rng(5)
    values = 0.005 * (1 + 0.01 * rng.standard_normal((40, 2)))
    values[[5, 6, 17, 18], 0] = 20.0  # latency percentiles of a few requests
    values[30:33, 0] = 20.0  # as high as it already went
    values[30:33, 1] = 0.05  # a tenfold rise on a quiet series
    ev = score_metrics(["a", "b"], ["lat_99", "lat_99"], values, 30)
    assert ev[0].node == "b" and ev[1].score <= 4.0 < ev[0].score / 100


def test_two_normal_rows_are_ranked_when_asked() -> None:
    nodes, metrics, values = _estate()
    window = values[START - 2 :].copy()
    window[2:, 4] *= 8  # the db slows from the third row
    assert score_metrics(nodes, metrics, window, 2) == []  # the live path's refusal
    ev = score_metrics(nodes, metrics, window, 2, short_history=True)
    assert {e.node for e in ev} == {"web", "api", "db"}
    result = rank_root_causes(ev, edges=CALLS, fault_row=2)
    assert result.ranking[0].node == "db"
    one = score_metrics(nodes, metrics, values[START - 1 :] * 1.0, 1, short_history=True)
    assert len(one) == 6 and all(e.score < 3 for e in one)  # 2 % noise against a 10 % floor


def test_a_prior_reweighs_the_nodes() -> None:
    nodes, metrics, values = _estate()
    values[START:, 4] *= 8
    values[START:, 0] *= 6
    ev = score_metrics(nodes, metrics, values, START)
    assert rank_root_causes(ev).ranking[0].node == "db"
    flipped = rank_root_causes(ev, prior={"db": 0.1, "web": 1.0})
    assert flipped.ranking[0].node == "web"
    assert sum(r.confidence for r in flipped.ranking) == pytest.approx(1.0)


def test_slo_affinity_follows_the_slo() -> None:
    t = np.arange(10, dtype=float)
    values = np.column_stack([t, t * 2 + 1, np.cos(t), np.full(10, 3.0), t])
    values[4, 4] = np.nan
    got = slo_affinity(["site", "search", "cache", "flat", "gappy"], values, [0])
    assert got["site"] == pytest.approx(1.0) and got["search"] == pytest.approx(1.0)
    assert got["flat"] == 0.0 and got["cache"] < 0.5
    assert got["gappy"] == pytest.approx(1.0)


def test_bad_inputs() -> None:
    nodes, metrics, values = _estate()
    with pytest.raises(ValueError, match="fault start"):
        score_metrics(nodes, metrics, values, 0)
    with pytest.raises(ValueError, match="no node"):
        rank_root_causes([])
    # A column with too little normal data is not judged, NaN does not warn.
    values[:, 0] = np.nan
    values[START:, 1] = np.nan
    ev = score_metrics(nodes, metrics, values, START)
    assert {(e.node, e.metric) for e in ev} == {
        ("api", "latency"),
        ("api", "requests"),
        ("db", "latency"),
        ("db", "requests"),
    }
