"""Access levels (docs/design.md, Access levels). Each level includes every level before it."""

from __future__ import annotations

LEVELS: tuple[str, ...] = ("list", "read", "write", "delete")
_RANK = {name: i for i, name in enumerate(LEVELS)}


def rank(level: str) -> int:
    return _RANK[level]


def covers(granted: str, wanted: str) -> bool:
    """True when a grant at ``granted`` allows a request at ``wanted``."""
    return _RANK[granted] >= _RANK[wanted]


# The access level an object-level HTTP method needs (signed URLs).
METHOD_ACCESS = {"GET": "read", "HEAD": "read", "PUT": "write", "DELETE": "delete"}
