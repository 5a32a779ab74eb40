"""Log parsing and scoring: drain3 templates on real loghub lines, novelty ranking, levels,
log metrics per bucket, undo of a refused batch, determinism, the served pipeline."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

from opsgraph.bench.logs import grouping_accuracy
from opsgraph.core.errors import ConfigError
from opsgraph.core.models import LogLevel
from opsgraph.logs.parser import (
    LEVELS,
    TemplateParser,
    TemplateStats,
    infer_level,
    normalise_level,
)
from opsgraph.logs.pipeline import (
    ALL,
    LOG_METRICS,
    LogBuckets,
    LogLine,
    LogPipeline,
    bootstrapped_pipeline,
    score_lines,
)
from opsgraph.logs.settings import LogSettings


@pytest.fixture
def loghub(shared_data: Path) -> Path:
    return shared_data / "logs" / "loghub2k"


def _rows(loghub: Path, system: str) -> list[dict[str, str]]:
    path = loghub / system / f"{system}_2k.log_structured_corrected.csv"
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _lines(messages: list[str], resource: str = "app-1", t0: float = 0.0) -> list[LogLine]:
    return [LogLine(ts=t0 + i, resource_id=resource, message=m) for i, m in enumerate(messages)]


def test_templates_match_loghub_ground_truth(loghub: Path) -> None:
    rows = _rows(loghub, "HDFS")
    scored = LogPipeline().score_stream(_lines([r["Content"] for r in rows]))
    truth = [r["EventTemplate"] for r in rows]
    assert grouping_accuracy(truth, [x.template_id for x in scored]) >= 0.99
    # Whole raw lines (header, timestamp and level included) group the same for Apache.
    raw = (loghub / "Apache" / "Apache_2k.log").read_text(encoding="utf-8").splitlines()
    found = [x.template_id for x in score_lines(raw)]
    assert grouping_accuracy([r["EventTemplate"] for r in _rows(loghub, "Apache")], found) == 1.0
    assert len(set(found)) == 6


def test_masks_and_matching() -> None:
    parser = TemplateParser()
    first = parser.add("Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 id 42")
    assert first.created and first.template_id is not None
    assert first.template == "Receiving block <BLK> src: /<ADDR> id <NUM>"
    again = parser.add("Receiving block blk_77 src: /10.250.10.6:40524 id 0x1f")
    assert (again.template_id, again.created) == (first.template_id, False)
    uuid = parser.add("instance 3edec1e4-9678-4a3a-a21b-a145a4ee5e61 at 2017-05-16 00:00:03.358")
    assert uuid.template == "instance <UUID> at <TS>"
    # match() names the template add() would choose, without learning anything.
    size = len(parser)
    assert (
        parser.match("Receiving block blk_1 src: /10.0.0.1:1 id 7").template_id == first.template_id
    )
    unseen = parser.match("kernel panic: not syncing")
    assert unseen.template_id is None and unseen.created and len(parser) == size
    assert parser.template(first.template_id) == first.template and parser.template(999) is None


def test_novel_lines_rank_above_normal_ones(loghub: Path) -> None:
    normal = [r["Content"] for r in _rows(loghub, "HDFS")]
    injected = [r["Content"] for r in _rows(loghub, "Linux")][:400:40]  # ten foreign lines
    pipeline = LogPipeline()
    pipeline.score_stream(_lines(normal[:1500]))
    stream = normal[1500:1750] + injected + normal[1750:]
    scores = [x.score for x in pipeline.score_stream(_lines(stream, t0=2000.0))]
    labels = [0] * 250 + [1] * len(injected) + [0] * (len(normal) - 1750)
    assert roc_auc_score(labels, scores) >= 0.95
    # Above them only a few of HDFS's own rare templates (a line or two in the sample each).
    lowest = min(scores[250:260])
    assert lowest > 0.2 and sum(s > lowest for s in scores[:250] + scores[260:]) <= 5


def test_rarity_novelty_and_error_level() -> None:
    stats = TemplateStats()
    for i in range(999):
        stats.add(1 if i % 100 else 2)  # template 2: one line in a hundred
    stats.add(3)
    assert stats.surprise(1) < 0.1 < stats.surprise(2) < stats.surprise(3)
    assert stats.surprise(None) == pytest.approx(-__import__("math").log10(2 / 1001))
    pipeline = LogPipeline()
    pipeline.score_stream(_lines(["user 1 logged in"] * 2000))
    info, error = pipeline.score_stream(
        [
            LogLine(ts=1.0, resource_id="app-1", message="disk sda failed"),
            LogLine(ts=2.0, resource_id="app-2", message="disk sdb failed", level="ERR"),
        ]
    )
    # New to app-2 too, but app-2 has no history: its novelty is no surprise yet.
    assert info.new_template and info.score > 0.35 and info.level == "info"
    assert error.new_template and error.level == "error" and error.score == 0.0
    boosted = LogPipeline()
    boosted.score_stream(_lines(["user 1 logged in"] * 2000))
    (again,) = boosted.score_stream([LogLine(1.0, "app-1", "disk sda failed", "fatal")])
    assert again.level == "critical" and again.surprise == pytest.approx(info.surprise + 1.0)
    assert again.score > info.score


def test_levels() -> None:
    assert [normalise_level(x) for x in ("WARN", "err", "Fatal", " notice ", "loud")] == [
        "warning",
        "error",
        "critical",
        "info",
        None,
    ]
    assert infer_level("[Sun Dec 04 04:47:44 2005] [error] mod_jk child in error state") == "error"
    assert infer_level("2015-10-18 18:01:47,978 WARN [main] retrying") == "warning"
    assert infer_level("Dec 10 11:03:53 LabSZ sshd[25457]: fatal: Write failed") == "critical"
    assert infer_level("user logged in; no alert raised") == "info"
    assert set(LEVELS) == {level.value for level in LogLevel}


def test_buckets_count_fill_gaps_and_take_late_lines() -> None:
    buckets = LogBuckets(60.0, grace_s=10.0, max_gap=2)
    for ts, error in ((0.0, False), (30.0, True), (65.0, False)):
        buckets.add("a", ts, error=error, new=ts == 0.0)
    assert buckets.close() == []  # 65 < 60 + 10: the first bucket may still get lines
    buckets.add("b", 71.0, error=False, new=True)
    first = buckets.close()
    assert [(s.resource_id, s.metric, s.ts, s.value) for s in first] == [
        ("a", "log_lines", 0.0, 2.0),
        ("a", "log_errors", 0.0, 1.0),
        ("a", "log_new_templates", 0.0, 1.0),
    ]
    buckets.add("a", 5.0, error=True, new=False)  # late: counted in a's oldest open bucket
    buckets.add("b", 600.0, error=False, new=False)
    out = buckets.close()
    a_lines = [(s.ts, s.value) for s in out if s.resource_id == "a" and s.metric == "log_lines"]
    # [60, 120) holds the line at 65 and the late one; then at most two empty buckets in a
    # row, then a jump to the clock.
    assert a_lines == [(60.0, 2.0), (120.0, 0.0), (180.0, 0.0)]
    a_errors = [s.value for s in out if s.resource_id == "a" and s.metric == "log_errors"]
    assert a_errors[0] == 1.0
    assert {s.metric for s in out} == set(LOG_METRICS)
    with pytest.raises(ValueError):
        LogBuckets(0.0)


def test_process_emits_closed_buckets() -> None:
    pipeline = LogPipeline(LogSettings(bucket_s=10.0, grace_s=0.0))
    lines = [
        LogLine(ts=float(t), resource_id="web-1", message=f"GET /item/{t} 200", level=level)
        for t, level in ((1, None), (4, "error"), (12, None), (25, None))
    ]
    result = pipeline.process(lines)
    got = {(s.metric, s.ts): s.value for s in result.samples}
    assert got == {
        ("log_lines", 0.0): 2.0,
        ("log_errors", 0.0): 1.0,
        ("log_new_templates", 0.0): 1.0,
        ("log_lines", 10.0): 1.0,
        ("log_errors", 10.0): 0.0,
        ("log_new_templates", 10.0): 0.0,
    }
    assert [x.template for x in result.lines] == ["GET /item/<NUM> <NUM>"] * 4


def test_refused_batch_is_undone() -> None:
    pipeline = LogPipeline(LogSettings(bucket_s=10.0, grace_s=0.0))
    pipeline.process(_lines(["job 1 started", "job 2 started"], t0=0.0))
    before = (dict(pipeline.streams["app-1"].counts), pipeline.stats()["lines"])
    with pytest.raises(RuntimeError), pipeline.transaction({"app-1"}):
        pipeline.process(_lines(["job 3 started", "disk full"] * 10, t0=20.0))
        raise RuntimeError("the store refused the batch")
    assert (dict(pipeline.streams["app-1"].counts), pipeline.stats()["lines"]) == before
    again = pipeline.process(_lines(["job 3 started"], t0=20.0))
    # The bucket of t=0 closes now, as if the refused batch never came.
    assert [(s.metric, s.ts, s.value) for s in again.samples if s.metric == "log_lines"] == [
        ("log_lines", 0.0, 2.0),
        ("log_lines", 10.0, 0.0),
    ]


def test_stats_undo_and_pruning() -> None:
    stats = TemplateStats()
    for t in (1, 1, 2, 3):
        stats.add(t)
    snapshot = (dict(stats.counts), stats.lines, stats.singletons)
    for t in (2, 4, 1):
        stats.add(t)
    for t in (1, 4, 2):
        stats.remove(t)
    assert (stats.counts, stats.lines, stats.singletons) == snapshot
    stats.keep_only({1, 3})
    assert stats.counts == {1: 2, 3: 1} and stats.singletons == 1 and stats.lines == 4
    small = LogPipeline(LogSettings(max_templates=10))
    small.score_stream(_lines([f"event kind{k} happened" for k in range(200)]))
    assert len(small.parser) == 10 and len(small.streams[ALL].counts) <= 21


def test_scores_are_deterministic_and_predict_learns_nothing(loghub: Path) -> None:
    messages = [r["Content"] for r in _rows(loghub, "OpenSSH")][:500]
    first = LogPipeline().score_stream(_lines(messages))
    second = LogPipeline().score_stream(_lines(messages))
    assert first == second
    assert [x.score for x in score_lines(messages)] == [x.score for x in first]
    pipeline = LogPipeline()
    pipeline.score_stream(_lines(messages))
    state = (pipeline.stats(), dict(pipeline.streams[ALL].counts))
    predicted = pipeline.predict([messages[0], "totally new line of text"])
    assert predicted == pipeline.predict([messages[0], "totally new line of text"])
    assert (pipeline.stats(), dict(pipeline.streams[ALL].counts)) == state
    assert predicted[0].template_id == first[0].template_id and not predicted[0].new_template
    assert predicted[1].template_id is None and predicted[1].new_template


def test_bootstrapped_pipeline_learns_the_file(tmp_path: Path) -> None:
    boot = tmp_path / "normal.log"
    boot.write_text("".join(f"worker {i} heartbeat ok\r\n" for i in range(3000)))
    served = bootstrapped_pipeline(LogSettings(bootstrap_file=boot))
    assert served.stats() == {"templates": 1, "lines": 3000, "resources": 0}
    known, novel = served.predict(["worker 77 heartbeat ok", "worker 77 segfault at 0x0"])
    assert known.score == 0.0 and novel.score > 0.5
    with pytest.raises(ConfigError, match="bootstrap_file"):
        bootstrapped_pipeline(LogSettings(bootstrap_file=tmp_path / "missing.log"))
