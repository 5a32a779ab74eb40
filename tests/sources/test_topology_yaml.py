"""Topology from a YAML file: the documented shape, validated whole, reachable from CLI and
configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.cli.main import app
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import DependencyKind, ResourceKind
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings
from opsgraph.sources.topology import YamlTopology, parse_topology

runner = CliRunner()

ESTATE = """
resources:
  - id: shop-lb
    kind: elb
    name: shop load balancer
    region: eu-west-1
    tags: {team: shop}
  - {id: shop-asg, kind: asg}
  - {id: shop-1, kind: ec2}
  - {id: orders-db, kind: rds}
dependencies:
  - {source: shop-lb, target: shop-1}
  - {source: shop-asg, target: shop-1, kind: member}
  - {source: shop-1, target: orders-db}
"""


def _file(tmp_path: Path, text: str = ESTATE) -> Path:
    path = tmp_path / "estate.yaml"
    path.write_text(text)
    return path


def test_a_valid_file() -> None:
    assert YamlTopology.name == "yaml"
    parsed = parse_topology(
        {"resources": [{"id": "a", "kind": "ec2"}, {"id": "b"}], "dependencies": []}
    )
    assert [r.kind for r in parsed.resources] == [ResourceKind.EC2, ResourceKind.GENERIC]
    assert {r.provider for r in parsed.resources} == {"file"}


def test_the_documented_example(tmp_path: Path) -> None:
    topology = YamlTopology(_file(tmp_path)).discover()
    assert [r.id for r in topology.resources] == ["shop-lb", "shop-asg", "shop-1", "orders-db"]
    assert topology.resources[0].tags == {"team": "shop"}
    kinds = [d.kind for d in topology.dependencies]
    assert kinds == [DependencyKind.CALLS, DependencyKind.MEMBER, DependencyKind.CALLS]


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("resources: [\n  {id: a\n", "topology", "not valid YAML at line 3"),
        ("- a\n- b\n", "file", "must be a mapping"),
        ("resources:\n  - {id: a, kind: mainframe}\n", "resources[0].kind", "Input should be"),
        ("resources:\n  - {id: 'a b'}\n", "resources[0].id", "letters, digits"),
        ("resources:\n  - {id: a}\n  - {id: a}\n", "resources[1].id", "appears twice"),
        (
            "resources:\n  - {id: a}\ndependencies:\n  - {source: a, target: z}\n",
            "dependencies[0].target",
            "unknown resource 'z'",
        ),
        (
            "resources:\n  - {id: a}\ndependencies:\n  - {source: a, target: a}\n",
            "dependencies[0]",
            "depends on itself",
        ),
        ("resources:\n  - {id: a, colour: red}\n", "resources[0].colour", "Extra inputs"),
        ("nodes: []\n", "nodes", "Extra inputs"),
    ],
)
def test_bad_files_name_the_entry(tmp_path: Path, text: str, field: str, reason: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        YamlTopology(_file(tmp_path, text)).discover()
    assert caught.value.field == field and reason in caught.value.reason


def test_missing_file() -> None:
    with pytest.raises(InvalidInputError, match="not found"):
        YamlTopology(Path("/nonexistent/estate.yaml")).discover()


def test_the_server_loads_the_configured_file(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, sim={"enabled": False}, topology={"file": _file(tmp_path)}
    )
    rt = Runtime(settings)
    try:
        assert set(rt.estate.resources) == {"shop-lb", "shop-asg", "shop-1", "orders-db"}
        assert len(rt.estate.dependencies) == 3
        assert {n["id"] for n in rt.estate.graph()["nodes"]} == set(rt.estate.resources)
    finally:
        rt.close()


def test_cli_validate_and_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path)
    result = runner.invoke(app, ["topology", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 resources (1 asg, 1 ec2, 1 elb, 1 rds), 3 dependencies (2 calls, 1 member)" in (
        result.output
    )
    bad = _file(tmp_path, "resources:\n  - {id: a}\n  - {id: a}\n")
    result = runner.invoke(app, ["topology", "validate", str(bad)])
    assert result.exit_code == 2 and "resources[1].id" in result.output

    sent: list[object] = []

    def fake(method: str, url: str, body: dict[str, list[object]] | None = None) -> object:
        sent.append((method, url, body))
        assert body is not None
        return {"resources": len(body["resources"]), "dependencies": len(body["dependencies"])}

    monkeypatch.setattr("opsgraph.cli.topology.call_api", fake)
    result = runner.invoke(app, ["topology", "load", str(_file(tmp_path)), "--url", "http://x:1"])
    assert result.exit_code == 0, result.output
    assert "registered 4 resources and 3 dependencies" in result.output
    assert sent[0][0:2] == ("POST", "http://x:1/resources")  # type: ignore[index]
