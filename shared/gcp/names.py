"""Google Cloud Storage naming rules the core's literal-path rules do not already cover (docs/gcs.md).

- Bucket names: 3-63 characters of ``a-z``, ``0-9``, ``-`` and ``_``, starting and ending with a letter
  or digit; with dots, up to 222 characters in dot-separated parts of at most 63; never an IPv4
  address, never starting with ``goog`` nor containing ``google``.
- Object names: at most 1,024 **bytes** of UTF-8 (``shared.paths`` counts characters), and never under
  ``.well-known/acme-challenge/``. Control characters (which XML 1.0 cannot carry, and which the XML
  API would choke on), ``#``, ``?``, ``[``, ``]``, ``*`` and ``%`` are already refused by ``shared.paths``.

Light: no SDK.
"""

from __future__ import annotations

import re

MAX_OBJECT_BYTES = 1024
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]\Z")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}\Z")
RESERVED_PREFIX = ".well-known/acme-challenge/"


def bucket_problem(name: object) -> str | None:
    """Why ``name`` is not a GCS bucket name, or None when it is one."""
    if not isinstance(name, str) or not _BUCKET.match(name):
        return "must be 3-63 characters of a-z, 0-9, '-', '_' (and '.'), starting and ending with a letter or digit"
    parts = name.split(".")
    if any(not p or len(p) > 63 for p in parts) or ("." not in name and len(name) > 63):
        return "dot-separated parts of a bucket name are 1-63 characters (63 in all without dots)"
    if _IPV4.match(name):
        return "a bucket name is never an IP address"
    if name.startswith("goog") or "google" in name:
        return "a bucket name never starts with 'goog' nor contains 'google'"
    return None


def object_problem(path: str) -> str | None:
    """Why ``path`` (an object name or a prefix, already literal) cannot be used on GCS, or None."""
    if len(path.encode("utf-8")) > MAX_OBJECT_BYTES:
        return f"path is longer than {MAX_OBJECT_BYTES} bytes of UTF-8, the most a GCS object name may have"
    if path.startswith(RESERVED_PREFIX):
        return "GCS reserves names under '.well-known/acme-challenge/'"
    return None
