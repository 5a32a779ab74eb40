"""Root-cause results in words and as JSON: the summary an operator reads first, and the
evidence behind each hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opsgraph.explain.evidence import FloatArray, MetricEvidence
from opsgraph.explain.rank import NodeRank, RcaResult


def _when(times: FloatArray | None, row: int | None) -> str:
    if row is None:
        return "at an unknown time"
    if times is None or not 0 <= row < times.shape[0]:
        return f"at row {row}"
    return "at " + datetime.fromtimestamp(float(times[row]), tz=UTC).strftime("%H:%M:%S")


def _span(times: FloatArray | None, first: int, later: int) -> str:
    if times is None:
        rows = later - first
        return f"{rows} row{'s' if rows != 1 else ''}"
    seconds = float(times[later] - times[first])
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def describe(e: MetricEvidence, times: FloatArray | None) -> str:
    """`db-1 latency_ms rose 8.0x at 10:02:00` (or `by 12 robust deviations` without a ratio)."""
    ratio = e.ratio
    if ratio is not None and (ratio >= 1.5 or ratio <= 0.67):
        size = f"{ratio:.1f}x" if ratio >= 1 else f"to {ratio:.2f}x"
    else:
        size = f"by {e.score:.0f} robust deviations"
    return f"{e.node} {e.metric} {e.direction} {size} {_when(times, e.change_row or e.peak_row)}"


def summary(result: RcaResult, times: FloatArray | None = None) -> str:
    top = result.ranking[0]
    parts = []
    if top.evidence:
        lead = top.evidence[0]
        text = describe(lead, times)
        follower = _first_follower(result, top)
        if follower is not None and lead.change_row is not None:
            e = follower.evidence[0]
            if e.change_row is not None and e.change_row > lead.change_row:
                gap = _span(times, lead.change_row, e.change_row)
                text += f", {gap} before {e.node} {e.metric}"
            elif e.change_row is not None:
                text += f", with {e.node} {e.metric}"
        parts.append(text)
    alternatives = [r for r in result.ranking[1:3] if r.confidence >= 0.01]
    tail = f"likely root cause {top.node} ({top.confidence:.2f})"
    if alternatives:
        tail += ", alternative " + ", ".join(f"{r.node} ({r.confidence:.2f})" for r in alternatives)
    parts.append(tail)
    if len(result.cascade_path) > 1:
        parts.append("path " + " -> ".join(result.cascade_path))
    return "; ".join(parts)


def _first_follower(result: RcaResult, top: NodeRank) -> NodeRank | None:
    """The next node along the cascade that has evidence."""
    ranks = {r.node: r for r in result.ranking}
    for node in result.cascade_path[1:]:
        r = ranks.get(node)
        if r is not None and r.evidence:
            return r
    return None


def evidence_json(e: MetricEvidence, times: FloatArray | None) -> dict[str, Any]:
    def ts(row: int | None) -> float | None:
        if row is None or times is None or not 0 <= row < times.shape[0]:
            return None
        return float(times[row])

    return {
        "node": e.node,
        "metric": e.metric,
        "score": round(e.score, 3),
        "direction": e.direction,
        "baseline": e.baseline,
        "peak": e.peak,
        "ratio": None if e.ratio is None else round(e.ratio, 3),
        "change_row": e.change_row,
        "change_ts": ts(e.change_row),
        "peak_row": e.peak_row,
        "peak_ts": ts(e.peak_row),
        "text": describe(e, times),
    }


def result_json(result: RcaResult, times: FloatArray | None = None, top: int = 5) -> dict[str, Any]:
    return {
        "method": result.method,
        "fault_row": result.fault_row,
        "ranking": [
            {
                "node": r.node,
                "score": round(r.score, 6),
                "confidence": round(r.confidence, 4),
                "anomaly": round(r.anomaly, 3),
                "walk": None if r.walk is None else round(r.walk, 6),
                "onset_row": r.onset_row,
            }
            for r in result.ranking[:top]
        ],
        "hypotheses": [
            {
                "node": r.node,
                "confidence": round(r.confidence, 4),
                "evidence": [evidence_json(e, times) for e in r.evidence],
            }
            for r in result.hypotheses
        ],
        "cascade_path": result.cascade_path,
        "cascade_nodes": result.cascade_nodes,
        "summary": summary(result, times),
    }


def gnn_summary(result: dict[str, Any], threshold: float) -> str:
    """`web-3 scores 0.93 (anomalous): latency_ms carries 61 % of the evidence, then
    error_rate 22 %; db-1 (1.00) and cache-2 (0.71) matter most among its neighbours.`"""
    node, score = result["node_id"], float(result["score"])
    verdict = "anomalous" if score >= threshold else "normal"
    ranked = sorted(result["feature_importance"].items(), key=lambda kv: -kv[1])
    parts = [f"{m} {w * 100:.0f} %" for m, w in ranked[:2] if w > 0]
    text = f"{node} scores {score:.2f} ({verdict})"
    if parts:
        text += f": {parts[0].replace(' ', ' carries ', 1)} of the evidence"
        text += f", then {parts[1]}" if len(parts) > 1 else ""
    near = [n for n in result.get("important_nodes", []) if n["node"] != node][:2]
    if near:
        names = " and ".join(f"{n['node']} ({n['importance']:.2f})" for n in near)
        text += f"; {names} matter most among its neighbours"
    if result.get("fallback_reason"):
        text += f". Note: {result['fallback_reason']}"
    return text + "."
