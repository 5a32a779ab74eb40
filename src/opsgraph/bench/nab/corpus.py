"""The NAB corpus: 58 labelled series, their anomaly windows and the scoring profiles.

Read from a NAB checkout's layout (data/, labels/combined_windows.json, config/profiles.json);
nothing is copied into the project.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class DataFile:
    """One series of the corpus with its label windows as row-index ranges (inclusive)."""

    name: str  # relative path, e.g. "realKnownCause/nyc_taxi.csv"
    timestamps: list[str]
    ts: npt.NDArray[np.float64]  # epoch seconds
    values: npt.NDArray[np.float64]
    windows: list[tuple[int, int]]

    @property
    def category(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def labels(self) -> npt.NDArray[np.int8]:
        out = np.zeros(len(self.values), dtype=np.int8)
        for left, right in self.windows:
            out[left : right + 1] = 1
        return out


@dataclass(frozen=True, slots=True)
class CostMatrix:
    tp: float
    fp: float
    fn: float


@dataclass(frozen=True, slots=True)
class Corpus:
    files: list[DataFile]
    profiles: dict[str, CostMatrix]


def _epoch(stamp: str) -> float:
    return float(np.datetime64(stamp.strip().replace(" ", "T"), "ms").astype(np.int64)) / 1e3


def load_corpus(root: Path) -> Corpus:
    """Load every data file with its windows; a missing or malformed part names itself."""
    data_dir = root / "data"
    windows_path = root / "labels" / "combined_windows.json"
    profiles_path = root / "config" / "profiles.json"
    for path in (data_dir, windows_path, profiles_path):
        if not path.exists():
            raise InvalidInputError("data", f"{path} not found: is {root} a NAB corpus?")
    windows = json.loads(windows_path.read_text())
    profiles = {
        name: CostMatrix(
            tp=float(p["CostMatrix"]["tpWeight"]),
            fp=float(p["CostMatrix"]["fpWeight"]),
            fn=float(p["CostMatrix"]["fnWeight"]),
        )
        for name, p in json.loads(profiles_path.read_text()).items()
    }
    files = []
    for name in sorted(windows):
        path = data_dir / name
        if not path.is_file():
            raise InvalidInputError("data", f"{path} is labelled but missing")
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        stamps = [r["timestamp"] for r in rows]
        ts = np.array([_epoch(s) for s in stamps])
        values = np.array([float(r["value"]) for r in rows])
        index = {t: i for i, t in enumerate(ts.tolist())}
        spans = []
        for left, right in windows[name]:
            try:
                spans.append((index[_epoch(left)], index[_epoch(right)]))
            except KeyError as exc:
                raise InvalidInputError(
                    "labels", f"{name}: window edge {exc} is not a timestamp of the file"
                ) from None
        files.append(DataFile(name, stamps, ts, values, spans))
    return Corpus(files, profiles)
