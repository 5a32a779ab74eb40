"""The root-cause benchmark's units: a case (one fault's metrics and its truth), a ranker's
answer, and a ranker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from opsgraph.explain.evidence import FloatArray


@dataclass(slots=True)
class Case:
    name: str
    kind: str
    nodes: list[str]  # per column
    metrics: list[str]  # per column
    values: FloatArray  # [rows, columns]
    fault_row: int  # the true onset
    edges: list[tuple[str, str]]
    members: list[tuple[str, str]]
    root: str
    affected: set[str] | None  # ground-truth cascade, when known
    #: Rows before this one are a baseline recorded apart from the fault's own recording (always
    #: normal); onset estimators look from here on.
    search_from: int = 0
    #: Columns of the violated SLO when the case comes with that hint (PetShop), else None.
    slo: list[int] | None = None


@dataclass(slots=True)
class Ranked:
    order: list[str]
    cascade: set[str] | None = None
    confidence: float | None = None  # of the first hypothesis


Ranker = Callable[[Case], Ranked]
