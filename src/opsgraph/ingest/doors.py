"""Time checked at the door: samples from outside must carry a plausible time.

One sample stamped 1e300 (or a millisecond stamp read as seconds) used to become the
pipeline's clock: every later silence and maintenance window was refused, every chart went
blank. Pushed and remote-written samples, and pushed log lines, are refused, whole batch, when
a time is more than `api.max_future_skew_s` ahead of now or older than `api.max_sample_age_s`;
nothing of a refused batch is stored or scored.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError


def check_sample_times(
    ts: npt.NDArray[np.float64],
    *,
    now: float,
    max_future_skew_s: float,
    max_age_s: float,
    field: str = "samples",
) -> None:
    """Raise InvalidInputError naming the first sample whose time is out of
    [now - max_age_s, now + max_future_skew_s]; `field` is the list the samples came in."""
    if not len(ts):
        return
    latest, oldest = now + max_future_skew_s, now - max_age_s
    bad = np.flatnonzero((ts > latest) | (ts < oldest))
    if not len(bad):
        return
    i = int(bad[0])
    t = float(ts[i])
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    if t > latest:
        reason = (
            f"{t:.6g} is {t - now:.6g} s after now ({now:.0f}); at most "
            f"api.max_future_skew_s = {max_future_skew_s:g} s ahead is accepted"
        )
        if oldest <= t / 1000.0 <= latest:
            reason += "; it looks like milliseconds: send epoch seconds (divide by 1000)"
    else:
        reason = (
            f"{t:.6g} is before the horizon {oldest:.0f} (now minus api.max_sample_age_s = "
            f"{max_age_s:g} s); epoch seconds are expected"
        )
    raise InvalidInputError(f"{field}[{i}].ts", reason + more)
