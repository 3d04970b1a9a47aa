"""The scheduled sweep across stores: every revocable store takes back what has expired.

Stores whose vendor is not a :class:`~shared.kinds.contract.RevocableVendor` have nothing to
reclaim. The summary counts what happened (docs/design.md, Sweep).
"""

from __future__ import annotations

import time

from .. import audit
from ..kinds.contract import RevocableVendor


def reclaim_expired(service, budget_seconds: float) -> dict:
    deadline = time.monotonic() + budget_seconds
    summary: dict = {"stores": 0, "revoked": 0, "failed": 0, "reconciled": 0, "remaining": 0, "errors": []}
    for store_id in service.config.stores:
        vendor = service.vendor(store_id)
        if not isinstance(vendor, RevocableVendor):
            continue
        summary["stores"] += 1
        left = deadline - time.monotonic()
        if left <= 0:
            summary["remaining"] += 1
            continue
        result = vendor.reclaim_expired(left)
        for k in ("revoked", "failed", "reconciled", "remaining"):
            summary[k] += result.get(k, 0)
        if result.get("error"):
            # A store that could not be swept at all (its ledger or VMS unreachable) must not look like a quiet run.
            summary["errors"].append({"store": store_id, "error": result["error"]})
    audit.record("sweep", "failed" if summary["errors"] else "done", count=summary["revoked"], reason=str(summary))
    return summary
