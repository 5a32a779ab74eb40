"""Prometheus remote-write 1.0 wire format: snappy-compressed `prometheus.WriteRequest` protobuf.

The message descriptors are built at import time (no protoc needed); decoding is columnar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import cramjam
import numpy as np
import numpy.typing as npt
from google.protobuf import (  # type: ignore[import-untyped]
    descriptor_pb2,
    descriptor_pool,
    message_factory,
)
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

#: Prometheus marks a series that disappeared with this exact NaN bit pattern (value.StaleNaN).
STALE_NAN_BITS = 0x7FF0000000000002

_F = descriptor_pb2.FieldDescriptorProto
_OPTIONAL, _REPEATED = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED


_Fields = list[tuple[str, int, int, int, str]]  # name, number, type, label, message type


def _file(name: str, package: str, messages: dict[str, _Fields]) -> Any:
    proto = descriptor_pb2.FileDescriptorProto(name=name, package=package, syntax="proto3")
    for message, fields in messages.items():
        desc = proto.message_type.add(name=message)
        for fname, number, ftype, label, type_name in fields:
            entry = desc.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                entry.type_name = type_name
    return proto


# The subset of prometheus/prompb (types.proto, remote.proto) that remote write 1.0 sends for
# float samples; exemplars, native histograms and metadata are other field numbers, which the
# parser skips as unknown fields.
_SCHEMA = _file(
    "opsgraph/prometheus_remote.proto",
    "prometheus",
    {
        "Label": [
            ("name", 1, _F.TYPE_STRING, _OPTIONAL, ""),
            ("value", 2, _F.TYPE_STRING, _OPTIONAL, ""),
        ],
        "Sample": [
            ("value", 1, _F.TYPE_DOUBLE, _OPTIONAL, ""),
            ("timestamp", 2, _F.TYPE_INT64, _OPTIONAL, ""),
        ],
        "TimeSeries": [
            ("labels", 1, _F.TYPE_MESSAGE, _REPEATED, ".prometheus.Label"),
            ("samples", 2, _F.TYPE_MESSAGE, _REPEATED, ".prometheus.Sample"),
        ],
        "WriteRequest": [("timeseries", 1, _F.TYPE_MESSAGE, _REPEATED, ".prometheus.TimeSeries")],
    },
)
# The same wire format with each Label kept as its raw bytes: a series' labels become a tuple
# of bytes, a cheap dictionary key, and are parsed into names and values once per label set.
_LAZY = _file(
    "opsgraph/prometheus_remote_lazy.proto",
    "opsgraph_prometheus_lazy",
    {
        "Sample": [
            ("value", 1, _F.TYPE_DOUBLE, _OPTIONAL, ""),
            ("timestamp", 2, _F.TYPE_INT64, _OPTIONAL, ""),
        ],
        "TimeSeries": [
            ("labels", 1, _F.TYPE_BYTES, _REPEATED, ""),
            ("samples", 2, _F.TYPE_MESSAGE, _REPEATED, ".opsgraph_prometheus_lazy.Sample"),
        ],
        "WriteRequest": [
            (
                "timeseries",
                1,
                _F.TYPE_MESSAGE,
                _REPEATED,
                ".opsgraph_prometheus_lazy.TimeSeries",
            )
        ],
    },
)
_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_SCHEMA)
_POOL.Add(_LAZY)


def _message_class(name: str) -> Any:
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(name))


_WriteRequest = _message_class("prometheus.WriteRequest")
_Label = _message_class("prometheus.Label")
_LazyWriteRequest = _message_class("opsgraph_prometheus_lazy.WriteRequest")


class _LabelMsg(Protocol):
    name: str
    value: str


class _SampleMsg(Protocol):
    value: float
    timestamp: int


class _LazySeriesMsg(Protocol):
    labels: Sequence[bytes]
    samples: Sequence[_SampleMsg]


class WireFormatError(ValueError):
    """The body is not snappy-compressed (block format) or not a valid WriteRequest."""


#: A series' label set as sent: each label still encoded, in the sender's order.
LabelKey = tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class PromSeries:
    """One time series of a WriteRequest: its labels and (timestamp ms, value) samples."""

    labels: Mapping[str, str]
    samples: Sequence[tuple[int, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DecodedWrite:
    """A WriteRequest as columns: series i owns samples offsets[i]:offsets[i + 1]."""

    keys: list[LabelKey]
    offsets: npt.NDArray[np.int64]
    timestamps_ms: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]

    @property
    def size(self) -> int:
        return int(self.values.shape[0])

    def series(self) -> list[PromSeries]:
        """Back to named series (for tests and debugging; the ingest path stays columnar)."""
        out = []
        for i, key in enumerate(self.keys):
            lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
            samples = list(
                zip(self.timestamps_ms[lo:hi].tolist(), self.values[lo:hi].tolist(), strict=True)
            )
            out.append(PromSeries(labels=parse_labels(key), samples=samples))
        return out


def encode_write_request(series: Iterable[PromSeries], *, compress: bool = True) -> bytes:
    """A WriteRequest as Prometheus sends it: protobuf, snappy block-compressed by default."""
    request = _WriteRequest()
    for item in series:
        entry = request.timeseries.add()
        for name, text in item.labels.items():
            entry.labels.add(name=name, value=text)
        for ts_ms, value in item.samples:
            entry.samples.add(timestamp=int(ts_ms), value=float(value))
    raw = cast(bytes, request.SerializeToString())
    return bytes(cramjam.snappy.compress_raw(raw)) if compress else raw


def decompress(body: bytes, *, max_bytes: int | None = None) -> bytes:
    """Snappy block decompression (not the framed format), as remote write uses.

    The declared length is checked against max_bytes before anything is allocated, so a small
    body cannot expand into gigabytes.
    """
    try:
        size = cramjam.snappy.decompress_raw_len(body)
        if max_bytes is not None and size > max_bytes:
            raise WireFormatError(
                f"decompresses to {size} bytes, more than the {max_bytes} accepted"
            )
        return bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise WireFormatError(f"not snappy-compressed (block format): {exc}") from exc


def decode_write_request(
    body: bytes, *, compressed: bool = True, max_bytes: int | None = None
) -> DecodedWrite:
    """Parse a (snappy-compressed) WriteRequest into columns; WireFormatError when invalid."""
    raw = decompress(body, max_bytes=max_bytes) if compressed else body
    request = _LazyWriteRequest()
    try:
        request.ParseFromString(raw)
    except DecodeError as exc:
        raise WireFormatError(f"not a valid prometheus.WriteRequest protobuf: {exc}") from exc
    series = cast(Sequence[_LazySeriesMsg], request.timeseries)
    keys: list[LabelKey] = []
    counts: list[int] = []
    stamps: list[int] = []
    values: list[float] = []
    for entry in series:
        keys.append(tuple(entry.labels))
        samples = entry.samples
        counts.append(len(samples))
        for sample in samples:
            stamps.append(sample.timestamp)
            values.append(sample.value)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return DecodedWrite(
        keys=keys,
        offsets=offsets,
        timestamps_ms=np.asarray(stamps, dtype=np.int64),
        values=np.asarray(values, dtype=np.float64),
    )


def parse_labels(key: LabelKey) -> dict[str, str]:
    """Names and values of an encoded label set; WireFormatError for a malformed label."""
    labels: dict[str, str] = {}
    for raw in key:
        try:
            label = cast(_LabelMsg, _Label.FromString(raw))
        except DecodeError as exc:
            raise WireFormatError(f"a label is not a valid prometheus.Label: {exc}") from exc
        labels[label.name] = label.value
    return labels


def stale_mask(values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Where a value is Prometheus' staleness marker (a series that ended), not just any NaN."""
    mask: npt.NDArray[np.bool_] = values.view(np.uint64) == np.uint64(STALE_NAN_BITS)
    return mask


def stale_nan() -> float:
    """The staleness marker as a float (for encoders and tests)."""
    return float(np.array([STALE_NAN_BITS], dtype=np.uint64).view(np.float64)[0])
