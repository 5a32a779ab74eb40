"""An anomaly's explanation with its progress: the same result as
`GET /anomalies/{id}/explain`, streamed as JSON lines, one per stage as it starts (reading the
samples, ranking root causes, attributing signals with the graph model) and then the result, so
the console can say what it is doing while a graph model works.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from opsgraph.api.deps import RuntimeDep
from opsgraph.api.routes.common import RowId
from opsgraph.core.errors import OpsgraphError

router = APIRouter(prefix="/anomalies", tags=["anomalies"])

#: The longest a stream waits for the explanation before it gives up (the work goes on and
#: its result is cached for the next request).
TIMEOUT_S = 120.0


def _line(payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload, separators=(",", ":")) + "\n").encode()


@router.get(
    "/{anomaly_id}/explain/progress",
    summary="The explanation, streamed with its progress (JSON lines)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def explain_with_progress(anomaly_id: RowId, runtime: RuntimeDep) -> StreamingResponse:
    """Lines of `{"stage", "detail", "elapsed_s"}`: `reading`, `ranking`, `attributing` (only
    with a graph model), then `{"stage": "done", "elapsed_s", "result"}` with what
    `GET /anomalies/{id}/explain` returns, or `{"stage": "error", "status", "detail"}`. An
    unknown anomaly is a 404 before any line."""
    runtime.store.get_anomaly(anomaly_id)  # 404 here, not inside the stream
    lines: queue.Queue[dict[str, Any]] = queue.Queue()
    started = time.monotonic()

    def elapsed() -> float:
        return round(time.monotonic() - started, 3)

    def work() -> None:
        try:
            result = runtime.explanations.explain(
                anomaly_id,
                lambda stage, detail: lines.put(
                    {"stage": stage, "detail": detail, "elapsed_s": elapsed()}
                ),
            )
            lines.put({"stage": "done", "elapsed_s": elapsed(), "result": result})
        except OpsgraphError as exc:
            lines.put({"stage": "error", "status": exc.http_status, "detail": str(exc)})
        except Exception:  # logged by the thread; the stream must still end
            lines.put({"stage": "error", "status": 500, "detail": "internal error"})
            raise

    def stream() -> Iterator[bytes]:
        threading.Thread(target=work, name=f"explain-{anomaly_id}", daemon=True).start()
        while True:
            try:
                item = lines.get(timeout=TIMEOUT_S)
            except queue.Empty:
                yield _line({"stage": "error", "status": 504, "detail": "explanation timed out"})
                return
            yield _line(item)
            if item["stage"] in ("done", "error"):
                return

    return StreamingResponse(
        stream(), media_type="application/x-ndjson", headers={"Cache-Control": "no-store"}
    )
