"""VAST Data S3 keys: the vendor (docs/vast.md).

A VAST S3 key acts as one VAST user with all that user's rights (VAST identity policies), never
expires by itself, and a user holds at most two. So this vendor:

- maps the caller to a VAST user (verified claims or a configured table; none -> 403);
- hands out a key only for the whole store (a key cannot be narrowed to a prefix) and only to a
  caller granted at least the store's declared ``key_access`` (what the VAST user's policies
  allow), so a key is never broader than the grant;
- records every key in the ledger before and after creating it, and takes it back at expiry
  (the sweep), on request (``DELETE /api/v1/credentials/{id}``) or to make room under the cap.

The store block is validated by :mod:`shared.vast.config`.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from .. import access
from ..access import covers
from ..authz import Grant
from ..aws.formats import duckdb_s3
from ..clock import iso
from ..errors import Problem, bad_request, conflict, not_found, problem, unavailable
from ..kinds.contract import IssuedCredential, RevocableVendor
from ..ledger import FAILED, PENDING, REVOKED, REVOKING, LedgerUnavailable, StaleRecord
from .config import sweep_reserve_seconds
from .lifecycle import KeyLifecycle, LifecyclePolicy
from .mapping import VastUser, vast_user_for
from .reclaim import ReclaimSettings, reclaim_store
from .vms_client import VmsClient

log = logging.getLogger("tvs.vast")


class VastS3Vendor(RevocableVendor):
    provider = "vast-s3"
    formats = frozenset({"native", "iceberg", "credential_process", "duckdb"})

    def __init__(self, store, context):
        super().__init__(store, context)
        self._lock = threading.Lock()
        self._lifecycle = None

    def lifecycle(self):
        """The store's KeyLifecycle (ledger and VMS client made on first use)."""
        with self._lock:
            if self._lifecycle is None:
                o = self.store.options
                if self.context.ledger is None:  # configuration validation makes this unreachable
                    raise unavailable("no ledger is configured", slug="store-misconfigured")
                a = o["auth"]
                resolve = self.context.secrets.resolve
                auth = (
                    ("basic", a["username"], resolve(a["password"]))
                    if a["method"] == "basic"
                    else ("api-token", resolve(a["token"]))
                )
                vms = VmsClient(
                    o["vms_url"],
                    auth=auth,
                    verify_tls=o["verify_tls"],
                    ca_bundle=o["ca_bundle"],
                    timeout=o["timeout_seconds"],
                    retries=o["retries"],
                )
                sw = o["sweep"]
                policy = LifecyclePolicy(
                    max_keys_per_user=o["max_keys_per_user"],
                    pending_grace_seconds=o["pending_grace_seconds"],
                    lease_seconds=max(60, 3 * o["timeout_seconds"] * (o["retries"] + 1)),
                    backoff_base_seconds=sw["backoff_base_seconds"],
                    backoff_max_seconds=sw["backoff_max_seconds"],
                    create_timeout_seconds=o["timeout_seconds"],
                )
                self._lifecycle = KeyLifecycle(
                    self.store.id, self.context.ledger.get(), vms, policy, self.context.clock
                )
            return self._lifecycle

    # -- issue ------------------------------------------------------------------------------------
    def offers(self, prefix: str, access: str) -> tuple[str, ...]:
        """A key covers the whole store with the VAST user's rights: only a whole-store grant of at
        least ``key_access`` can have one."""
        whole = prefix == "" and covers(access, self.store.options["key_access"])
        return ("credential",) if whole else ()

    def issue(self, grant: Grant) -> IssuedCredential:
        o = self.store.options
        if grant.path != "":
            raise problem(
                "prefix-scope-unsupported",
                f"store '{self.store.id}' hands out VAST S3 keys, which carry all the rights of the VAST "
                "user; ask for the whole store (no 'path') if you are granted it.",
            )
        if not access.covers(grant.access, o["key_access"]):
            raise bad_request(
                f"store '{self.store.id}' hands out keys with '{o['key_access']}' access (what the VAST "
                f"user's policies allow); ask for access '{o['key_access']}' if you are granted it",
                "access-not-offered",
            )
        user = vast_user_for(grant.principal, o["mapping"])
        try:
            life = self.lifecycle()
            with life.vms.deadline(o["request_deadline_seconds"]):
                record, pair = life.issue(grant.principal.key, user, grant.ttl_seconds)
        except LedgerUnavailable:
            raise unavailable("the key ledger is unavailable", retry_after=10) from None
        issued = datetime.fromisoformat(record.created_at.replace("Z", "+00:00")).replace(microsecond=0)
        expires = datetime.fromtimestamp(record.expires_at, UTC)
        endpoint, region = o["s3_endpoint"], o["region"]
        return IssuedCredential(
            credential_id=record.credential_id,
            provider=self.provider,
            scope={"endpoint": endpoint, "vast_user": user.key, "key_access": o["key_access"], "prefix": ""},
            issued_at=issued,
            expires_at=expires,
            credentials={
                "access_key_id": pair.access_key,
                "secret_access_key": pair.secret_key,
                "endpoint_url": endpoint,
                "region": region,
            },
            storage_options={
                "key": pair.access_key,
                "secret": pair.secret_key,
                "endpoint_url": endpoint,
                "client_kwargs": {"region_name": region},
                "config_kwargs": {"s3": {"addressing_style": "path"}},
            },
            iceberg_prefix="s3://",
            iceberg_config={
                "s3.access-key-id": pair.access_key,
                "s3.secret-access-key": pair.secret_key,
                "s3.endpoint": endpoint,
                "s3.region": region,
                "s3.path-style-access": "true",
                # the key has no session token; clients read the expiry from this key
                "s3.session-token-expires-at-ms": str(record.expires_at * 1000),
            },
            duckdb_secret=duckdb_s3(
                pair.access_key, pair.secret_key, None, region=region, endpoint_url=endpoint, path_style=True
            ),
            duckdb_scope="s3://",
        )

    def render(self, fmt: str, credential: IssuedCredential, grant: Grant) -> dict[str, Any]:
        """As the base, but ``access`` says what the key carries, and ``credential_process`` is AWS's shape."""
        if fmt == "credential_process":
            c = credential.credentials
            return {
                "Version": 1,
                "AccessKeyId": c["access_key_id"],
                "SecretAccessKey": c["secret_access_key"],
                "Expiration": iso(credential.expires_at),
            }
        body = super().render(fmt, credential, grant)
        if fmt == "native":
            body["access"] = self.store.options["key_access"]
        return body

    # -- revoke -----------------------------------------------------------------------------------
    def owner_of(self, credential_id: str) -> str | None:
        try:
            record = self.lifecycle().ledger.get(credential_id)
        except LedgerUnavailable:
            raise unavailable("the key ledger is unavailable", retry_after=10) from None
        if record is None or record.store != self.store.id or record.state == FAILED:
            return None
        return record.owner

    def revoke(self, credential_id: str, reason: str) -> dict[str, Any] | None:
        """Take a key back now. Revoking a revoked key again succeeds (idempotent). If VMS does not
        confirm, the record stays REVOKING, the sweep finishes it, and the caller gets a 503 (retrying
        is safe)."""
        try:
            life = self.lifecycle()
            record = life.ledger.get(credential_id)
            if record is None or record.store != self.store.id or record.state == FAILED:
                raise not_found("there is no such credential")
            described = self.describe(record)
            about = {"scope": described["scope"], "expires_at": described["expires_at"]}
            if record.state == REVOKED:
                return about
            if record.state == PENDING:
                raise conflict(
                    "credential-pending", "this key is still being created or reconciled; try again in a few minutes"
                )
            if life.leased(record) or (
                record.state == REVOKING and record.due_at and record.due_at > life.now() and record.attempts == 0
            ):
                raise unavailable("the revocation is in progress", retry_after=5)
            with life.vms.deadline(self.store.options["request_deadline_seconds"]):
                outcome = life.revoke(record, reason)
        except StaleRecord:
            raise unavailable("the credential changed while being revoked; retry", retry_after=1) from None
        except LedgerUnavailable:
            raise unavailable("the key ledger is unavailable", retry_after=10) from None
        if "failed" in outcome:
            raise unavailable(
                "VMS did not confirm the deletion; it is recorded and will be retried by the sweep, "
                "and retrying this call is safe",
                retry_after=30,
            )
        return about

    def describe(self, record) -> dict[str, Any]:
        issued = datetime.fromisoformat(record.created_at.replace("Z", "+00:00"))
        return {
            "credential_id": record.credential_id,
            "store": record.store,
            "provider": self.provider,
            "access_key_id": record.access_key,
            "scope": {
                "vast_user": VastUser.from_ref(record.holder).key,
                "key_access": self.store.options["key_access"],
            },
            "issued_at": iso(issued),
            "expires_at": iso(datetime.fromtimestamp(record.expires_at, UTC)),
            "state": record.state.lower(),
            "owner": record.owner,
        }

    # -- the sweep of this store -------------------------------------------------------------------
    def reclaim_expired(self, budget_seconds: float) -> dict:
        """Revoke expired keys, settle stale PENDING records, retry failed deletes (shared.vast.reclaim)."""
        sw = self.store.options["sweep"]
        try:
            lifecycle = self.lifecycle()
        except (LedgerUnavailable, Problem) as exc:  # ledger or a secret missing: nothing lost, say so loudly
            log.error("store %s: no sweep, %s", self.store.id, exc)
            return {"revoked": 0, "failed": 0, "reconciled": 0, "remaining": 0, "error": "store-unavailable"}
        settings = ReclaimSettings(
            page_size=sw["page_size"],
            concurrency=sw["concurrency"],
            breaker=sw["breaker"],
            reserve_seconds=sweep_reserve_seconds(lifecycle.vms),
        )
        return reclaim_store(lifecycle, budget_seconds, settings)


__all__ = ["VastS3Vendor"]
