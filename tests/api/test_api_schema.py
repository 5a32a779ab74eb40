"""A schemathesis run over the app's whole OpenAPI spec finds no 5xx, no undocumented status
and no answer off its schema (every phase: the spec's examples, boundary and malformed values,
and fuzzing; at least 1,000 requests); bodies over api.max_body_bytes get 413
on every POST endpoint, declared or streamed, with nothing stored.

The run is deterministic (the same requests every time) and bounded per operation. The
WebSocket and the dashboard's static files are not in the spec; nothing is excluded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.engine import Status, events, from_schema
from schemathesis.python import asgi

from opsgraph.api import create_app
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings

#: Generated requests per operation in each phase that draws at random.
EXAMPLES = 25

# Prometheus remote write takes snappy-compressed protobuf: fuzz it with arbitrary bytes.
schemathesis.serializer.alias("application/x-protobuf", "application/octet-stream")


def _runtime(data_dir: Path, **extra: Any) -> Runtime:
    settings = Settings(
        data_dir=data_dir,
        sim={"resources": 30, "seed": 3, "preroll_steps": 40},
        detect={"window": 30, "min_points": 10},
        # Every route is reached as an admin would: schemathesis sends no credentials.
        auth={"enabled": False},
        # The graph model's bootstrap trains for a minute in a child process: not here.
        gnn={"bootstrap": False},
        **extra,
    )
    runtime = Runtime(settings, demo=True)
    runtime.simulation.start()
    return runtime


@pytest.fixture
def api(tmp_path: Path) -> Iterator[FastAPI]:
    runtime = _runtime(tmp_path)
    yield create_app(runtime, run_pipeline=False)
    asgi.shutdown_lifespans()  # schemathesis keeps an app's lifespan running between calls
    runtime.close()


def _problems(event: events.EngineEvent) -> list[str]:
    """Readable failures of one engine event: the operation, the check and the request."""
    if isinstance(event, events.ScenarioFinished) and event.status is Status.FAILURE:
        found = []
        for case_id, checks in event.recorder.checks.items():
            for check in checks:
                if check.status is Status.FAILURE:
                    case = event.recorder.cases[case_id].value
                    interaction = event.recorder.interactions.get(case_id)
                    answer = interaction.response.status_code if interaction else "no response"
                    found.append(f"{event.recorder.label} -> {answer}: {case.as_curl_command()}")
        return found
    if isinstance(event, events.NonFatalError):
        return [f"{event.label}: {type(event.value).__name__}: {event.value}"]
    if isinstance(event, events.FatalError):
        return [f"fatal: {type(event.exception).__name__}: {event.exception}"]
    return []


# Hypothesis warns when it prints a huge generated value (a 100 kB password): not a finding.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
def test_a_schemathesis_run_finds_no_server_error(api: FastAPI) -> None:
    config = schemathesis.Config.from_dict(
        {
            # No 5xx; every answer's status is documented and its body matches the schema.
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "status_code_conformance": {"enabled": True},
                "response_schema_conformance": {"enabled": True},
            },
            "phases": {"stateful": {"enabled": False}},
            "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
            "continue-on-failure": True,
            # No state from earlier runs (and none written into the checkout).
            "cache": {"enabled": False},
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", api, config=config)
    problems: list[str] = []
    operations: set[str] = set()
    sent = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            operations.add(event.recorder.label)
            sent += len(event.recorder.interactions)
        problems += _problems(event)
    assert len(operations) >= 25  # the run reached the API, not only the spec
    print(f"schemathesis: {sent} requests over {len(operations)} operations")
    assert sent >= 1000, sent
    assert not problems, "\n".join(sorted(set(problems)))


@pytest.fixture
def small_limit(tmp_path: Path) -> Iterator[tuple[TestClient, Runtime]]:
    runtime = _runtime(tmp_path, api={"max_body_bytes": 4096})
    with TestClient(create_app(runtime, run_pipeline=False)) as client:
        yield client, runtime
    runtime.close()


BIG = [
    (
        "/ingest/samples",
        {"samples": [{"resource_id": "x-1", "metric": "cpu", "ts": 1.0, "value": 1.0}] * 200},
    ),
    ("/resources", {"resources": [{"id": f"r-{i}", "kind": "ec2"} for i in range(300)]}),
    ("/maintenance", {"resource_ids": ["x-1"] * 1000, "duration_s": 60}),
    ("/batch_predict", {"samples": [{"features": {"cpu": 1.0}}] * 300}),
    (
        "/predict/graph",
        {"nodes": [{"id": f"n-{i}", "features": [1, 2, 3, 4, 5]} for i in range(200)]},
    ),
]


@pytest.mark.parametrize(("path", "body"), BIG, ids=[p for p, _ in BIG])
def test_oversized_bodies_get_413_and_store_nothing(
    small_limit: tuple[TestClient, Runtime], path: str, body: dict[str, Any]
) -> None:
    client, runtime = small_limit
    before = runtime.store.counts()
    resources = len(runtime.estate.resources)
    declared = client.post(path, json=body)
    assert declared.status_code == 413, declared.text
    assert "larger than 4096 bytes" in declared.json()["detail"]

    # Streamed without a Content-Length: refused once the count passes the limit.
    def chunks() -> Iterator[bytes]:
        text = declared.request.content
        for at in range(0, len(text), 1000):
            yield text[at : at + 1000]

    streamed = client.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413, streamed.text
    assert runtime.store.counts() == before and len(runtime.estate.resources) == resources
