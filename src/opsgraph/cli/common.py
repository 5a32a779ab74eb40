"""What the command-line modules share: consoles, the exit-2 error, and calls to a running API."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    import httpx

    from opsgraph.store import Store

console = Console()
err = Console(stderr=True)

DEFAULT_URL = "http://127.0.0.1:8000"


def server_url(value: str | None = None) -> str:
    """Where the running server is: --url, else $OPSGRAPH_URL, else the configured api.host and
    api.port (so OPSGRAPH_API__PORT or a config file's port is honoured)."""
    if value:
        return value
    env = os.environ.get("OPSGRAPH_URL", "").strip()
    if env:
        return env
    from opsgraph.runtime.settings import load_settings

    try:
        api = load_settings().api
    except Exception:  # a broken config is reported by the commands that read it
        return DEFAULT_URL
    host = "127.0.0.1" if api.host in ("0.0.0.0", "::", "") else api.host
    return f"http://{f'[{host}]' if ':' in host else host}:{api.port}"


#: The --url option of the commands that call a running server.
UrlOpt = Annotated[
    str,
    typer.Option(
        "--url",
        callback=server_url,
        show_default=False,
        help="Base URL of the running opsgraph API (default: $OPSGRAPH_URL, else the "
        "configured api.host and api.port).",
    ),
]


def fail(message: str) -> NoReturn:
    """Print the problem and exit with code 2 (bad input or an unusable setting)."""
    report(message)
    raise typer.Exit(2)


def report(message: str) -> None:
    """Print a problem on stderr: unwrapped, and with its own brackets kept (they are text,
    such as `pip install 'opsgraph[gnn]'`, not markup)."""
    err.print(
        f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True
    )


def existing_store(url: str) -> Store:
    """The store at `url` for reading, never created: a SQLite file that does not exist, or a
    database without opsgraph's tables, exits 2 naming it (and leaves no file behind)."""
    from pathlib import Path

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from opsgraph.store import Store

    try:
        parsed = make_url(url)
    except ArgumentError:
        fail(f"{url!r} is not a database URL (sqlite:///file.db or postgresql+psycopg://…)")
    hint = "start `opsgraph serve` once or run `opsgraph db upgrade`, or name another store"
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:") or not Path(path).is_file():
            fail(f"no opsgraph database at {path or url}: {hint}")
    store = Store(url)
    if not store.has_schema():
        store.close()
        fail(
            f"the database at {parsed.render_as_string(hide_password=True)} has no opsgraph "
            f"tables: {hint}"
        )
    return store


def api_headers() -> dict[str, str]:
    """The credential for a running opsgraph: $OPSGRAPH_API_KEY (make one with
    `opsgraph keys create`)."""
    key = os.environ.get("OPSGRAPH_API_KEY", "").strip()
    return {"Authorization": f"Bearer {key}"} if key else {}


def call_api(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """One request to a running opsgraph; a refusal or an unreachable server exits 2."""
    import httpx

    try:
        response = httpx.request(method, url, json=body, timeout=10.0, headers=api_headers())
    except httpx.HTTPError as exc:
        fail(f"cannot reach {url}: {exc} (is `opsgraph demo` or `opsgraph serve` running?)")
    return answer(response)


def answer(response: httpx.Response, where: str = "") -> Any:
    """The JSON of a successful answer; a refusal exits 2 with the API's own message."""
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        if response.status_code == 401:
            detail += (
                " (send an API key: set OPSGRAPH_API_KEY, or --api-key where the command has"
                " it; `opsgraph keys create` makes one)"
            )
        fail(f"{where}{response.status_code}: {detail}")
    return response.json() if response.content else None
