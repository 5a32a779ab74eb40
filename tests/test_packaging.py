"""What pyproject.toml and the lock promise: `all` is every extra, the optional packages the
code names belong to those extras, the gates are pinned, and the lock holds PyTorch's CPU
build only."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from opsgraph.core.extras import EXTRA_OF

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]
FEATURES = ("postgres", "aws", "parquet", "replicas", "gnn")


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()


def test_all_is_every_feature_extra() -> None:
    union = {r for extra in FEATURES for r in EXTRAS[extra]}
    assert set(EXTRAS["all"]) == union


def test_every_optional_package_belongs_to_its_extra() -> None:
    distributions = {"torch_geometric": "torch-geometric", "botocore": "boto3"}
    for module, extra in EXTRA_OF.items():
        assert extra in FEATURES
        names = {_name(r) for r in EXTRAS[extra]}
        assert distributions.get(module, module).replace("_", "-") in names, (module, extra)
    core = {_name(r) for r in PROJECT["dependencies"]}
    assert not core & {_name(r) for extra in FEATURES for r in EXTRAS[extra]}


def test_ranges_have_upper_bounds_and_gates_are_pinned() -> None:
    for requirement in [*PROJECT["dependencies"], *EXTRAS["all"]]:
        assert "<" in requirement, requirement
    gates = {_name(r): r for r in EXTRAS["test"]}
    for tool in ("ruff", "mypy", "import-linter"):
        assert "==" in gates[tool], gates[tool]


def test_the_lock_pins_torch_cpu_build_and_no_cuda() -> None:
    lock = (ROOT / "requirements" / "lock.txt").read_text()
    assert re.search(r"^torch==[\d.]+\+cpu$", lock, re.M)
    assert not re.search(r"^nvidia-", lock, re.M)
    pinned = {line.split("==")[0] for line in lock.splitlines() if "==" in line}
    for requirement in [*PROJECT["dependencies"], *EXTRAS["all"], *EXTRAS["test"]]:
        assert _name(requirement) in pinned, requirement
