"""Where a fault starts in a window of metrics, when nobody says.

Each column is measured in units of its own noise: the spread of its row-to-row differences
(1.4826 x their MAD / sqrt 2), which a change of level does not inflate, never below
`REL_FLOOR` of its level (evidence.py). For every candidate row a, the `AFTER` rows from a on
are compared with the up to `BEFORE` rows before it: each column's values, centred on the
median of the rows before and clipped at +-`CLIP` noise units (no spike decides alone), give a
two-sample statistic (difference of means over its standard error, squared); the sum over the
columns is how much the series changed together at a. A fault often grows (its cascade reaches
more series row after row), so the onset is not the row with the largest sum but the first whose
sum, above the window's typical (median) one, reaches `FIRST_SHARE` of the largest. Only rows
with `AFTER` rows after them are candidates, so a fault that ends inside the window is found at
its start; the search begins at `min_before`, so one normal row is enough.

The constants were chosen on the simulated incidents of `opsgraph bench rca` (20 and 200 nodes,
top-1 with the estimated onset; docs/benchmarks.md, "Root cause"), not on the real data sets.
Known weakness: when several fault rows are inside the up to `BEFORE` rows before a candidate,
clipping can make that later candidate look as good as the true start.
"""

from __future__ import annotations

import warnings

import numpy as np

from opsgraph.explain.evidence import REL_FLOOR, FloatArray

#: Rows after a candidate start that are compared with the rows before it.
AFTER = 3
#: At most this many rows before a candidate start are its reference.
BEFORE = 10
#: Values are clipped at this many noise units from the reference median.
CLIP = 10.0
#: The onset is the first row whose statistic, above the window's typical (median) one,
#: reaches this share of the largest.
FIRST_SHARE = 0.5


def noise_scale(values: FloatArray) -> FloatArray:
    """Per column of `values` [rows, columns]: the noise of its row-to-row differences
    (1.4826 x their MAD / sqrt 2, robust to a step), at least REL_FLOOR of its median level
    and 1e-9. NaN are ignored (a column without two values in a row has noise 0)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        diffs = np.diff(values, axis=0)
        level = np.nanmedian(values, axis=0)
        mad = np.nanmedian(np.abs(diffs - np.nanmedian(diffs, axis=0)), axis=0)
    scale = 1.4826 * np.nan_to_num(mad) / np.sqrt(2.0)
    floor = np.maximum(np.abs(np.nan_to_num(level)) * REL_FLOOR, 1e-9)
    return np.asarray(np.maximum(scale, floor), dtype=np.float64)


def _filled(values: FloatArray) -> FloatArray:
    """Gaps filled with the last value seen, then the next; all-gap columns with 0."""
    out = np.array(values, dtype=np.float64, copy=True)
    rows = out.shape[0]
    for j in np.flatnonzero(~np.isfinite(out).all(axis=0)).tolist():
        col = out[:, j]
        ok = np.isfinite(col)
        if not ok.any():
            out[:, j] = 0.0
            continue
        idx = np.maximum.accumulate(np.where(ok, np.arange(rows), -1))
        idx[idx < 0] = int(np.argmax(ok))
        out[:, j] = col[idx]
    return out


def onset_profile(values: FloatArray, *, min_before: int = 1) -> FloatArray:
    """For each row of `values` [rows, columns] the statistic of a change there (module
    docstring); -inf where no start is searched."""
    n = values.shape[0]
    profile = np.full(n, -np.inf)
    if n < 2 or values.shape[1] == 0:
        return profile
    x = _filled(values)
    noise = noise_scale(x)
    first = min(max(min_before, 1), n - 1)
    after_rows = max(1, min(AFTER, n - first))
    for a in range(first, n - after_rows + 1):
        before, after = x[max(0, a - BEFORE) : a], x[a : a + after_rows]
        centre = np.median(before, axis=0)
        zb = np.clip((before - centre) / noise, -CLIP, CLIP)
        za = np.clip((after - centre) / noise, -CLIP, CLIP)
        err = np.sqrt(1.0 / after.shape[0] + 1.0 / before.shape[0])
        profile[a] = float((((za.mean(axis=0) - zb.mean(axis=0)) / err) ** 2).sum())
    return profile


def estimate_onset(values: FloatArray, *, min_before: int = 1) -> int:
    """The row where `values` [rows, columns] most likely started to change (module
    docstring): at least `min_before` (and 1), at most the last row."""
    n = values.shape[0]
    if n < 2:
        raise ValueError("an onset needs at least two rows")
    profile = onset_profile(values, min_before=min_before)
    searched = np.isfinite(profile)
    if not searched.any():
        return int(min(max(min_before, 1), n - 1))
    excess = profile - float(np.median(profile[searched]))
    best = float(excess[searched].max())
    return int(np.argmax(searched & (excess >= FIRST_SHARE * best)))
