"""A table of samples in time order: the columnar form that files, the store and the offline
scorers exchange (rows are timestamps, columns are series)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class Table:
    """Rows in file order: ts[i] (None when the file has no time column) and values[i, j]."""

    columns: list[str]
    values: npt.NDArray[np.float64]
    ts: npt.NDArray[np.float64] | None
    ignored: list[str]


def table_from_series(series: dict[tuple[str, str], tuple[list[float], list[float]]]) -> Table:
    """A wide table from (resource, metric) -> (timestamps, values), aligned on timestamps."""
    stamps = sorted({t for ts, _ in series.values() for t in ts})
    if not stamps:
        raise InvalidInputError("store", "no samples in the chosen range")
    row = {t: i for i, t in enumerate(stamps)}
    values = np.full((len(stamps), len(series)), np.nan)
    for j, (ts, vs) in enumerate(series.values()):
        for t, v in zip(ts, vs, strict=True):
            values[row[t], j] = v
    columns = [f"{r}/{m}" for r, m in series]
    return Table(columns, values, np.array(stamps), [])
