"""File replay: the samples of a CSV, Parquet or JSON-lines file fed in time order, at a chosen
speed (data seconds per real second) or as fast as possible, a batch per poll.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Resource, ResourceKind, Sample
from opsgraph.sources.files import read_records
from opsgraph.sources.pull import Batch
from opsgraph.sources.settings import ReplaySettings

log = logging.getLogger("opsgraph.sources.replay")


def parse_speed(text: str | float) -> float:
    """A speed as given on the command line or in config: a number >= 0, or 'max' (= 0)."""
    if isinstance(text, str) and text.strip().lower() == "max":
        return 0.0
    try:
        speed = float(text)
    except ValueError:
        raise InvalidInputError("speed", f"{text!r} is neither a number nor 'max'") from None
    if not 0.0 <= speed < float("inf"):
        raise InvalidInputError("speed", "must be a finite number >= 0 (0 or 'max': no pause)")
    return speed


class ReplaySource:
    """Replays one file. At speed 0 each poll hands on the next `batch_size` samples; at a
    finite speed, every sample whose time the replay clock has reached (at most `batch_size`
    per poll, so a replay that falls behind catches up over the next polls). A batch never
    splits one timestamp unless that timestamp alone holds more than `batch_size` samples.

    The file is read on the first poll (or by `load`); a file that cannot be read ends the
    source with the reason logged, so one bad file does not stop a server."""

    def __init__(
        self,
        path: Path,
        *,
        speed: float | str = 0.0,
        resource_id: str | None = None,
        batch_size: int = 5000,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if batch_size < 1:
            raise InvalidInputError("batch_size", "must be at least 1")
        self.path = path
        self.speed = parse_speed(speed)
        self.resource_id = resource_id
        self.batch_size = batch_size
        self.name = f"replay:{path.name}"
        self.interval_s = interval_s if self.speed > 0 else 0.0
        self.clock = clock
        self._series: list[tuple[str, str]] = []
        self._ts: npt.NDArray[np.float64] = np.empty(0)
        self._index: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._values: npt.NDArray[np.float64] = np.empty(0)
        self._loaded = False
        self._pos = 0
        self._anchor: tuple[float, float] | None = None  # (real time, data time) at the start
        self._resources_sent = False

    @classmethod
    def from_settings(cls, cfg: ReplaySettings) -> ReplaySource:
        return cls(
            cfg.path,
            speed=cfg.speed,
            resource_id=cfg.resource_id,
            batch_size=cfg.batch_size,
            interval_s=cfg.interval_s,
        )

    def load(self) -> None:
        """Read the file (once); a bad file raises InvalidInputError naming line and column."""
        if self._loaded:
            return
        records = read_records(self.path, self.resource_id)
        order = np.argsort(records.ts, kind="stable")  # time order; ties keep file order
        self._series = records.series
        self._ts, self._index = records.ts[order], records.index[order]
        self._values = records.values[order]
        self._loaded = True

    @property
    def total(self) -> int:
        """Samples in the file (0 before it is loaded)."""
        return len(self._ts)

    @property
    def last_ts(self) -> float | None:
        """The newest time in the file (None before it is loaded or when empty)."""
        return float(self._ts[-1]) if len(self._ts) else None

    @property
    def remaining(self) -> int:
        return len(self._ts) - self._pos

    @property
    def resources(self) -> list[Resource]:
        """The resources the file names, as new generic ones (known ones are kept as they are)."""
        ids = dict.fromkeys(r for r, _ in self._series)
        return [Resource(id=r, kind=ResourceKind.GENERIC, name=r, provider="file") for r in ids]

    def _cut(self, limit: int) -> int:
        """End of the next batch: at most batch_size samples up to `limit`, whole timestamps."""
        end = min(self._pos + self.batch_size, limit)
        if end < limit and self._ts[end - 1] == self._ts[end]:
            first = int(np.searchsorted(self._ts, self._ts[end - 1], side="left"))
            if first > self._pos:  # else one timestamp is larger than a batch: split it
                end = first
        return end

    def poll(self) -> Batch:
        try:
            self.load()
        except InvalidInputError as exc:
            log.error("replay of %s stopped: %s", self.path, exc)
            return Batch(done=True)
        n = len(self._ts)
        if self._pos >= n:
            return Batch(done=True)
        if self.speed == 0:
            limit = n
        else:
            now = self.clock()
            if self._anchor is None:
                self._anchor = (now, float(self._ts[0]))
            real0, data0 = self._anchor
            horizon = data0 + (now - real0) * self.speed
            limit = int(np.searchsorted(self._ts, horizon, side="right"))
        end = self._cut(limit) if limit > self._pos else self._pos
        sel = slice(self._pos, end)
        series = self._series
        samples = [
            Sample(resource_id=series[k][0], metric=series[k][1], ts=t, value=v)
            for t, k, v in zip(
                self._ts[sel].tolist(),
                self._index[sel].tolist(),
                self._values[sel].tolist(),
                strict=True,
            )
        ]
        self._pos = end
        resources = [] if self._resources_sent else self.resources
        self._resources_sent = True
        return Batch(samples=samples, resources=resources, done=self._pos >= n)
