"""Serves the built React UI: hashed assets cached for a year, and for any other path the
client routes (web/fallbacks.py sends unmatched GETs here), a file of the build or index.html,
so client-side routes survive a reload."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

BUNDLED_UI = Path(__file__).parent / "static"
# Paths that belong to the server: an unknown one under them is a 404, never the SPA.
SERVER_PREFIXES = ("api/", "ws", "items/", "metrics", "healthz", "readyz", "assets/")

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hubbub</title></head>
<body><h1>Hubbub is running</h1><p>The web UI is not built. Run <code>npm run build</code> in
<code>frontend/</code>, or use the Docker image. The WebSocket endpoints work regardless.</p>
</body></html>"""


class ImmutableStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            # Vite puts a content hash in every asset name: a changed file is a new URL.
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


class UI:
    """The built UI in one directory (the package's own copy unless told otherwise)."""

    def __init__(self, directory: Path | None) -> None:
        self.root = (directory or BUNDLED_UI).resolve()
        self.index = self.root / "index.html"

    def mount_assets(self, app: FastAPI) -> None:
        if (self.root / "assets").is_dir():
            app.mount("/assets", ImmutableStaticFiles(directory=self.root / "assets"), name="assets")

    def page(self, path: str) -> Response | None:
        """What a browser gets at the path: a file of the build, else the app's index.html;
        None for the server's own paths (an unknown one there is a plain 404)."""
        if path.startswith(SERVER_PREFIXES):
            return None
        if not self.index.is_file():
            return HTMLResponse(NOT_BUILT)
        if path and (candidate := _file_in(self.root, path)) is not None:
            return FileResponse(candidate, headers={"Cache-Control": "public, max-age=3600"})
        return FileResponse(self.index, headers={"Cache-Control": "no-cache"})


def _file_in(root: Path, path: str) -> Path | None:
    """The file the path names inside root; None for anything else, a name the file system
    refuses (too long, a NUL byte) included."""
    try:
        candidate = (root / path).resolve()
        return candidate if candidate.is_relative_to(root) and candidate.is_file() else None
    except (OSError, ValueError):
        return None
