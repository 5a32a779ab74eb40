"""Where a running `opsgraph demo` keeps its store, its API and its policies, so that commands
run beside it (`keys create --demo`, `policy list`) act on that demo and not on a stale file.

The demo writes `<data_dir>/demo-running.json` (owner-only: the store URL may hold a password)
when it starts and removes it when it stops; a file left by a killed demo is recognised by its
process id and ignored.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

MARKER = "demo-running.json"


@dataclass(frozen=True, slots=True)
class RunningDemo:
    pid: int
    store_url: str
    api_url: str
    policy_dir: str | None


def mark(data_dir: Path, demo: RunningDemo) -> Path:
    path = data_dir / MARKER
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(demo), out)
    return path


def unmark(data_dir: Path) -> None:
    path = data_dir / MARKER
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_demo(data_dir: Path) -> RunningDemo | None:
    """The demo running on this data directory, or None."""
    try:
        data = json.loads((data_dir / MARKER).read_text())
        demo = RunningDemo(
            pid=int(data["pid"]),
            store_url=str(data["store_url"]),
            api_url=str(data["api_url"]),
            policy_dir=data.get("policy_dir"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return demo if _alive(demo.pid) else None
