"""An API over a small simulated estate; tests step the pipeline by hand (no background loop)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from opsgraph.api import create_app
from opsgraph.config import Settings
from opsgraph.runtime import Runtime


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(
        data_dir=tmp_path,
        sim={"resources": 30, "seed": 3, "preroll_steps": 40},
        detect={"window": 30, "min_points": 10},
    )
    rt = Runtime(settings, demo=True)
    rt.start_sim()
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, run_pipeline=False)) as c:
        yield c
