"""Root-cause analysis: rank the likely causes of an incident, with a cascade path and evidence."""

from opsgraph.explain.evidence import MetricEvidence, score_metrics
from opsgraph.explain.rank import NodeRank, RcaResult, rank_root_causes

__all__ = ["MetricEvidence", "NodeRank", "RcaResult", "rank_root_causes", "score_metrics"]
