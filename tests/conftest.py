"""Fixtures shared across the test packages: the shared data folder, a local moto server
standing in for AWS, boto3 clients for it, a Lambda package to deploy there, and an incident
opened in a store."""

from __future__ import annotations

import io
import os
import socket
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from moto.server import ThreadedMotoServer

from opsgraph.core.models import Anomaly, Incident, Severity
from opsgraph.sources.aws import boto3_clients
from opsgraph.store import Store

#: The data sets of the tests and benchmarks: ../shared/data beside the clone (see README),
#: or wherever OPSGRAPH_SHARED_DATA points.
SHARED_DATA = Path(
    os.environ.get("OPSGRAPH_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that reads the shared data carries the `shared_data` marker, so that
    `-m "not shared_data"` leaves them out."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder. Missing, its tests skip with the reason, except in CI
    (CI=true), where a missing folder is a failure: CI must run them."""
    if not SHARED_DATA.is_dir():
        reason = (
            f"the shared data folder {SHARED_DATA} is missing (set OPSGRAPH_SHARED_DATA or put "
            "shared/data beside the clone; README, 'Data for tests and benchmarks')"
        )
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(reason)
        pytest.skip(reason)
    return SHARED_DATA


#: The region the moto estates of the tests live in.
AWS_REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server on a free port with test credentials in the environment.

    moto keeps its backends in the process, so the state is reset before and after each
    module: no module sees what another created.
    """
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    httpx.post(f"{url}/moto-api/reset").raise_for_status()
    try:
        yield url
    finally:
        httpx.post(f"{url}/moto-api/reset").raise_for_status()
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def aws(moto_url: str) -> Callable[[str], Any]:
    """boto3 clients for the moto server in AWS_REGION: `aws("ec2")`."""
    make = boto3_clients(endpoint_url=moto_url)
    return lambda service: make(service, AWS_REGION)


@pytest.fixture(scope="session")
def lambda_zip() -> bytes:
    """A deployable Lambda package: one handler that echoes its event."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


#: open_incident(store, resource_id, metric, value=..., expected=..., title=...) -> Incident
OpenIncident = Callable[..., Incident]


@pytest.fixture(scope="session")
def open_incident() -> OpenIncident:
    """Stores one HIGH anomaly of a resource's metric (value against expected) and opens an
    incident rooted at that resource holding it, as the root-cause ranker placed it (confidence
    0.9); returns the stored incident."""

    def make(
        store: Store, resource_id: str, metric: str, *, value: float, expected: float, title: str
    ) -> Incident:
        anomaly = Anomaly(
            resource_id=resource_id,
            metric=metric,
            detector="t",
            start_ts=1.0,
            last_ts=2.0,
            score=0.9,
            max_score=0.9,
            severity=Severity.HIGH,
            value=value,
            expected=expected,
        )
        empty = np.zeros(0)
        (saved,) = store.write_batch(
            series_ids=empty.astype(np.int64), ts=empty, values=empty, new_anomalies=[anomaly]
        )
        incident = store.add_incident(
            Incident(
                title=title,
                severity=Severity.HIGH,
                opened_ts=1.0,
                root_resource_id=resource_id,
                root_confidence=0.9,
            )
        )
        assert incident.id is not None and saved.id is not None
        store.link_anomalies([saved.id], incident.id)
        return incident

    return make


#: Detection that alerts from a series' 10th point: robust z over 30 points through the fixed
#: exponential map, two points in a row to open, no rest. Tests of the API, notifications and
#: automation need an anomaly within a few dozen simulated steps; the live default (the
#: calibrated ensemble) judges from about the 70th point, and its behaviour is pinned by the
#: benchmark tests (tests/bench).
QUICK_DETECT: dict[str, Any] = {
    "detector": "robust_z",
    "calibration": "exponential",
    "window": 30,
    "min_points": 10,
    "alert_threshold": 0.35,
    "open_after_points": 2,
    "rest_points": 0,
    "rest_fraction": 0.0,
}


@pytest.fixture
def quick_detect() -> dict[str, Any]:
    return dict(QUICK_DETECT)
