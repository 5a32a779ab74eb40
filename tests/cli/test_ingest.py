"""`opsgraph ingest replay` against an in-process app: new resources registered first, batches
posted in time order, the API key sent, refusals and bad files exit 2."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from opsgraph.api import create_app
from opsgraph.cli.main import app
from opsgraph.core.models import Resource
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings

runner = CliRunner()
#: Two hours ago: the server refuses samples far from now (`ingest/doors.py`).
T0 = int(time.time()) - 7200
OLD = 1_700_000_000  # November 2023


def _run(*args: str) -> tuple[int, str]:
    """Exit code and output, unwrapped (rich folds long lines)."""
    result = runner.invoke(app, ["ingest", "replay", *args])
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(
        data_dir=tmp_path / "data",
        sim={"enabled": False},
        auth={"enabled": False},
        api={"max_batch": 50},
    )
    rt = Runtime(settings)
    rt.estate.upsert([Resource(id="db-1", kind="rds", provider="aws")], [])
    yield rt
    rt.close()


@pytest.fixture
def seen(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The requests the command makes, served by the app in process."""
    requests: list[dict[str, Any]] = []
    api: FastAPI = create_app(runtime, run_pipeline=False)

    @api.middleware("http")
    async def record(request: Request, call_next: Any) -> Response:
        body = await request.body()
        requests.append(
            {
                "method": request.method,
                "path": request.url.path,
                "auth": request.headers.get("authorization"),
                "body": json.loads(body) if body else None,
            }
        )
        response: Response = await call_next(request)
        return response

    def open_client(url: str, headers: dict[str, str]) -> httpx.Client:
        return TestClient(api, base_url=url, headers=headers)

    monkeypatch.delenv("OPSGRAPH_API_KEY", raising=False)
    monkeypatch.setattr("opsgraph.cli.ingest.open_client", open_client)
    return requests


def test_replay_registers_new_resources_then_posts_batches(
    tmp_path: Path, runtime: Runtime, seen: list[dict[str, Any]]
) -> None:
    path = tmp_path / "mixed.jsonl"
    rows = [
        {"timestamp": T0 + 60 * i, "resource_id": res, "metric": "cpu", "value": float(i)}
        for i in range(30)
        for res in ("db-1", "web-1")
    ]
    path.write_text("\n".join(json.dumps(r) for r in reversed(rows)) + "\n")
    code, out = _run(str(path), "--batch", "25", "--api-key", "k-123")
    assert code == 0, out
    assert "replayed 60 samples of mixed.jsonl in 3 batches (1 new resources" in out
    assert all(r["auth"] == "Bearer k-123" for r in seen)
    calls = [(r["method"], r["path"]) for r in seen]
    assert (
        calls == [("GET", "/resources"), ("POST", "/resources")] + [("POST", "/ingest/samples")] * 3
    )
    assert [r["id"] for r in seen[1]["body"]["resources"]] == ["web-1"]  # db-1 was known
    posted = [s for r in seen[2:] for s in r["body"]["samples"]]
    assert [len(r["body"]["samples"]) for r in seen[2:]] == [24, 24, 12]  # whole timestamps
    assert [s["ts"] for s in posted] == sorted(s["ts"] for s in posted)
    ts, values = runtime.store.read_samples("web-1", metrics=["cpu"])["cpu"]
    assert list(ts) == [T0 + 60 * i for i in range(30)] and list(values) == list(range(30))
    assert runtime.estate.resources["db-1"].kind == "rds"  # a known resource is left as it is


def test_a_wide_file_needs_its_resource(tmp_path: Path, seen: list[dict[str, Any]]) -> None:
    path = tmp_path / "vm.csv"
    path.write_text("timestamp,cpu,memory\n" + "".join(f"{T0 + i},{i},50\n" for i in range(5)))
    code, out = _run(str(path))
    assert code == 2 and "--resource: vm.csv is a wide table" in out and "name the resource" in out
    assert seen == []
    code, out = _run(str(path), "--resource", "vm-3")
    assert code == 0, out
    assert seen[1]["body"]["resources"][0]["id"] == "vm-3"
    assert len(seen[2]["body"]["samples"]) == 10 and seen[0]["auth"] is None


def test_bad_input_and_refusals_exit_2(tmp_path: Path, seen: list[dict[str, Any]]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,resource_id,metric,value\n1,db-1,cpu,2\n2,db-1,cpu,many\n")
    code, out = _run(str(bad))
    assert code == 2 and "bad.csv: line 3, column value: 'many' is not a number" in out
    code, out = _run(str(bad), "--speed", "fast")
    assert code == 2 and "--speed: 'fast' is neither a number nor 'max'" in out
    assert seen == []
    good = tmp_path / "good.csv"
    good.write_text("timestamp,resource_id,metric,value\n" + "1,db-1,cpu,1\n" * 60)
    # One timestamp of 60 samples is larger than the server's 50 per request.
    code, out = _run(str(good), "--batch", "100")
    assert code == 2 and "/ingest/samples: 422" in out and "at most 50 samples" in out


def test_an_old_file_is_refused_with_a_hint_and_replays_at_now(
    tmp_path: Path, runtime: Runtime, seen: list[dict[str, Any]]
) -> None:
    path = tmp_path / "old.csv"
    path.write_text(
        "timestamp,resource_id,metric,value\n"
        + "".join(f"{OLD + 60 * i},db-1,cpu,{i}\n" for i in range(10))
    )
    code, out = _run(str(path))
    assert code == 2 and "samples[0].ts" in out and "api.max_sample_age_s" in out
    assert runtime.store.read_samples("db-1", metrics=["cpu"]).get("cpu", ([], []))[0] == []
    started = time.time()
    code, out = _run(str(path), "--at-now")
    assert code == 0, out
    ts, values = runtime.store.read_samples("db-1", metrics=["cpu"])["cpu"]
    assert list(values) == list(range(10)) and list(ts) == sorted(ts)
    assert abs(ts[-1] - started) <= 5 and ts[1] - ts[0] == 60  # shifted whole, spacing kept


def test_an_unreachable_server_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("timestamp,resource_id,metric,value\n1,db-1,cpu,1\n")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out = _run(str(path), "--url", f"http://127.0.0.1:{port}")
    assert code == 2 and "cannot reach" in out


def test_a_server_asking_for_a_credential_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path / "auth", sim={"enabled": False}))
    try:
        api = create_app(runtime, run_pipeline=False)
        monkeypatch.delenv("OPSGRAPH_API_KEY", raising=False)
        monkeypatch.setattr(
            "opsgraph.cli.ingest.open_client",
            lambda url, headers: TestClient(api, base_url=url, headers=headers),
        )
        path = tmp_path / "x.csv"
        path.write_text("timestamp,resource_id,metric,value\n1,db-1,cpu,1\n")
        code, out = _run(str(path), "--api-key", "not-a-key")
        assert code == 2 and "/resources: 401" in out and "--api-key" in out
    finally:
        runtime.close()
