"""The light core: with every optional extra hidden (torch, PyG, shap, boto3, pyarrow, redis,
psycopg), a server still runs metrics -> detection -> incidents -> explanation -> API, and each
feature that needs an extra says which one (HTTP 501, CLI exit 2) instead of an ImportError.

It runs in a child interpreter whose import system refuses those packages, the way a fresh
`pip install opsgraph` lacks them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PROBE = textwrap.dedent(
    """
    import importlib.abc, json, sys
    HIDDEN = {"torch", "torch_geometric", "shap", "boto3", "botocore", "pyarrow", "redis",
              "psycopg"}

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HIDDEN:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Hide())

    from pathlib import Path
    from fastapi.testclient import TestClient
    from opsgraph.api.app import create_app
    from opsgraph.core.errors import MissingExtraError
    from opsgraph.runtime.root import Runtime
    from opsgraph.runtime.settings import Settings
    from opsgraph.sim import FaultKind
    from opsgraph.store import Store

    out = {}
    data = Path(sys.argv[1])
    settings = Settings(
        data_dir=data,
        sim={"resources": 20, "seed": 3, "preroll_steps": 60},
        detect={"window": 30, "min_points": 10},
        auth={"enabled": False},
    )
    runtime = Runtime(settings)
    runtime.simulation.start()
    db = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")
    runtime.simulation.inject_fault(FaultKind.DEPENDENCY_OUTAGE, db, duration_s=3600)
    for _ in range(15):
        runtime.simulation.step()
    with TestClient(create_app(runtime, run_pipeline=False)) as client:
        out["health"] = client.get("/health").status_code
        anomalies = client.get("/anomalies", params={"limit": 500}).json()["items"]
        out["anomalies"] = len(anomalies)
        out["incidents"] = client.get("/incidents").json()["total"]
        explained = client.get(f"/anomalies/{anomalies[0]['id']}/explain")
        out["explain"] = [explained.status_code, explained.json().get("method", "")]
        node = {"id": "a", "features": [1, 2, 3, 0, 5]}
        graph = client.post("/predict/graph", json={"nodes": [node]})
        out["predict_graph"] = [graph.status_code, graph.json()["detail"]]
        info = client.get("/model_info").json()
        out["model_info"] = info["graph_model"]["error"]
    runtime.close()
    try:
        Store("postgresql+psycopg://127.0.0.1/test")
        out["postgres"] = "no error"
    except MissingExtraError as exc:
        out["postgres"] = str(exc)
    import contextlib, io
    from opsgraph.cli.main import main
    for name, argv in {
        "train_gnn": ["train", "gnn", "--epochs", "1", "--incidents", "4",
                      "--models", str(data / "models")],
        "help": ["--help"],
    }.items():
        sys.argv = ["opsgraph", *argv]
        said = io.StringIO()
        try:
            with contextlib.redirect_stderr(said), contextlib.redirect_stdout(io.StringIO()):
                main()
        except SystemExit as exc:
            out[name] = [exc.code, said.getvalue()]
    out["loaded"] = sorted(m for m in sys.modules if m.split(".")[0] in HIDDEN)
    print("PROBE " + json.dumps(out))
    """
)


def test_the_core_runs_without_the_extras_and_names_them(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("PROBE "))
    import json

    out = json.loads(line.removeprefix("PROBE "))
    assert out["health"] == 200
    assert out["anomalies"] > 0 and out["incidents"] > 0
    status, method = out["explain"]
    assert status == 200 and "share of each signal's deviation" in method
    status, detail = out["predict_graph"]
    assert status == 501 and "pip install 'opsgraph[gnn]'" in detail
    assert "'gnn' extra" in out["model_info"]
    assert "pip install 'opsgraph[postgres]'" in out["postgres"]
    code, said = out["train_gnn"]
    assert code == 2 and "pip install 'opsgraph[gnn]'" in said and "Traceback" not in said
    assert out["help"][0] == 0
    assert out["loaded"] == []


def test_no_simulated_graph_model_for_a_real_estate(tmp_path: Path) -> None:
    """The bootstrap trains on the simulator only when the simulator is the source; a real
    estate gets the self-supervised model, trained on its own samples once there are enough,
    and says so meanwhile."""
    from opsgraph.runtime.root import Runtime
    from opsgraph.runtime.settings import Settings

    real = Runtime(Settings(data_dir=tmp_path / "real", sim={"enabled": False}))
    simulated = Runtime(Settings(data_dir=tmp_path / "sim"))
    try:
        assert real.graph_models.name == "graph_deviation"
        real.graph_models.start()
        assert real.graph_models.status()["training"] is False  # nothing recorded: no training
        assert "holds 0.0 h" in real.graph_models.status()["waiting"]
        assert simulated.graph_models.name == "graphsage"
        assert simulated.graph_models.bootstrap is True
    finally:
        real.close()
        simulated.close()
