"""The dashboard: hand-written static HTML, CSS and ES-module JavaScript shipped in the package.

The API mounts `STATIC_DIR` at `/` (with `index.html` as the page); nothing here is built or
fetched at run time.
"""

from __future__ import annotations

from pathlib import Path

#: Folder holding `index.html`, `css/` and `js/`.
STATIC_DIR: Path = Path(__file__).resolve().parent / "static"

__all__ = ["STATIC_DIR"]
