"""The ingest benchmark runs every stage, PostgreSQL included, and reports figures."""

from __future__ import annotations

from opsgraph.bench.ingest import run_ingest_bench

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def test_small_run_reports_every_stage() -> None:
    report = run_ingest_bench(sizes=[20], postgres_url=PG, target_samples=2000)
    stages = {row["stage"]: row for row in report["results"]}
    assert set(stages) == {"memory", "sqlite", "postgresql"}
    for row in stages.values():
        assert "error" not in row, row
        assert row["samples"] >= 2000 and row["samples_per_s"] > 0
    assert report["machine"]["cpus"]
    assert report["detector"] == "ensemble"  # the live default, not a label of its own
