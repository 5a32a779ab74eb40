"""`opsgraph bench logs`: template grouping on loghub's 16 samples of 2,000 real lines, and
anomaly detection on real logs: BGL's labelled alert lines and HDFS's labelled block sessions.

Grouping accuracy (Zhu et al., ICSE-SEIP 2019) counts a line right when the lines sharing its
template are exactly those sharing its ground-truth template (loghub's corrected ground truth).
"""

from __future__ import annotations

import csv
import time
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.metrics import average_precision_score, roc_auc_score

from opsgraph.core.errors import InvalidInputError
from opsgraph.logs.parser import TemplateStats
from opsgraph.logs.pipeline import ALL, LogLine, LogPipeline, surprise_calibrator
from opsgraph.logs.settings import LogSettings


def grouping_accuracy(truth: Sequence[str], found: Sequence[Hashable]) -> float:
    """Share of lines whose found group holds exactly the lines of their true group."""
    if len(truth) != len(found):
        raise ValueError("truth and found differ in length")
    if not truth:
        return 0.0
    members: dict[Hashable, list[int]] = defaultdict(list)
    for i, group in enumerate(found):
        members[group].append(i)
    sizes = Counter(truth)
    right = 0
    for lines in members.values():
        labels = {truth[i] for i in lines}
        if len(labels) == 1 and sizes[next(iter(labels))] == len(lines):
            right += len(lines)
    return right / len(truth)


def _csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise InvalidInputError("data", f"{path} does not exist")
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _templates(pipeline: LogPipeline, messages: Sequence[str]) -> list[int | None]:
    scored = pipeline.score_stream([LogLine(ts=0.0, resource_id=ALL, message=m) for m in messages])
    return [x.template_id for x in scored]


def bench_loghub(
    root: Path,
    settings: LogSettings,
    systems: Sequence[str] | None = None,
    lines: int | None = None,
) -> dict[str, Any]:
    """Grouping accuracy per system, on the message (Content) and on the raw line."""
    names = list(systems) if systems else sorted(p.name for p in root.iterdir() if p.is_dir())
    results = []
    for name in names:
        rows = _csv(root / name / f"{name}_2k.log_structured_corrected.csv")[:lines]
        raw_path = root / name / f"{name}_2k.log"
        raw = raw_path.read_text(encoding="utf-8", errors="replace").splitlines()[: len(rows)]
        if len(raw) != len(rows):
            raise InvalidInputError("data", f"{raw_path}: {len(raw)} lines for {len(rows)} rows")
        truth = [r["EventTemplate"] for r in rows]
        started = time.perf_counter()
        content = _templates(LogPipeline(settings), [r["Content"] for r in rows])
        seconds = time.perf_counter() - started
        whole = _templates(LogPipeline(settings), raw)
        results.append(
            {
                "system": name,
                "lines": len(rows),
                "templates_truth": len(set(truth)),
                "templates_found": len(set(content)),
                "grouping_accuracy": round(grouping_accuracy(truth, content), 4),
                "grouping_accuracy_raw": round(grouping_accuracy(truth, whole), 4),
                "lines_per_s": round(len(rows) / max(seconds, 1e-9)),
            }
        )
    mean = {
        key: round(float(np.mean([r[key] for r in results])), 4) if results else None
        for key in ("grouping_accuracy", "grouping_accuracy_raw")
    }
    return {"systems": results, "mean": mean}


def _ranking(labels: Sequence[int], scores: Sequence[float], threshold: float) -> dict[str, Any]:
    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    out: dict[str, Any] = {"n": int(y.size), "anomalous": int(y.sum())}
    both = 0 < y.sum() < y.size
    out["auc_roc"] = round(float(roc_auc_score(y, s)), 4) if both else None
    out["auc_pr"] = round(float(average_precision_score(y, s)), 4) if both else None
    out.update(_prf(y, s >= threshold))
    # The best F1 over every threshold: an oracle's choice, reported for context only.
    best = max((_prf(y, s >= t)["f1"], float(t)) for t in np.unique(s)) if s.size else (0.0, 0.0)
    out["best_f1"], out["best_f1_threshold"] = round(best[0], 4), round(best[1], 4)
    return out


