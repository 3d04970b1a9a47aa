"""The self-service page's files (docs/design.md, Self-service page).

Hand-written HTML, JavaScript, CSS and SVG under ``static/``: no build step, no third-party asset.
Only the files of :data:`ASSETS` are ever served, each with its media type; every one is text, so
the adapters pass it as they pass JSON. Read on first request and kept for the life of the process.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
INDEX = "index.html"
ASSETS: dict[str, str] = {
    INDEX: "text/html; charset=utf-8",
    "page.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml; charset=utf-8",
}


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    content_type: str
    etag: str  # a strong validator: the SHA-256 of the body, quoted


_loaded: dict[str, Asset] = {}
_lock = threading.Lock()


def asset(name: str) -> Asset | None:
    """The page's file ``name``, or None for any name outside the allow-list."""
    content_type = ASSETS.get(name)
    if content_type is None:
        return None
    found = _loaded.get(name)
    if found is None:
        body = (STATIC / name).read_bytes()
        found = Asset(name, body, content_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
        with _lock:
            found = _loaded.setdefault(name, found)
    return found


__all__ = ["ASSETS", "INDEX", "STATIC", "Asset", "asset"]
