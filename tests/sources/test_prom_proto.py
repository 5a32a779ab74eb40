"""The remote-write wire format: encode/decode round trip, staleness markers, bad bodies."""

from __future__ import annotations

import math

import cramjam
import numpy as np
import pytest

from opsgraph.sources.prom_proto import (
    STALE_NAN_BITS,
    PromSeries,
    WireFormatError,
    decode_write_request,
    encode_write_request,
    parse_labels,
    stale_mask,
    stale_nan,
)

SERIES = [
    PromSeries(
        {"__name__": "node_load1", "instance": "localhost:9100", "job": "node"},
        [(1_700_000_000_000, 0.5), (1_700_000_015_000, 0.75)],
    ),
    PromSeries(
        {"__name__": "up", "job": "node", "instance": "déjà-vu:1"}, [(1_700_000_000_500, 1)]
    ),
    PromSeries({"__name__": "empty"}, []),
    PromSeries({"__name__": "zero"}, [(0, 0.0)]),  # proto3 leaves zero fields off the wire
]


def test_round_trip_keeps_labels_order_timestamps_and_values() -> None:
    decoded = decode_write_request(encode_write_request(SERIES))
    assert decoded.size == 4
    assert decoded.offsets.tolist() == [0, 2, 3, 3, 4]
    back = decoded.series()
    assert [dict(s.labels) for s in back] == [dict(s.labels) for s in SERIES]
    assert [list(s.labels) for s in back] == [list(s.labels) for s in SERIES]
    assert [list(s.samples) for s in back] == [list(s.samples) for s in SERIES]


def test_uncompressed_round_trip_and_the_body_is_snappy_block_format() -> None:
    raw = encode_write_request(SERIES, compress=False)
    body = encode_write_request(SERIES)
    assert bytes(cramjam.snappy.decompress_raw(body)) == raw
    assert (
        decode_write_request(raw, compressed=False).series() == decode_write_request(body).series()
    )


def test_the_staleness_marker_survives_and_is_told_from_other_nan() -> None:
    marker = stale_nan()
    assert math.isnan(marker)
    assert np.array([marker]).view(np.uint64)[0] == STALE_NAN_BITS
    body = encode_write_request(
        [PromSeries({"__name__": "x"}, [(1, marker), (2, float("nan")), (3, 1.0), (4, math.inf)])]
    )
    values = decode_write_request(body).values
    assert stale_mask(values).tolist() == [True, False, False, False]
    assert np.isnan(values).tolist() == [True, True, False, False]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"definitely not snappy \xff\xff\xff\xff", "not snappy-compressed"),
        (bytes(cramjam.snappy.compress_raw(b"\x0a\x05\x0a\x03abc\xff")), "not a valid"),
        (bytes(cramjam.snappy.compress_raw(b"\x0a\xff\xff\xff\x0f")), "not a valid"),
    ],
)
def test_bad_bodies_are_refused_with_the_reason(body: bytes, message: str) -> None:
    with pytest.raises(WireFormatError, match=message):
        decode_write_request(body)


def test_a_body_that_would_expand_beyond_the_limit_is_refused_before_decompression() -> None:
    body = bytes(cramjam.snappy.compress_raw(b"\x00" * 100_000))
    with pytest.raises(WireFormatError, match="more than the 50000 accepted"):
        decode_write_request(body, max_bytes=50_000)
    # Within the limit it is decompressed, and then refused as what it is: not a WriteRequest.
    with pytest.raises(WireFormatError, match="not a valid"):
        decode_write_request(body, max_bytes=200_000)


def test_a_label_that_is_not_utf8_is_refused_when_parsed() -> None:
    # Label{name: "a", value: b"\xff"}: proto3 strings must be UTF-8.
    with pytest.raises(WireFormatError, match=r"not a valid prometheus\.Label"):
        parse_labels((b"\x0a\x01a\x12\x01\xff",))
