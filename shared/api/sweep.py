"""The scheduled sweep: every revocable store's expired credentials are taken back.

Stores whose vendor is not revocable have nothing to sweep. The summary counts what happened.
"""
from __future__ import annotations

import time

from .. import audit


def run_sweep(service, budget_seconds: float) -> dict:
    deadline = time.monotonic() + budget_seconds
    summary = {"stores": 0, "revoked": 0, "failed": 0, "reconciled": 0, "remaining": 0}
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
    audit.record("sweep", "done", count=summary["revoked"], reason=str(summary))
    return summary
