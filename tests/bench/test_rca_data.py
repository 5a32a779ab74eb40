"""The real-case loaders of `bench rca --data`, on tiny copies of each layout written here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from opsgraph.bench.rca_data import (
    detect_layout,
    nezha_cases,
    petshop_cases,
    real_cases,
    sockshop_cases,
)
from opsgraph.core.errors import InvalidInputError

NEZHA_HEADER = (
    "Time,TimeStamp,PodName,CpuUsage(m),CpuUsageRate(%),PodClientLatencyP90(s),NodeCpuUsageRate(%)"
)


def _nezha(root: Path, minutes: int = 40) -> Path:
    """One day, two services (one pod each), faults at minutes 10:20:05 and 10:30:30."""
    day = root / "rca_data" / "2023-01-01"
    metric = day / "metric"
    metric.mkdir(parents=True)
    faults = {
        "10": [
            {
                "inject_time": "2023-01-01 10:20:05",
                "inject_timestamp": "0",
                "inject_pod": "ts-a-service-5f55b6cf68-77cfw",
                "inject_type": "cpu_contention",
            },
            {
                "inject_time": "2023-01-01 10:30:30",
                "inject_timestamp": "0",
                "inject_pod": "ts-b-service-84cbf6c798-7njv6",
                "inject_type": "return",
            },
        ]
    }
    (day / "2023-01-01-fault_list.json").write_text(json.dumps(faults))
    pods = (("ts-a-service-5f55b6cf68-77cfw", 9), ("ts-b-service-84cbf6c798-7njv6", 11))
    for pod, second in pods:
        lines = [NEZHA_HEADER]
        for m in range(minutes):
            stamp = f"2023-01-01 10:{m:02d}:{second:02d}.123456 +0000 UTC m=+{m * 60}.5"
            cpu = 90.0 if pod.startswith("ts-a") and 20 <= m < 24 else 1.0 + 0.01 * m
            lines.append(f"{stamp},0,{pod},{cpu * 5},{cpu},NaN,50")
        (metric / f"{pod}_metric.csv").write_text("\n".join(lines) + "\n")
    (metric / "front_service.csv").write_text("Time,TimeStamp,ServiceName,SuccessRate(%)\n")
    (metric / "dependency.csv").write_text(
        "Source,Target,Weight\nts-a-service,ts-b-service,1\nts-a-service,10.0.0.1,1\n"
    )
    return root


def test_nezha_cases_align_faults_and_keep_windows_apart(tmp_path: Path) -> None:
    root = _nezha(tmp_path / "nezha")
    assert detect_layout(root) == "nezha"
    first, second = nezha_cases(root, before=60, after=10, fault_rows=5)
    assert first.root == "ts-a-service" and first.kind == "cpu_contention"
    assert sorted(set(first.nodes)) == ["ts-a-service", "ts-b-service"]
    assert sorted(set(first.metrics)) == ["CpuUsage", "CpuUsageRate", "PodClientLatencyP90"]
    assert first.edges == [("ts-a-service", "ts-b-service")]
    # rows are minutes 0..39; 10:20:05 is first sampled at 10:20:09 -> row 20
    assert first.fault_row == 20 and first.values.shape == (30, 6)
    cpu = list(zip(first.nodes, first.metrics, strict=True)).index(("ts-a-service", "CpuUsageRate"))
    assert first.values[first.fault_row, cpu] == pytest.approx(90.0)
    assert first.values[first.fault_row - 1, cpu] < 2
    # the second fault (10:30:30 -> row 31) starts after the first's rows end (20 + 5)
    assert second.root == "ts-b-service" and second.fault_row == 31 - 25
    assert second.values.shape[0] == 40 - 25
    assert np.isnan(second.values[:, first.metrics.index("PodClientLatencyP90")]).all()


def test_nezha_close_faults_keep_two_normal_rows(tmp_path: Path) -> None:
    root = _nezha(tmp_path / "nezha")
    _, second = nezha_cases(root, fault_rows=20)
    assert second.fault_row == 2  # the first fault's 20 rows would swallow them all


def _petshop_table(path: Path, times: list[float], rows: list[list[float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nodes = ["PetSite", "PetSite", "PetSite", "PetSearch", "PetSearch"]
    metrics = ["latency", "latency", "availability", "latency", "requests"]
    stats = ["Average", "p99", "Average", "Average", "Sum"]
    lines = [
        ",".join(["microservice", *nodes]),
        ",".join(["metric", *metrics]),
        ",".join(["statistic", *stats]),
        "unix_timestamp" + "," * len(nodes),
    ]
    lines += [",".join([str(t), *map(str, r)]) for t, r in zip(times, rows, strict=True)]
    path.write_text("\n".join(lines) + "\n")


def _petshop(root: Path) -> Path:
    for scenario, baseline in (("low_traffic", True), ("temporal_traffic1", False)):
        folder = root / scenario
        folder.mkdir(parents=True)
        (folder / "graph.csv").write_text(
            ",PetSite,PetSearch\nPetSite,0.0,1.0\nPetSearch,0.0,0.0\n"
        )
        if baseline:
            _petshop_table(
                folder / "noissue" / "metrics.csv",
                [1000.0 + 300 * k for k in range(6)],
                [[0.08, 0.3, 100, 0.006, 700]] * 6,
            )
        t0 = 5000.0
        rows = [[0.08, 0.3, 100, 0.006, 700]] * 2 + [[0.2, 0.9, 97, 0.05, 700]] * 2
        rows.append([0.08, 0.3, 100, 0.006, 700])
        _petshop_table(
            folder / "train" / "issue_0" / "metrics.csv", [t0 + 300 * k for k in range(5)], rows
        )
        target = {
            "target": {"node": "PetSite", "metric": "latency", "agg": "Average", "timestamp": 5400},
            "root_cause": {"node": "PetSearch", "metric": None},
        }
        (folder / "train" / "issue_0" / "target.json").write_text(json.dumps(target))
    return root


def test_petshop_cases_baseline_onset_graph_and_hint(tmp_path: Path) -> None:
    root = _petshop(tmp_path / "petshop")
    assert detect_layout(root) == "petshop"
    low, temporal = petshop_cases(root)
    assert low.name == "low_traffic/issue_0" and low.root == "PetSearch" and low.kind == "latency"
    assert low.metrics == ["latency", "latency_p99", "availability", "latency", "requests"]
    assert low.edges == [("PetSite", "PetSearch")]
    # six baseline rows, then the five; 5400 lies in the bucket starting at 5300
    assert low.search_from == 6 and low.fault_row == 6 + 1 and low.values.shape == (11, 5)
    assert temporal.search_from == 0 and temporal.fault_row == 1 and temporal.slo is None
    hinted = list(petshop_cases(root, slo_hint=True))
    assert [c.slo for c in hinted] == [[0], [0]]
    assert [c.name for c in real_cases(root)] == [low.name, temporal.name]
    scenario = list(petshop_cases(root / "low_traffic"))
    assert len(scenario) == 1 and scenario[0].search_from == 6


def test_sockshop_layout_and_unknown_folders(tmp_path: Path) -> None:
    run = tmp_path / "shop" / "carts-cpu" / "1"
    run.mkdir(parents=True)
    (run / "normal.csv").write_text("time,carts_cpu,orders_cpu\n1,1,2\n2,1,2\n3,1,2\n")
    (run / "anomalous.csv").write_text("time,carts_cpu,orders_cpu\n9,50,2\n10,60,2\n")
    assert detect_layout(tmp_path / "shop") == "sockshop"
    (case,) = sockshop_cases(tmp_path / "shop")
    assert (case.root, case.kind, case.fault_row, case.search_from) == ("carts", "cpu", 3, 0)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInputError, match="no known layout"):
        detect_layout(empty)
    with pytest.raises(InvalidInputError, match="not a folder"):
        detect_layout(tmp_path / "missing")
