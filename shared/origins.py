"""Web origins (``scheme://host[:port]``) as a Content-Security-Policy names them (docs/design.md,
Self-service page): only plain DNS names and IPv4 addresses, so an origin taken from the
configuration means itself and nothing more inside a policy."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}\.)*{_LABEL}\Z")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def web_origin(url: str) -> str | None:
    """The origin of an http(s) URL, lower-case and without a default port; None when the URL is not
    http(s) or its host is not a plain DNS name or IPv4 address."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in _DEFAULT_PORTS or not host or not _HOST.match(host):
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    suffix = f":{port}" if port is not None and port != _DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host.lower()}{suffix}"


__all__ = ["web_origin"]
