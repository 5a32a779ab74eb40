"""`opsgraph ingest replay`: send a file of samples to a running opsgraph, batch by batch, at a
chosen speed (POST /resources for the resources it does not know, then POST /ingest/samples).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from opsgraph.cli.common import UrlOpt, answer, console, fail
from opsgraph.core.errors import InvalidInputError

if TYPE_CHECKING:
    import httpx

ingest_app = typer.Typer(help="Feed data into a running opsgraph.", no_args_is_help=True)


def open_client(url: str, headers: dict[str, str]) -> httpx.Client:
    """The HTTP client the commands use (tests put an in-process app behind it)."""
    import httpx

    return httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=30.0)


def _call(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One request; a refusal or an unreachable server exits 2, as `call_api` does."""
    import httpx

    try:
        response = client.request(method, path, json=body)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {client.base_url}: {exc} (is `opsgraph serve` running?)")
    return answer(response, f"{path}: ")


@ingest_app.command("replay")
def replay(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet (.parquet) or JSON lines (.jsonl).")],
    speed: Annotated[
        str, typer.Option(help="Data seconds per real second; 'max' or 0: no pause.")
    ] = "max",
    resource: Annotated[
        str | None,
        typer.Option(help="Resource of a wide file's columns (timestamp + one per signal)."),
    ] = None,
    url: UrlOpt = "",
    api_key: Annotated[
        str | None,
        typer.Option(envvar="OPSGRAPH_API_KEY", help="Sent as 'Authorization: Bearer KEY'."),
    ] = None,
    batch: Annotated[
        int, typer.Option(min=1, max=100_000, help="Samples per request at most.")
    ] = 5000,
    at_now: Annotated[
        bool,
        typer.Option(
            "--at-now",
            help="Shift the file's times so that its last sample lands now (the server refuses "
            "samples older than api.max_sample_age_s, 31 days by default).",
        ),
    ] = False,
) -> None:
    """Replay a file of samples into a running opsgraph, in time order.

    Wide files have a timestamp column and one column per signal of one resource (--resource);
    long files have timestamp, resource_id, metric and value columns. Times are sent as they
    are, unless --at-now shifts them to end at the moment the replay starts."""
    from rich.progress import Progress

    from opsgraph.sources.replay import ReplaySource

    try:
        source = ReplaySource(file, speed=speed, resource_id=resource, batch_size=batch)
        source.load()
    except InvalidInputError as exc:
        options = {"resource_id": "--resource", "speed": "--speed", "batch_size": "--batch"}
        fail(f"{options[exc.field]}: {exc.reason}" if exc.field in options else str(exc))
    last = source.last_ts
    shift = float(int(time.time()) - last) if at_now and last is not None else 0.0
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    sent = batches = 0
    anomalies: list[int] = []
    with open_client(url, headers) as client:
        known = {r["id"] for r in _call(client, "GET", "/resources")}
        new = [r.model_dump(mode="json") for r in source.resources if r.id not in known]
        if new:
            _call(client, "POST", "/resources", {"resources": new})
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"replaying {file.name}", total=source.total)
            while True:
                started = time.monotonic()
                out = source.poll()
                if out.samples:
                    body = {
                        "samples": [
                            s.model_dump(mode="json") | {"ts": s.ts + shift} for s in out.samples
                        ]
                    }
                    answer = _call(client, "POST", "/ingest/samples", body)
                    anomalies += [a["id"] for a in answer.get("anomalies", [])]
                    sent += len(out.samples)
                    batches += 1
                    progress.advance(task, len(out.samples))
                if out.done:
                    break
                time.sleep(max(source.interval_s - (time.monotonic() - started), 0.0))
    console.print(
        f"replayed {sent} samples of {file.name} in {batches} batches "
        f"({len(new)} new resources, {len(anomalies)} anomalies opened)"
    )
