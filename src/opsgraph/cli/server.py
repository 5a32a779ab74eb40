"""The server behind `opsgraph demo` and `opsgraph serve`: the runtime, its API and console under
uvicorn, stopped gracefully by Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator
from typing import Any

import uvicorn
from rich.progress import Progress

from opsgraph import __version__
from opsgraph.cli.common import console, fail
from opsgraph.core.errors import OpsgraphError
from opsgraph.runtime.running import RunningDemo, mark, unmark
from opsgraph.runtime.settings import ApiSettings, Settings


class _Server(uvicorn.Server):
    """uvicorn's server without its signal capture, which re-raises Ctrl-C after shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror} (choose another with --port)")


def server_config(app_: Any, api: ApiSettings) -> uvicorn.Config:
    """uvicorn's settings for the API. Forwarded headers are believed only from the proxies
    the operator names (`api.trusted_proxies`): otherwise any client could choose the address
    that login throttling counts it under."""
    proxies = ",".join(api.trusted_proxies)
    return uvicorn.Config(
        app_,
        host=api.host,
        port=api.port,
        log_level="warning",
        lifespan="on",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )


def run_server(settings: Settings, *, demo: bool) -> None:
    """Start the runtime (and the simulated estate's history), then serve the API and console
    until Ctrl-C or SIGTERM."""
    from opsgraph.api import create_app
    from opsgraph.runtime.root import Runtime

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    api = settings.api
    _check_port_free(api.host, api.port)
    try:
        runtime = Runtime(settings, demo=demo)
        if settings.sim.enabled:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("simulating history", total=settings.sim.preroll_steps)
                runtime.simulation.start(lambda done, total: progress.update(task, completed=done))
    except OpsgraphError as exc:
        fail(str(exc))
    app_ = create_app(runtime)
    url = f"http://{api.host}:{api.port}"
    server = _Server(server_config(app_, api))
    console.print(
        f"[bold green]opsgraph {__version__}[/] serving {len(runtime.estate.resources)} resources "
        f"({runtime.store.dialect})"
    )
    # Plain lines, never wrapped: people and scripts copy the address from here.
    print(f"dashboard and API: {url}  (API docs: {url}/docs)")
    if settings.automation.policy_dir is not None:
        print(f"remediation policies: {settings.automation.policy_dir}  (see /automation.html)")
    if runtime.admin_password is not None:
        # Shown once: the account was created by this start (set auth.admin_password to choose).
        print(f"log in as: admin / {runtime.admin_password}")
    elif not settings.auth.enabled:
        print("auth is off (auth.enabled: false): anyone who reaches this address is admin")
    print("Press Ctrl-C to stop.")
    sys.stdout.flush()
    # Ctrl-C and SIGTERM both shut down gracefully and exit 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, server.handle_exit)
    if demo:  # `keys create --demo`, `policy list` beside it find this demo's store and policies
        policies = settings.automation.policy_dir
        mark(
            settings.data_dir,
            RunningDemo(os.getpid(), runtime.store_url, url, str(policies) if policies else None),
        )
    try:
        server.run()
    finally:
        if demo:
            unmark(settings.data_dir)
        runtime.close()
    print("stopped")
