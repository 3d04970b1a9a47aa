"""The life of one store's VAST keys: issue, revoke, reconcile (docs/vast.md; docs/design.md, Ledger).

Every step writes the ledger before or after the VMS side effect so that a crash at any point
leaves a record the sweep can finish:

- issue: list the user's keys (S0) -> PENDING record holding S0 -> VMS create -> ACTIVE.
- revoke: claim (ACTIVE|REVOKING -> REVOKING with a lease; never a record under someone else's
  unexpired lease) -> VMS delete (404 = done) ->
  REVOKED; a failed delete keeps the record, counts the attempt and sets the next one with
  exponential backoff and jitter.
- reconcile a PENDING record whose create answer was lost: list again (S1); a key in
  S1 - S0 - (keys the ledger knows), created inside the record's time window, is ours; its secret
  was never delivered, so it is revoked at once. Keys in S0 or unknown outside the window are
  never touched: they may be the user's own.

Claims are conditional writes, so two sweeps (or a sweep and a request) never both act on one record.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..errors import Problem, conflict, problem, unavailable
from ..ledger import (
    ACTIVE,
    FAILED,
    PENDING,
    REVOKED,
    REVOKING,
    KeyLedger,
    KeyRecord,
    LedgerUnavailable,
    StaleRecord,
    now_iso,
)
from .mapping import VastUser
from .vms_client import (
    KeyPair,
    VmsAuthError,
    VmsClient,
    VmsError,
    VmsKeyCap,
    VmsNotFound,
    VmsOutcomeUnknown,
    VmsUnavailable,
)

log = logging.getLogger("tvs.vast")

# Outcome tags of one record's processing (the sweep sums them).
REVOKED_NOW, FAILED_NOW, RECONCILED, SKIPPED, STILL_PENDING, AMBIGUOUS = (
    "revoked",
    "failed",
    "reconciled",
    "skipped",
    "pending",
    "ambiguous",
)


@dataclass(frozen=True)
class LifecyclePolicy:
    max_keys_per_user: int = 2
    pending_grace_seconds: int = 120  # a PENDING record older than this is stale: its create is over
    lease_seconds: int = 90  # how long a claim keeps others off a record (longer than any VMS call chain)
    backoff_base_seconds: int = 30
    backoff_max_seconds: int = 3600
    clock_skew_seconds: int = 300  # tolerated difference between our clock and VMS creation times
    create_timeout_seconds: float = 10.0

    def backoff(self, attempts: int) -> int:
        """Exponential, capped, with full jitter on the upper half (so retries of many keys spread out)."""
        ceiling = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** max(0, attempts - 1))
        return int(ceiling / 2 + random.random() * ceiling / 2) + 1


@dataclass(frozen=True)
class Outcome:
    """What processing one record did (``tags``) and the record as it was last written."""

    tags: frozenset[str]
    record: KeyRecord

    def __contains__(self, tag: str) -> bool:
        return tag in self.tags

    def __or__(self, other: Outcome) -> Outcome:
        return Outcome(self.tags | other.tags, other.record)


def _out(record: KeyRecord, *tags: str) -> Outcome:
    return Outcome(frozenset(tags), record)


def new_credential_id(store_id: str) -> str:
    """Self-routing: ``vast.<store>.<uuid>`` names the store that can revoke it."""
    return f"vast.{store_id}.{uuid.uuid4()}"


class KeyLifecycle:
    """Issue, revoke and reconcile the keys of one ``vast-s3`` store."""

    def __init__(
        self, store_id: str, ledger: KeyLedger, vms: VmsClient, policy: LifecyclePolicy, clock: Callable[[], datetime]
    ):
        self.store_id, self.ledger, self.vms, self.policy, self.clock = store_id, ledger, vms, policy, clock

    def now(self) -> int:
        return int(self.clock().timestamp())

    def leased(self, record: KeyRecord) -> bool:
        """Someone holds ``record`` (a claim whose lease has not run out): no one else takes it."""
        return record.lease_until is not None and record.lease_until > self.now()

    def _lease(self) -> dict:
        until = self.now() + self.policy.lease_seconds
        return {"due_at": until, "lease_until": until}

    def user_key(self, user: VastUser) -> str:
        return f"{self.store_id}|{user.key}"

    # -- issue ------------------------------------------------------------------------------------
    def issue(self, owner: str, user: VastUser, ttl_seconds: int) -> tuple[KeyRecord, KeyPair]:
        """Create a key for ``user``, ledgered ACTIVE until ``now + ttl_seconds``.

        At the cap, the oldest key this service issued to ``owner`` for the user is revoked first;
        never a key the user made, nor one issued to another principal mapped to the same user (that
        principal could not revoke it either): then 409 ``vast-key-cap``. The secret is returned, never stored. VMS and
        ledger failures are Problems (403/503) or LedgerUnavailable; never a half-done ACTIVE record.
        """
        for attempt in range(2):  # a second round only when a concurrent create took the slot we freed
            listed = {k.access_key for k in self._vms(self.vms.list_keys, user)}
            if len(listed) >= self.policy.max_keys_per_user:
                freed = self._rotate_oldest(user, listed, owner)
                listed.discard(freed)
            now = self.clock()
            epoch = int(now.timestamp())
            record = self.ledger.create(
                KeyRecord(
                    credential_id=new_credential_id(self.store_id),
                    store=self.store_id,
                    owner=owner,
                    user_key=self.user_key(user),
                    holder=user.as_ref(),
                    state=PENDING,
                    created_at=now_iso(now),
                    expires_at=epoch + ttl_seconds,
                    due_at=epoch + self.policy.pending_grace_seconds,
                    prior_keys=tuple(sorted(listed)),
                )
            )
            try:
                pair = self.vms.create_key(user)
            except VmsKeyCap:
                self.ledger.transition(record, FAILED, closed_at=epoch, last_error="VMS key cap")
                if attempt == 0:
                    continue
                raise self._cap_problem() from None
            except VmsOutcomeUnknown as exc:
                log.warning(
                    "store %s: %s; the record stays pending and is settled by listing the user's keys, "
                    "never by creating again",
                    self.store_id,
                    exc,
                )
                # Never create again: find out by listing (now if VMS answers, else by the sweep).
                self._try(lambda: self.reconcile(record, final=False))  # noqa: B023 - called at once
                raise unavailable(
                    "VMS did not confirm the new key; it will be cleaned up. Ask again.", retry_after=5
                ) from None
            except VmsError as exc:  # certainly not created: refused, or never sent
                self.ledger.transition(record, FAILED, closed_at=epoch, last_error=str(exc)[:200])
                raise self._problem(exc) from None
            try:
                active = self.ledger.transition(
                    record, ACTIVE, access_key=pair.access_key, due_at=record.expires_at, prior_keys=()
                )
            except (LedgerUnavailable, StaleRecord):  # ledger unreachable, or a sweep reconciled it meanwhile
                # The record stays PENDING: the sweep finds the key and revokes it. Never hand out a
                # key the ledger does not say is ACTIVE.
                log.warning("store %s: ledger update after a VMS create failed; left for the sweep", self.store_id)
                raise unavailable("the key could not be recorded; it will be cleaned up. Ask again.") from None
            return active, pair
        raise AssertionError("unreachable")

    def _rotate_oldest(self, user: VastUser, listed: set[str], owner: str) -> str | None:
        # The caller's own: keys being revoked already (a delete to retry) first, then the oldest ACTIVE
        # one; never one someone else (a sweep) holds: it is being deleted already.
        records = [r for r in self.ledger.for_user(self.user_key(user)) if r.access_key in listed and r.owner == owner]
        held = [r for r in records if r.state in (ACTIVE, REVOKING) and self.leased(r)]
        records = [r for r in records if r not in held]
        ours = [r for r in records if r.state == REVOKING] + [r for r in records if r.state == ACTIVE]
        if not ours:
            if held:
                raise unavailable(
                    "one of this service's keys for the user is being deleted right now (needed to "
                    "stay within the two-key limit); ask again in a few seconds",
                    retry_after=5,
                )
            raise self._cap_problem()
        oldest = ours[0]
        try:
            outcome = self.revoke(oldest, "rotated")
        except StaleRecord:
            outcome = _out(oldest, SKIPPED)
        if FAILED_NOW in outcome:
            raise unavailable(
                "VMS did not delete this service's oldest key for the user (needed to stay within "
                "the two-key limit); it will be retried",
                retry_after=10,
            )
        return oldest.access_key

    def _cap_problem(self) -> Problem:
        n = self.policy.max_keys_per_user
        return conflict(
            "vast-key-cap",
            f"the VAST user already holds {n} S3 keys (the most VAST allows) and none of them was "
            "issued to you by this service; revoke one of yours, or delete one of them in VMS (or ask "
            "the VAST administrator), then ask again",
        )

    def _vms(self, call, *args):
        try:
            return call(*args)
        except VmsError as exc:
            raise self._problem(exc) from None

    def _problem(self, exc: VmsError) -> Problem:
        if not isinstance(exc, VmsNotFound):
            log.warning("store %s: %s", self.store_id, exc)  # method, status or cause only: never a key
        if isinstance(exc, VmsNotFound):
            return problem("vast-user-unknown", "the VAST user your identity maps to does not exist in VMS")
        if isinstance(exc, VmsAuthError):
            return unavailable("VMS refused the service's own credentials", retry_after=60, slug="store-misconfigured")
        if isinstance(exc, VmsUnavailable):
            return unavailable("VMS is unavailable", retry_after=10)
        return unavailable(f"VMS refused the request ({exc.status})", retry_after=10)

    @staticmethod
    def _try(step) -> None:
        try:
            step()
        except (StaleRecord, LedgerUnavailable, VmsError):
            pass  # best effort: the record stays due and the sweep finishes the job

    # -- revoke -----------------------------------------------------------------------------------
    def revoke(self, record: KeyRecord, reason: str) -> Outcome:
        """Claim ``record`` and delete its key in VMS. Raises StaleRecord if someone else holds it.

        Tagged "revoked" once VMS confirms (a 404 counts), "failed" when the delete must be retried.
        """
        if record.state not in (ACTIVE, REVOKING):
            raise ValueError(f"cannot revoke a {record.state} record")
        if self.leased(record):
            raise StaleRecord(record.credential_id)
        claimed = self.ledger.transition(record, REVOKING, reason=record.reason or reason, **self._lease())
        return self._delete_claimed(claimed)

    def _delete_claimed(self, claimed: KeyRecord) -> Outcome:
        user = VastUser.from_ref(claimed.holder)
        if claimed.access_key is None:  # a claimed ACTIVE or REVOKING record always names its key
            raise ValueError(f"record {claimed.credential_id} names no access key")
        try:
            self.vms.delete_key(user, claimed.access_key)
        except VmsError as exc:
            attempts = claimed.attempts + 1
            retry = dataclasses.replace(claimed, attempts=attempts, last_error=str(exc)[:200])
            self._try(
                lambda: self.ledger.transition(
                    claimed,
                    REVOKING,
                    attempts=attempts,
                    due_at=self.now() + self.policy.backoff(attempts),
                    last_error=retry.last_error,
                )
            )
            return _out(retry, FAILED_NOW)
        try:
            claimed = self.ledger.transition(claimed, REVOKED, closed_at=self.now(), last_error=None)
        except StaleRecord:
            pass  # our lease ran out and someone else finished it: the key is gone either way
        return _out(claimed, REVOKED_NOW)

    # -- reconcile --------------------------------------------------------------------------------
    def reconcile(self, record: KeyRecord, final: bool = True) -> Outcome:
        """Settle a PENDING record whose create answer was lost (or whose process died).

        ``final`` (the sweep, after the grace period): no new key means the create never happened
        -> FAILED. Not final (right after a lost answer): only a key found is acted on, since the
        create may still be under way in VMS. Raises StaleRecord if someone else holds the record.
        """
        now = self.now()
        if self.leased(record):
            raise StaleRecord(record.credential_id)
        claimed = self.ledger.transition(record, PENDING, **self._lease())
        user = VastUser.from_ref(claimed.holder)
        try:
            listed = self.vms.list_keys(user)
        except VmsNotFound:
            return _out(
                self.ledger.transition(claimed, FAILED, closed_at=now, last_error="VAST user not found"), RECONCILED
            )
        except VmsError as exc:
            if final:
                return _out(self._release(claimed, str(exc)), FAILED_NOW)
            # Keep the grace period: the sweep looks again once the create is surely over.
            self._try(lambda: self.ledger.transition(claimed, PENDING, due_at=record.due_at))
            return _out(claimed, FAILED_NOW)
        others = [r for r in self.ledger.for_user(claimed.user_key) if r.credential_id != claimed.credential_id]
        known = {r.access_key for r in others if r.access_key}
        window = self._window(claimed)
        candidates = sorted(
            (
                k
                for k in listed
                if k.access_key not in claimed.prior_keys
                and k.access_key not in known
                and (k.creation_time is None or window[0] <= k.creation_time <= window[1])
            ),
            key=lambda k: (k.creation_time or datetime.min.replace(tzinfo=UTC), k.access_key),
        )
        siblings = [r for r in others if r.state == PENDING]
        in_flight = [
            r
            for r in siblings
            if self._created(r) + timedelta(seconds=self.policy.pending_grace_seconds) > self.clock()
        ]
        if candidates and in_flight:
            # Another create for this user may still be answered: a new key may be its, not ours. Wait.
            until = max(int(self._created(r).timestamp()) for r in in_flight) + self.policy.pending_grace_seconds + 1
            return _out(self.ledger.transition(claimed, PENDING, due_at=max(until, record.due_at or 0)), STILL_PENDING)
        if not candidates:
            if not final:
                return _out(self.ledger.transition(claimed, PENDING, due_at=record.due_at), STILL_PENDING)
            return _out(
                self.ledger.transition(claimed, FAILED, closed_at=now, last_error="the create did not happen"),
                RECONCILED,
            )
        if len(candidates) > 1 + len(siblings):
            # More unknown keys than lost creates: one may be the user's own. Touch none; retry later.
            return _out(
                self._release(claimed, f"ambiguous: {len(candidates)} unknown keys appeared in the window"), AMBIGUOUS
            )
        attached = self.ledger.transition(
            claimed, REVOKING, access_key=candidates[0].access_key, reason="reconciled", prior_keys=(), **self._lease()
        )
        return _out(attached, RECONCILED) | self._delete_claimed(attached)

    @staticmethod
    def _created(record: KeyRecord) -> datetime:
        return datetime.fromisoformat(record.created_at.replace("Z", "+00:00"))

    def _window(self, record: KeyRecord) -> tuple[datetime, datetime]:
        created = self._created(record)
        skew = timedelta(seconds=self.policy.clock_skew_seconds)
        return created - skew, created + timedelta(seconds=self.policy.create_timeout_seconds) + skew

    def _release(self, claimed: KeyRecord, error: str) -> KeyRecord:
        """Give the claim back with one more attempt counted and the next one backed off."""
        attempts = claimed.attempts + 1
        released = dataclasses.replace(claimed, attempts=attempts, last_error=error[:200])
        self._try(
            lambda: self.ledger.transition(
                claimed,
                PENDING,
                attempts=attempts,
                last_error=released.last_error,
                due_at=self.now() + self.policy.backoff(attempts),
            )
        )
        return released
