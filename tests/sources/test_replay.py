"""File replay: CSV, Parquet and JSON-lines files, wide and long, replayed in time order at full
speed or on a replay clock, in batches that keep timestamps whole; bad rows named."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import ResourceKind
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings
from opsgraph.sources.pull import Batch, run_pull_source
from opsgraph.sources.registry import build_pull_sources
from opsgraph.sources.replay import ReplaySource, parse_speed

T0 = 1_700_000_000
# (ts, resource, metric, value), written to files in a shuffled order.
ROWS = [
    (T0 + 60 * (i // 2), res, metric, float(i))
    for i in range(20)
    for res, metric in [("db-1", "cpu") if i % 2 else ("api-1", "latency_ms")]
]


def _write_long(path: Path) -> Path:
    shuffled = ROWS[10:] + ROWS[:10]
    if path.suffix == ".csv":
        lines = ["timestamp,resource_id,metric,value"]
        lines += [f"{t},{r},{m},{v}" for t, r, m, v in shuffled]
        path.write_text("\n".join(lines) + "\n")
    elif path.suffix == ".jsonl":
        path.write_text(
            "\n".join(
                json.dumps({"timestamp": t, "resource_id": r, "metric": m, "value": v})
                for t, r, m, v in shuffled
            )
        )
    else:
        table = pa.table(
            {
                "timestamp": pa.array([t * 1000 for t, *_ in shuffled], pa.timestamp("ms")),
                "resource_id": [r for _, r, _, _ in shuffled],
                "metric": [m for _, _, m, _ in shuffled],
                "value": [v for *_, v in shuffled],
            }
        )
        pq.write_table(table, path)
    return path


def _drain(source: ReplaySource) -> list[Batch]:
    batches = []
    while True:
        batch = source.poll()
        batches.append(batch)
        if batch.done:
            return batches


@pytest.mark.parametrize("name", ["long.csv", "long.parquet", "long.jsonl"])
def test_long_files_replay_in_time_order_at_max_speed(tmp_path: Path, name: str) -> None:
    source = ReplaySource(_write_long(tmp_path / name), speed="max", batch_size=5)
    assert source.interval_s == 0.0
    batches = _drain(source)
    samples = [(s.ts, s.resource_id, s.metric, s.value) for b in batches for s in b.samples]
    assert samples == sorted(ROWS)  # every row once, in time order
    # Five samples at most per batch, never splitting a timestamp (two samples each).
    assert [len(b.samples) for b in batches] == [4, 4, 4, 4, 4]
    assert [b.done for b in batches] == [False] * 4 + [True]
    assert [r.id for r in batches[0].resources] == ["api-1", "db-1"]
    assert all(r.kind is ResourceKind.GENERIC for r in batches[0].resources)
    assert all(b.resources == [] for b in batches[1:])


def test_a_wide_file_names_its_resource_and_skips_gaps(tmp_path: Path) -> None:
    path = tmp_path / "vm.csv"
    path.write_text("timestamp,cpu,memory\n2023-11-14T22:15:00Z,5,\n2023-11-14T22:14:00Z,4,40\n")
    batches = _drain(ReplaySource(path, resource_id="vm-7"))
    assert [(s.ts, s.resource_id, s.metric, s.value) for s in batches[0].samples] == [
        (T0 + 40, "vm-7", "cpu", 4.0),  # 2023-11-14T22:13:20Z is T0
        (T0 + 40, "vm-7", "memory", 40.0),
        (T0 + 100, "vm-7", "cpu", 5.0),
    ]
    assert len(batches) == 1 and batches[0].done


def test_a_finite_speed_follows_the_replay_clock(tmp_path: Path) -> None:
    now = [100.0]
    source = ReplaySource(
        _write_long(tmp_path / "long.csv"),
        speed=120,  # two data minutes per real second
        batch_size=6,
        interval_s=0.5,
        clock=lambda: now[0],
    )
    assert source.interval_s == 0.5

    def times(batch: Batch) -> list[float]:
        return sorted({s.ts for s in batch.samples})

    assert times(source.poll()) == [T0]  # the clock starts at the first timestamp
    assert times(source.poll()) == []  # no replay time has passed
    now[0] += 1.0
    assert times(source.poll()) == [T0 + 60, T0 + 120]
    now[0] += 10.0  # far behind: the rest comes batch by batch, in order, whole timestamps
    caught_up = [times(source.poll()) for _ in range(3)]
    assert caught_up == [
        [T0 + 180, T0 + 240, T0 + 300],
        [T0 + 360, T0 + 420, T0 + 480],
        [T0 + 540],
    ]
    assert source.poll().done


def test_speed_parsing() -> None:
    assert parse_speed("max") == 0.0 and parse_speed("MAX") == 0.0 and parse_speed("2.5") == 2.5
    for bad in ("fast", "-1", "inf"):
        with pytest.raises(InvalidInputError, match="speed"):
            parse_speed(bad)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.csv", "timestamp,cpu\n1,2\n\n2,high\n", r"a\.csv: line 4, column cpu: 'high' is not"),
        ("b.csv", "ts,cpu\n1,2\nnoon,3\n", r"b\.csv: line 3, column ts: 'noon' is neither"),
        (
            "c.csv",
            "timestamp,resource_id,metric,value\n1,db 1,cpu,2\n",
            r"line 2, column resource_id",
        ),
        ("d.csv", "timestamp,resource_id,metric,value\n1,db,cpu%,2\n", r"line 2, column metric"),
        (
            "e.jsonl",
            '{"timestamp": 1, "cpu": 2}\n{"timestamp": 2,\n',
            r"e\.jsonl: line 2: not valid",
        ),
        ("f.jsonl", '{"timestamp": 1, "cpu": true}\n', r"f\.jsonl: line 1, column cpu"),
        ("g.jsonl", "[1, 2]\n", r"g\.jsonl: line 1: must be a JSON object"),
        ("h.csv", "cpu\n1\n", r"h\.csv has no time column"),
        ("i.csv", "timestamp,cpu usage\n1,2\n", r"i\.csv: column cpu usage: not a metric name"),
    ],
)
def test_bad_rows_name_file_line_and_column(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        ReplaySource(path, resource_id=None if "resource_id" in content else "vm-1").load()


def test_bad_parquet_rows_and_layout_mistakes(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"timestamp": [1, 2, 3], "cpu": ["1", "2", "lots"]}), path)
    with pytest.raises(InvalidInputError, match=r"bad\.parquet: row 3, column cpu: 'lots'"):
        ReplaySource(path, resource_id="vm-1").load()
    wide = tmp_path / "wide.csv"
    wide.write_text("timestamp,cpu\n1,2\n")
    with pytest.raises(InvalidInputError, match=r"resource_id: wide\.csv is a wide table"):
        ReplaySource(wide).load()
    with pytest.raises(InvalidInputError, match="long table: its rows name their resources"):
        ReplaySource(_write_long(tmp_path / "long.csv"), resource_id="vm-1").load()
    not_parquet = tmp_path / "text.parquet"
    not_parquet.write_text("hello")
    with pytest.raises(InvalidInputError, match="not a readable Parquet file"):
        ReplaySource(not_parquet, resource_id="vm-1").load()


def test_a_bad_file_ends_the_source_with_the_reason_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="opsgraph.sources.replay"):
        batch = ReplaySource(tmp_path / "missing.csv", resource_id="vm-1").poll()
    assert batch.done and batch.samples == []
    assert "missing.csv does not exist" in caplog.text


def test_a_configured_replay_runs_into_the_runtime(tmp_path: Path) -> None:
    path = _write_long(tmp_path / "long.parquet")
    settings = Settings(
        data_dir=tmp_path,
        sim={"enabled": False},
        sources={"replay": [{"path": str(path), "speed": "max", "batch_size": 4}]},
    )
    runtime = Runtime(settings)
    try:
        [source] = build_pull_sources(settings.sources)
        asyncio.run(run_pull_source(source, runtime.intake.accept, asyncio.Event()))
        assert {"api-1", "db-1"} <= set(runtime.estate.resources)
        series = runtime.store.read_samples("db-1", metrics=["cpu"])
        ts, values = series["cpu"]
        assert list(ts) == [t for t, r, _, _ in ROWS if r == "db-1"]
        assert list(values) == [v for _, r, _, v in ROWS if r == "db-1"]
    finally:
        runtime.close()
