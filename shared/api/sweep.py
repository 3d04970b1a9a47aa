"""The scheduled sweep: every revocable store's expired credentials are taken back.

Stores whose vendor is not revocable have nothing to sweep. The summary counts what happened.
"""
from __future__ import annotations

import time

from .. import audit


def run_sweep(service, budget_seconds: float) -> dict:
    deadline = time.monotonic() + budget_seconds
    summary: dict = {"stores": 0, "revoked": 0, "failed": 0, "reconciled": 0, "remaining": 0, "errors": []}
    for store_id in service.config.stores:
        vendor = service.vendor(store_id)
        if not vendor.revocable:
            continue
        summary["stores"] += 1
        left = deadline - time.monotonic()
        if left <= 0:
            summary["remaining"] += 1
            continue
        result = vendor.sweep(left)
        for k in ("revoked", "failed", "reconciled", "remaining"):
            summary[k] += result.get(k, 0)
        if result.get("error"):
            # A store that could not be swept at all (its ledger or VMS unreachable) must not look like a quiet run.
            summary["errors"].append({"store": store_id, "error": result["error"]})
    audit.record("sweep", "failed" if summary["errors"] else "done", count=summary["revoked"], reason=str(summary))
    return summary
