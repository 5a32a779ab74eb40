"""`opsgraph bench gnn` on a tiny plan: every model reported on both sets, and a timing."""

from __future__ import annotations

from opsgraph.bench.gnn import inference_time, run_gnn_bench
from opsgraph.runtime.training import Plan


def test_bench_reports_all_models_on_both_sets(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    small = Plan(incidents=4, train_topologies=((30, 1), (40, 2)), held_out_topologies=((35, 9),))
    monkeypatch.setattr("opsgraph.bench.gnn.Plan", lambda incidents: small)
    report = run_gnn_bench(incidents=4, epochs=3, timing_nodes=200, explain_nodes=60)
    assert set(report["results"]) == {
        "graphsage",
        "node_mlp",
        "graph_deviation",
        "isolation_forest",
        "max_abs_z",
    }
    for sets in report["results"].values():
        assert set(sets) == {"held_out", "unseen_faults"}
        for m in sets.values():
            assert 0 <= m["precision"] <= 1 and 0 <= m["recall"] <= 1 and m["nodes"] > 0
    assert report["plan"]["held_out_topologies"] == [[35, 9]]
    assert report["inference"]["nodes"] == 200 and report["inference"]["median_ms"] > 0
    # Eight explanations at once, each on its own copy of the model: all answer.
    explain = report["explain"]
    assert explain["requests"] >= 4 and explain["errors"] == 0 and explain["concurrent"] == 8
    assert 0 < explain["p50_s"] <= explain["p95_s"] <= explain["max_s"]


def test_inference_time_counts_every_node_and_edge() -> None:
    timing = inference_time(300, repeats=2)
    assert timing["nodes"] == 300 and timing["edges"] > 300
    assert timing["forward_ms"] <= timing["median_ms"]
