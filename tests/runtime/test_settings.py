"""Configuration: defaults with no file, YAML file, environment over file, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsgraph.core.errors import ConfigError
from opsgraph.runtime.settings import load_settings, settings_as_yaml


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("OPSGRAPH_CONFIG", "OPSGRAPH_API__PORT", "OPSGRAPH_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_work_with_no_file() -> None:
    s = load_settings()
    assert s.api.port == 8000 and s.sim.resources == 50
    assert s.store_url.startswith("sqlite:///") and s.store_url.endswith("opsgraph.db")
    assert "effective_url" in settings_as_yaml(s)


def test_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "opsgraph.yaml"
    cfg.write_text("api:\n  port: 9100\nsim:\n  resources: 200\n")
    s = load_settings()  # found in the working directory
    assert s.api.port == 9100 and s.sim.resources == 200
    monkeypatch.setenv("OPSGRAPH_API__PORT", "9200")
    s = load_settings(cfg)
    assert s.api.port == 9200 and s.sim.resources == 200


def test_bad_values_name_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("sim:\n  resources: 5\n")
    with pytest.raises(ConfigError, match=r"sim\.resources"):
        load_settings(cfg)
    cfg.write_text("apii:\n  port: 1\n")
    with pytest.raises(ConfigError, match="apii"):
        load_settings(cfg)
    cfg.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(cfg)
    cfg.write_text("api: [unclosed\n")
    with pytest.raises(ConfigError, match="YAML"):
        load_settings(cfg)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.yaml")
