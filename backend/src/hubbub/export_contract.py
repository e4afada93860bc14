"""Writes the contract document the UI's types are generated from:

    python -m hubbub.export_contract frontend/src/contract/openapi.json

It is the app's own OpenAPI document (REST, plus the WebSocket frames and close codes as
components), built without starting anything, with keys sorted so the file only changes when
the contract does. It sits beside app.py, above contract/: the contract is what the app is
built from, and needs nothing of it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def document() -> dict[str, Any]:
    from hubbub.app import create_app
    from hubbub.settings import Settings

    with tempfile.TemporaryDirectory() as scratch:  # the app is built, never started
        app = create_app(Settings(data_dir=Path(scratch)))
        return app.openapi()


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python -m hubbub.export_contract OUT.json")
    text = json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    Path(sys.argv[1]).write_text(text)


if __name__ == "__main__":
    main()