def _prf(y: np.ndarray, flagged: np.ndarray) -> dict[str, float]:
    tp = int(np.sum(flagged & (y == 1)))
    precision = tp / max(int(flagged.sum()), 1)
    recall = tp / max(int(y.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def bench_bgl(root: Path, settings: LogSettings, lines: int | None = None) -> dict[str, Any]:
    """Line-level: BGL's 2,000 lines (message and level) scored in order, each before it is
    learned, against the alert labels (loghub's Label column; never shown to the model)."""
    rows = _csv(root / "BGL" / "BGL_2k.log_structured_corrected.csv")[:lines]
    pipeline = LogPipeline(settings)
    scored = pipeline.score_stream(
        [LogLine(ts=0.0, resource_id=ALL, message=r["Content"], level=r["Level"]) for r in rows]
    )
    labels = [int(r["Label"] != "-") for r in rows]
    return _ranking(labels, [x.score for x in scored], settings.anomaly_threshold)


def bench_hdfs(root: Path, settings: LogSettings, sessions: int | None = None) -> dict[str, Any]:
    """Session-level: template counts learned from the train split's sessions (labels unused,
    anomalies included), then each test session scored by its most anomalous line; also by the
    mean surprise of its lines (short sessions missing their usual events rank higher)."""
    rows = _csv(root / "HDFS_100k.sessions.csv")
    train = [r for r in rows if r["Split"] == "train"][:sessions]
    test = [r for r in rows if r["Split"] == "test"][:sessions]
    stats = TemplateStats()
    for row in train:
        for event in row["EventSequence"].split():
            stats.add(int(event.lstrip("E")))
    calibrate = surprise_calibrator(settings)
    line_max, mean_surprise = [], []
    for row in test:
        surprise = np.array(
            [stats.surprise(int(e.lstrip("E"))) for e in row["EventSequence"].split()]
        )
        line_max.append(float(calibrate(surprise).max()) if surprise.size else 0.0)
        mean_surprise.append(float(surprise.mean()) if surprise.size else 0.0)
    labels = [int(r["Label"]) for r in test]
    threshold = settings.anomaly_threshold
    return {
        "train_sessions": len(train),
        "train_lines": stats.lines,
        "templates": len(stats.counts),
        "line_max": _ranking(labels, line_max, threshold),
        # Not a probability: ranked for AUC only, so its P/R/F1 use the oracle threshold.
        "mean_surprise": {
            k: v
            for k, v in _ranking(labels, mean_surprise, float("inf")).items()
            if k not in ("precision", "recall", "f1")
        },
    }


def run_logs_bench(
    data: Path,
    settings: LogSettings | None = None,
    *,
    systems: Sequence[str] | None = None,
    lines: int | None = None,
    sessions: int | None = None,
) -> dict[str, Any]:
    """Every part on `data` (the folder holding loghub2k/ and hdfs/)."""
    cfg = settings or LogSettings()
    loghub, hdfs = data / "loghub2k", data / "hdfs"
    for folder in (loghub, hdfs):
        if not folder.is_dir():
            raise InvalidInputError("data", f"{folder} is not a folder (see the logs README)")
    report: dict[str, Any] = {
        "settings": cfg.model_dump(mode="json", exclude={"bootstrap_file"}),
        "loghub2k": bench_loghub(loghub, cfg, systems, lines),
    }
    if not systems or "BGL" in systems:
        report["bgl_alerts"] = bench_bgl(loghub, cfg, lines)
    report["hdfs_sessions"] = bench_hdfs(hdfs, cfg, sessions)
    return report


def print_report(report: dict[str, Any], console: Console) -> None:
    table = Table(title="opsgraph bench logs: template grouping (loghub 2k, corrected truth)")
    for col in ("system", "lines", "true", "found", "GA message", "GA raw line", "lines/s"):
        table.add_column(col, justify="left" if col == "system" else "right")
    hub = report["loghub2k"]
    for r in hub["systems"]:
        table.add_row(
            r["system"],
            str(r["lines"]),
            str(r["templates_truth"]),
            str(r["templates_found"]),
            f"{r['grouping_accuracy']:.3f}",
            f"{r['grouping_accuracy_raw']:.3f}",
            f"{r['lines_per_s']:,}",
        )
    mean = hub["mean"]
    if mean["grouping_accuracy"] is not None:
        table.add_row(
            "mean",
            "",
            "",
            "",
            f"{mean['grouping_accuracy']:.3f}",
            f"{mean['grouping_accuracy_raw']:.3f}",
            "",
        )
    console.print(table)
    scores = Table(title="opsgraph bench logs: anomaly scoring")
    for col in ("set", "n", "anomalous", "AUC-ROC", "AUC-PR", "P", "R", "F1", "best F1"):
        scores.add_column(col, justify="left" if col == "set" else "right")
    rows = [("BGL lines (alerts)", report.get("bgl_alerts"))]
    hdfs = report["hdfs_sessions"]
    rows += [("HDFS sessions, max line", hdfs["line_max"])]
    rows += [("HDFS sessions, mean surprise", hdfs["mean_surprise"])]
    for name, m in rows:
        if m is None:
            continue

        def fmt(key: str, m: dict[str, Any] = m) -> str:
            value = m.get(key)
            return "-" if value is None else f"{value:.3f}"

        scores.add_row(
            name,
            str(m["n"]),
            str(m["anomalous"]),
            *(fmt(k) for k in ("auc_roc", "auc_pr", "precision", "recall", "f1", "best_f1")),
        )
    console.print(scores)
