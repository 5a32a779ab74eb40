"""The hot path of the store: bulk insertion of samples through the raw DBAPI connection.

SQLite gets one `executemany` of tuples; PostgreSQL gets one binary `COPY` built with numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

_SQLITE_INSERT = "INSERT INTO samples (series_id, ts, value) VALUES (?, ?, ?)"
_PG_COPY = "COPY samples (series_id, ts, value) FROM STDIN (FORMAT BINARY)"

# PGCOPY signature, flags (no OIDs), header extension length.
_PG_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_PG_TRAILER = b"\xff\xff"
# One binary COPY tuple: field count, then (length, big-endian value) per field.
_PG_ROW = np.dtype(
    [
        ("nfields", ">i2"),
        ("len_sid", ">i4"),
        ("sid", ">i4"),
        ("len_ts", ">i4"),
        ("ts", ">f8"),
        ("len_value", ">i4"),
        ("value", ">f8"),
    ]
)

INT4_MAX = 2**31 - 1


def insert_sqlite(
    dbapi_connection: Any,
    series_ids: npt.NDArray[np.int64],
    ts: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.executemany(
            _SQLITE_INSERT, zip(series_ids.tolist(), ts.tolist(), values.tolist(), strict=True)
        )
    finally:
        cursor.close()


def pg_copy_payload(
    series_ids: npt.NDArray[np.int64],
    ts: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
) -> bytes:
    """The whole binary COPY stream for these rows (series ids must fit int4)."""
    rows = np.empty(series_ids.shape[0], dtype=_PG_ROW)
    rows["nfields"] = 3
    rows["len_sid"] = 4
    rows["sid"] = series_ids
    rows["len_ts"] = 8
    rows["ts"] = ts
    rows["len_value"] = 8
    rows["value"] = values
    return b"".join((_PG_HEADER, rows.tobytes(), _PG_TRAILER))


def insert_postgresql(
    dbapi_connection: Any,
    series_ids: npt.NDArray[np.int64],
    ts: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
) -> None:
    payload = pg_copy_payload(series_ids, ts, values)
    with dbapi_connection.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
        copy.write(payload)
