"""One structured JSON line per decision (docs/design.md, Audit) on the ``tvs.audit`` logger.

Records are assembled from an allow-list of fields: a token, secret, session token or signature
has no field to go in.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from .identity.principal import Principal

log = logging.getLogger("tvs.audit")
FIELDS = (
    "event",
    "outcome",
    "reason",
    "status",
    "request_id",
    "route",
    "store",
    "provider",
    "scope",
    "access",
    "ttl_seconds",
    "expires_at",
    "credential_id",
    "cached",
    "format",
    "method",
    "count",
    "commit_id",
)


def record(event: str, outcome: str, *, principal: Principal | None = None, **fields: Any) -> dict:
    """Emit and return one audit record. Unknown field names are a programming error."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not an audit field: {sorted(unknown)}")
    entry: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "event": event,
        "outcome": outcome,
    }
    if principal is not None:
        entry["principal"] = principal.audit_fields()
    entry.update({k: v for k, v in fields.items() if v is not None})
    log.info(json.dumps(entry, default=str, separators=(",", ":")))
    return entry
