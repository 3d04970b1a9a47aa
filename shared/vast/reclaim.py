"""The sweep of one ``vast-s3`` store: take back expired keys, settle stale PENDING records, retry
failed deletes (docs/vast.md, The sweep).

Guarantees (docs/vast.md):
- idempotent and safe to run concurrently: each record is claimed with a conditional write
  before its VMS call, so overlapping sweeps delete each key once;
- nothing is dropped before VMS confirms: a failed delete keeps its record (REVOKING, attempts,
  next attempt with backoff); a 404 counts as deleted;
- bounded: stops taking new records when ``budget_seconds`` (less ``reserve_seconds``, the
  longest one record can take, so the run ends inside its budget) is spent, or after a run of
  consecutive VMS failures (VMS is down: the rest waits for the next run); what it did not reach
  is simply still due, so the next run resumes;
- memory is bounded by one page of records (streamed from the ledger's due index);
- one audit record per key touched, and a summary of counts.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from .. import audit
from ..clock import iso
from ..identity.principal import Principal
from ..ledger import ACTIVE, PENDING, REVOKING, KeyRecord, LedgerUnavailable, StaleRecord
from .lifecycle import AMBIGUOUS, FAILED_NOW, RECONCILED, REVOKED_NOW, SKIPPED, STILL_PENDING, KeyLifecycle, Outcome
from .mapping import VastUser

log = logging.getLogger("tvs.vast.sweep")


@dataclass(frozen=True)
class ReclaimSettings:
    page_size: int = 100
    concurrency: int = 4
    breaker: int = 5  # consecutive VMS failures after which this run stops calling VMS
    purge_batch: int = 100
    reserve_seconds: float = 0.0  # the longest one record takes: no new record is taken this close to the end


class _Run:
    """Shared state of one sweep run across its worker threads."""

    def __init__(self, deadline: float, breaker: int):
        self.deadline, self.breaker = deadline, breaker
        self.counts = {"revoked": 0, "failed": 0, "reconciled": 0}
        self.failures_in_a_row = 0
        self.stopped = False
        self.lock = threading.Lock()

    def open(self) -> bool:
        with self.lock:
            if not self.stopped and (time.monotonic() >= self.deadline or self.failures_in_a_row >= self.breaker):
                self.stopped = True
            return not self.stopped

    def add(self, tags) -> None:
        with self.lock:
            for tag, name in (
                (REVOKED_NOW, "revoked"),
                (FAILED_NOW, "failed"),
                (AMBIGUOUS, "failed"),
                (RECONCILED, "reconciled"),
            ):
                if tag in tags:
                    self.counts[name] += 1
            if FAILED_NOW in tags:
                self.failures_in_a_row += 1
            elif REVOKED_NOW in tags or RECONCILED in tags:
                self.failures_in_a_row = 0


def reclaim_store(
    lifecycle: KeyLifecycle, budget_seconds: float, settings: ReclaimSettings = ReclaimSettings()
) -> dict:
    """One bounded, resumable pass over the store's due records; returns
    ``{"revoked", "failed", "reconciled", "remaining"}`` (remaining: still due when it stopped early),
    plus ``"error": "ledger-unavailable"`` when the ledger failed mid-way."""
    budget = max(0.0, budget_seconds)
    run = _Run(time.monotonic() + budget - min(settings.reserve_seconds, budget / 2), settings.breaker)
    now = lifecycle.now()
    ledger = lifecycle.ledger
    try:
        ledger.purge(now, settings.purge_batch)
        cursor = None
        with ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="vast-sweep") as pool:
            while run.open():
                page, cursor = ledger.due(now, settings.page_size, cursor)
                for _ in pool.map(lambda rec: run.add(_process(lifecycle, run, rec)), page):
                    pass  # workers count as they go, so the breaker sees failures at once
                if cursor is None:  # an empty page with a cursor is possible (Table Storage scans): go on
                    break
        remaining = ledger.count_due(now) if run.stopped else 0
    except LedgerUnavailable as exc:
        # Nothing is lost (every record stays due), but say so loudly: this run did not finish.
        log.error("store %s: sweep stopped, %s", lifecycle.store_id, exc)
        return {**run.counts, "remaining": 0, "error": "ledger-unavailable"}
    return {**run.counts, "remaining": remaining}


def _process(lifecycle: KeyLifecycle, run: _Run, record: KeyRecord) -> frozenset[str]:
    if not run.open():
        return frozenset({SKIPPED})
    try:
        if record.state == PENDING:
            outcome = lifecycle.reconcile(record, final=True)
        elif record.state in (ACTIVE, REVOKING):
            outcome = lifecycle.revoke(record, "expired")
        else:  # a lagging index showed a record that is already terminal
            return frozenset({SKIPPED})
    except StaleRecord:
        return frozenset({SKIPPED})  # another sweep or a request holds it
    except LedgerUnavailable as exc:
        log.warning("store %s: ledger error on one record (%s)", lifecycle.store_id, exc)
        return frozenset({FAILED_NOW})
    except Exception as exc:  # a bug on one record must not stop the run (the record stays due)
        log.error(
            "store %s: record %s could not be processed (%s)",
            lifecycle.store_id,
            record.credential_id,
            type(exc).__name__,
        )
        return frozenset({FAILED_NOW})
    _audit(outcome)
    return outcome.tags


def _audit(outcome: Outcome) -> None:
    """One audit record per key the sweep acted on."""
    if REVOKED_NOW in outcome:
        event = "reconciled-revoked" if RECONCILED in outcome else "revoked"
    elif RECONCILED in outcome:
        event = "reconciled-no-key"
    elif AMBIGUOUS in outcome:
        event = "ambiguous"
    elif STILL_PENDING in outcome:
        event = "deferred"
    else:
        event = "failed"
    rec = outcome.record
    issuer, _, subject = rec.owner.partition("|")
    audit.record(
        "sweep",
        event,
        principal=Principal(issuer_name="", issuer=issuer, subject=subject),
        store=rec.store,
        provider="vast-s3",
        scope={"vast_user": VastUser.from_ref(rec.holder).key},
        credential_id=rec.credential_id,
        reason=rec.last_error if event in ("failed", "ambiguous") else rec.reason,
        count=rec.attempts,
        expires_at=iso(datetime.fromtimestamp(rec.expires_at, UTC)),
    )
