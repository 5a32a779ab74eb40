"""The layout keeps its directions: the import contracts of .importlinter hold, every package
has its place in them, and docs/architecture.md describes the tree as it is."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(
    p.name for p in (ROOT / "src" / "opsgraph").iterdir() if (p / "__init__.py").is_file()
)


def _contracts() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_every_package_has_a_layer() -> None:
    layers = _contracts()["importlinter:contract:pipeline"]["layers"]
    named = set(re.findall(r"opsgraph\.(\w+)", layers))
    # web holds static files only: it imports nothing and only the API serves it.
    assert set(PACKAGES) - named == {"web"}
    assert named <= set(PACKAGES)


def test_the_architecture_doc_describes_every_package() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    described = set(re.findall(r"\*\*`(\w+)/`\*\*", text))
    assert described == set(PACKAGES)
