"""The multivariate resource model: calibration on healthy rows, batch independence, Shapley
attribution, refused input, its registry family, and training data from a CSV or the store."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from opsgraph.core.errors import ConflictError, InvalidInputError, NotFoundError
from opsgraph.core.metrics import SIGNALS
from opsgraph.models.gnn.registry import ModelRegistry as GraphRegistry
from opsgraph.models.registry import ModelRegistry
from opsgraph.models.resource_model import (
    MIN_ROWS,
    ResourceModel,
    ResourceModelRegistry,
    fit_and_register,
)
from opsgraph.runtime.resource_models import ResourceModels, history_from_csv, history_from_store
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings
from opsgraph.sim import FaultKind

FEATURES = ["cpu", "memory", "latency_ms"]


def _healthy(n: int = 600, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    load = rng.normal(size=n)
    # Latency follows CPU: a row where it does not is anomalous although each value is common.
    return np.column_stack(
        [50 + 10 * load, 60 + rng.normal(size=n), 100 + 30 * load + 3 * rng.normal(size=n)]
    )


@pytest.fixture(scope="module")
def model() -> ResourceModel:
    return ResourceModel("ensemble").fit(_healthy(), FEATURES)


def test_healthy_rows_score_zero_and_broken_ones_alarm(model: ResourceModel) -> None:
    scores, shares, methods = model.score(_healthy(300, seed=1))
    assert np.mean(scores >= model.threshold) < 0.05 and np.median(scores) == 0.0
    assert methods[int(np.argmin(scores))] == "deviation"
    sick = np.array([[50.0, 60.0, 400.0], [95.0, 60.0, 100.0], [50.0, 90.0, 100.0]])
    scores, shares, methods = model.score(sick)
    assert np.all(scores >= model.threshold) and np.all(scores <= 1.0)
    assert methods == ["shapley"] * 3
    assert [FEATURES[int(j)] for j in shares.argmax(axis=1)] == ["latency_ms", "cpu", "memory"]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)


def test_a_broken_correlation_is_found(model: ResourceModel) -> None:
    # High CPU with low latency: each value alone is within the healthy range.
    scores, shares, _ = model.score(np.array([[70.0, 60.0, 40.0], [70.0, 60.0, 160.0]]))
    assert scores[0] >= model.threshold > scores[1]
    assert shares[0, 1] < 0.1  # memory played no part


def test_a_row_scores_the_same_alone_or_in_any_batch(model: ResourceModel) -> None:
    rows = np.vstack([_healthy(50, seed=2), [[95.0, 60.0, 100.0]]])
    together, shares, _ = model.score(rows)
    shuffled = np.random.default_rng(3).permutation(len(rows))
    again, shares_again, _ = model.score(rows[shuffled])
    np.testing.assert_array_equal(again, together[shuffled])
    np.testing.assert_array_equal(shares_again, shares[shuffled])
    alone, _, _ = model.score(rows[-1:])
    assert alone[0] == together[-1]
    assert model.score(np.zeros((0, 3)))[0].shape == (0,)


def test_pickles_and_refuses_bad_training_input(model: ResourceModel) -> None:
    twin = pickle.loads(pickle.dumps(model))
    probe = np.array([[95.0, 60.0, 100.0]])
    assert twin.score(probe)[0][0] == model.score(probe)[0][0]
    with pytest.raises(InvalidInputError, match="at least 100"):
        ResourceModel("lof").fit(_healthy(MIN_ROWS - 1), FEATURES)
    with pytest.raises(InvalidInputError, match="not a valid metric name"):
        ResourceModel("lof").fit(_healthy(), ["cpu", "mem ory", "x"])
    with pytest.raises(InvalidInputError, match="twice"):
        ResourceModel("lof").fit(_healthy(), ["cpu", "cpu", "x"])
    with pytest.raises(InvalidInputError, match="detector"):
        ResourceModel("oracle")
    with pytest.raises(InvalidInputError, match="threshold"):
        ResourceModel("lof", threshold=0.0)
    with pytest.raises(ValueError, match="3 features"):
        model.score(np.zeros((2, 4)))


def test_the_registry_keeps_families_apart(tmp_path: Path) -> None:
    registry = ResourceModelRegistry(tmp_path)
    with pytest.raises(NotFoundError):
        registry.load()
    first = fit_and_register(registry, _healthy(), FEATURES, data={"source": "test"})
    second = fit_and_register(registry, _healthy(), FEATURES, data={}, detector="ecod")
    assert (first.version, second.version, second.detector) == (1, 2, "ecod")
    assert first.data["features"] == FEATURES and first.metrics["training"]["rows"] == 600
    loaded, info = registry.load()
    assert info.version == 2 and loaded.detector == "ecod"
    assert registry.load(1)[0].detector == "ensemble"
    # The graph family and the all-families view.
    assert (
        GraphRegistry(tmp_path).list() == [] and GraphRegistry(tmp_path).latest_version("x") is None
    )
    assert [m.family for m in ModelRegistry(tmp_path).list()] == ["multivariate"] * 2
    with pytest.raises(TypeError, match="family"):
        ModelRegistry(tmp_path).register(
            "x", lambda *_: None, detector="x", threshold=1, data={}, config={}, metrics={},
            training={},
        )  # fmt: skip
    with pytest.raises(RuntimeError, match="fit"):
        registry.save(ResourceModel(), data={}, metrics={}, training={})
    assert len(list((tmp_path / "multivariate").iterdir())) == 2  # nothing half-written


def test_history_from_csv_wide_and_long(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text("time,cpu,memory,is_anomaly\n0,1,2,0\n60,,3,0\n120,4,5,1\n")
    X, features, info = history_from_csv(wide)
    assert features == ["cpu", "memory"] and X.tolist() == [[1, 2], [4, 5]]
    assert info["layout"] == "wide" and info["ignored_columns"] == ["is_anomaly"]
    long = tmp_path / "long.csv"
    long.write_text(
        "resource_id,metric,timestamp,value\n"
        "a,disk,0,1\na,cpu,0,2\nb,cpu,0,3\nb,disk,0,4\nb,cpu,60,5\nc,cpu,0,6\n"
    )
    X, features, info = history_from_csv(long)
    assert features == ["cpu", "disk"] and X.tolist() == [[2, 1], [3, 4]]
    assert info["resources"] == 2  # c has no disk; b's second row has a gap


def test_history_from_the_store_leaves_out_anomalous_rows(tmp_path: Path) -> None:
    # 60 steps of pre-roll: the live default's tails judge from a series' 50th point.
    settings = Settings(data_dir=tmp_path, sim={"resources": 10, "seed": 5, "preroll_steps": 60})
    runtime = Runtime(settings, demo=True)
    # A fixed start: the estate's daily cycle, and so any chance anomaly in the pre-roll,
    # depends on the time of day it starts at.
    runtime.simulation.start(start_ts=1_750_000_000.0)
    try:
        clean, info = history_from_store(runtime.store)
        assert clean.shape[1] == len(SIGNALS) and info["resources"] == 10
        assert 550 <= clean.shape[0] <= 600  # 60 steps x 10 resources, less any anomaly
        sim = runtime.simulation.require()
        for node in sim.resource_ids:
            try:
                runtime.simulation.inject_fault(FaultKind.CPU_HOG, node)
                break
            except InvalidInputError:
                continue
        for _ in range(15):
            runtime.simulation.step()
        anomalies, _ = runtime.store.list_anomalies(limit=1000)
        X, info = history_from_store(runtime.store)
        assert anomalies and X.shape[0] < clean.shape[0] + 150  # the episodes' rows are left out
        assert history_from_store(runtime.store, max_rows=100)[0].shape[0] <= 100
    finally:
        runtime.close()


def test_serving_bootstraps_once_and_refuses_when_it_cannot(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sim={"resources": 10, "seed": 5, "preroll_steps": 12})
    runtime = Runtime(settings, demo=True)
    runtime.simulation.start()
    try:
        off = ResourceModels(tmp_path / "off", runtime.store, bootstrap=False)
        with pytest.raises(ConflictError, match="opsgraph train multivariate"):
            off.get()
        served = ResourceModels(tmp_path / "on", runtime.store, detector="ecod")
        assert served.status()["version"] is None
        model, info = served.get()
        assert info.version == 1 and info.data["bootstrap"] and model.features == list(SIGNALS)
        assert served.get()[1].version == 1 and served.status()["detector"] == "ecod"
        assert len(served.info()) == 1
        young = Settings(data_dir=tmp_path / "y", sim={"resources": 10, "preroll_steps": 3})
        small = Runtime(young, demo=True)
        small.simulation.start()
        try:
            refused = ResourceModels(tmp_path / "y" / "models", small.store)
            with pytest.raises(ConflictError, match="holds 30 complete healthy rows"):
                refused.get()
            for _ in range(10):
                small.simulation.step()
            # The refusal is remembered for a while: the store is not read on every request.
            with pytest.raises(ConflictError, match="holds 30 complete"):
                refused.get()
        finally:
            small.close()
    finally:
        runtime.close()


def test_concurrent_first_requests_share_one_bootstrap(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sim={"resources": 10, "seed": 5, "preroll_steps": 12})
    runtime = Runtime(settings, demo=True)
    runtime.simulation.start()
    try:
        served = ResourceModels(tmp_path / "models", runtime.store, detector="lof")
        with ThreadPoolExecutor(max_workers=4) as pool:
            versions = list(pool.map(lambda _: served.get()[1].version, range(4)))
        assert versions == [1, 1, 1, 1] and len(served.info()) == 1
    finally:
        runtime.close()
