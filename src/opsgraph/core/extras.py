"""Optional dependencies: which extra brings which package, and the clear error a feature
raises when its extra is missing (instead of an ImportError traceback).

The core (`pip install opsgraph`) runs metrics -> detection -> incidents -> API and console;
extras add PostgreSQL, AWS, Parquet, Redis replicas and the PyTorch models (pyproject.toml).
"""

from __future__ import annotations

import importlib
import importlib.util
from importlib.metadata import EntryPoint
from types import ModuleType
from typing import Any

from opsgraph.core.errors import MissingExtraError

#: The extra that installs each optional top-level package.
EXTRA_OF = {
    "torch": "gnn",
    "torch_geometric": "gnn",
    "shap": "gnn",
    "boto3": "aws",
    "botocore": "aws",
    "pyarrow": "parquet",
    "redis": "replicas",
    "psycopg": "postgres",
}


def available(module: str) -> bool:
    """Whether an optional package can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, feature: str) -> ModuleType:
    """Import an optional package, or raise MissingExtraError naming its extra."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = missing_extra(exc, feature)
        if missing is None:
            raise
        raise missing from exc


def missing_extra(exc: ModuleNotFoundError, feature: str) -> MissingExtraError | None:
    """The MissingExtraError for an ImportError of an optional package, None for any other
    missing module (a real bug, which must surface as it is)."""
    top = (exc.name or "").split(".")[0]
    if top not in EXTRA_OF:
        return None
    return MissingExtraError(feature, EXTRA_OF[top], top)


def load_entry_point(entry: EntryPoint) -> Any:
    """Load a plug-in; one whose optional dependencies are missing raises MissingExtraError."""
    try:
        return entry.load()
    except ModuleNotFoundError as exc:
        feature = f"{entry.group.removeprefix('opsgraph.')} {entry.name!r}"
        missing = missing_extra(exc, feature)
        if missing is None:
            raise
        raise missing from exc
