"""The console's static files, mounted at `/`. An unknown path gets the console's not-found
page when a browser asks for a page (`Accept: text/html`), and the JSON error of every other
API answer otherwise, so scripts and `curl` keep reading `{"detail": ...}`."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from opsgraph.web import STATIC_DIR

NOT_FOUND_PAGE = STATIC_DIR / "not-found.html"


class ConsoleFiles(StaticFiles):
    def __init__(self) -> None:
        super().__init__(directory=STATIC_DIR, html=True)

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            accept = Headers(scope=scope).get("accept", "")
            if exc.status_code == 404 and "text/html" in accept:
                return FileResponse(NOT_FOUND_PAGE, status_code=404, media_type="text/html")
            raise
