"""Labelled graph windows: what the graph detectors train and are evaluated on (the windows
of the simulated cloud come from `runtime/training.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from opsgraph.models.gnn.features import BoolArray, GraphWindow


@dataclass(slots=True)
class LabelledWindows:
    windows: list[GraphWindow] = field(default_factory=list)
    labels: list[BoolArray] = field(default_factory=list)
    #: Fault kind per window ("" for a normal window).
    kinds: list[str] = field(default_factory=list)

    def extend(self, other: LabelledWindows) -> None:
        self.windows += other.windows
        self.labels += other.labels
        self.kinds += other.kinds

    def __len__(self) -> int:
        return len(self.windows)

    def only(self, kinds: Iterable[str]) -> LabelledWindows:
        keep = set(kinds)
        out = LabelledWindows()
        for w, y, k in zip(self.windows, self.labels, self.kinds, strict=True):
            if k in keep:
                out.windows.append(w)
                out.labels.append(y)
                out.kinds.append(k)
        return out
