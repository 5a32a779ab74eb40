"""An API over a small simulated estate; tests step the pipeline by hand (no background loop)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opsgraph.api import create_app
from opsgraph.auth import Principal
from opsgraph.core.auth import Role
from opsgraph.models.gnn.contract import FitReport
from opsgraph.models.gnn.detector import GraphSageDetector
from opsgraph.models.gnn.registry import ModelRegistry
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings
from opsgraph.runtime.training import sim_windows


@pytest.fixture
def runtime(tmp_path: Path, quick_detect: dict[str, Any]) -> Iterator[Runtime]:
    settings = Settings(
        data_dir=tmp_path,
        # One-minute steps: the tests count steps (an action acts after two).
        sim={"resources": 30, "seed": 3, "preroll_steps": 40, "step_s": 60.0},
        detect=quick_detect,
    )
    rt = Runtime(settings, demo=True)
    rt.simulation.start()
    yield rt
    rt.close()


def _api_key(runtime: Runtime, role: Role = Role.ADMIN) -> str:
    key, _ = runtime.auth.create_key(
        f"test-{role.value}", role, by=Principal("admin", Role.ADMIN, "user", None)
    )
    return key


@pytest.fixture
def make_key(runtime: Runtime) -> Callable[[Role], str]:
    """Make a fresh API key of a role, as an admin would."""
    return lambda role: _api_key(runtime, role)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """A client that calls as an admin (through an API key)."""
    with TestClient(
        create_app(runtime, run_pipeline=False),
        headers={"Authorization": f"Bearer {_api_key(runtime)}"},
    ) as c:
        yield c


@pytest.fixture
def anonymous(runtime: Runtime) -> Iterator[TestClient]:
    """A client without any credential."""
    with TestClient(create_app(runtime, run_pipeline=False)) as c:
        yield c


@pytest.fixture(scope="session")
def trained() -> tuple[GraphSageDetector, FitReport]:
    """A small GraphSAGE trained once for every API test that needs a served model."""
    data = sim_windows(40, 1, incidents=12)
    detector = GraphSageDetector(epochs=40)
    return detector, detector.fit(data.windows, data.labels)


@pytest.fixture
def served(runtime: Runtime, trained: tuple[GraphSageDetector, FitReport]) -> Runtime:
    """The runtime with that model registered in its data folder."""
    detector, report = trained
    ModelRegistry(runtime.settings.data_dir / "models").save(
        detector, report, data={"source": "test"}, metrics={"held_out": {"f1": 0.9}}
    )
    runtime.settings.gnn.explain_epochs = 30
    runtime.settings.gnn.shap_samples = 32
    return runtime
