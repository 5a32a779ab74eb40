"""The `logs` section of the configuration: log parsing, buckets and scoring."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from opsgraph.core.settings import Section


class LogSettings(Section):
    """Log ingestion: drain3 template mining, line scores and log metrics (see docs/logs.md)."""

    bucket_s: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="Seconds per bucket of the log metrics log_lines, log_errors and "
        "log_new_templates of each resource.",
    )
    grace_s: float = Field(
        default=30.0,
        ge=0,
        description="A bucket closes once a line this much newer than its end arrives; "
        "later lines count in the oldest open bucket.",
    )
    max_gap_buckets: int = Field(
        default=60,
        ge=1,
        le=100_000,
        description="Empty buckets emitted at most for a silent resource when buckets close.",
    )
    anomaly_threshold: float = Field(
        default=0.35, ge=0.0, le=1.0, description="Score from which a line is anomalous."
    )
    surprise_onset: float = Field(
        default=2.0,
        ge=0,
        description="Surprise (-log10 of the template's share of the resource's lines) below "
        "which a line scores 0: 2 = templates more common than 1 line in 100.",
    )
    surprise_scale: float = Field(
        default=1.5, gt=0, description="Surprise above the onset that brings the score to 0.63."
    )
    error_boost: float = Field(
        default=1.0,
        ge=0,
        description="Surprise added to error and critical lines (1 = as if ten times rarer).",
    )
    sim_threshold: float = Field(
        default=0.7, gt=0, le=1, description="drain3 similarity a line needs to join a template."
    )
    depth: int = Field(default=5, ge=3, le=20, description="drain3 parse-tree depth.")
    max_children: int = Field(
        default=100, ge=2, le=10_000, description="drain3 children per parse-tree node."
    )
    max_templates: int = Field(
        default=5000,
        ge=10,
        le=1_000_000,
        description="Templates kept; beyond, the least recently seen are forgotten.",
    )
    bootstrap_file: Path | None = Field(
        default=None,
        description="A log file (one line per line) the served log model learns at start.",
    )
