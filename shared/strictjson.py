"""JSON read strictly: no duplicate member names, no NaN or Infinity.

With duplicates a JSON parser keeps the last value, so a gateway policy that reads the first and
this service that reads the last would see two different requests (docs/design.md, Request path).
"""

from __future__ import annotations

import json
from typing import Any


class DuplicateMember(ValueError):
    """An object names the same member twice."""


def loads(text: str | bytes) -> Any:
    """Parse ``text`` (bytes must be UTF-8); ValueError (or UnicodeDecodeError) when it is not strict JSON."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateMember(f"the member '{key[:64]}' appears twice")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


__all__ = ["DuplicateMember", "loads"]
