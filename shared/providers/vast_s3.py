"""VAST Data S3 keys (DESIGN §1, §5, §6; docs/vast.md).

A VAST S3 key acts as one VAST user with all that user's rights (VAST identity policies), never
expires by itself, and a user holds at most two. So this vendor:

- maps the caller to a VAST user (verified claims or a configured table; none -> 403);
- hands out a key only for the whole store (a key cannot be narrowed to a prefix) and only to a
  caller granted at least the store's declared ``key_access`` (what the VAST user's policies
  allow), so a key is never broader than the grant;
- records every key in the ledger before and after creating it, and takes it back at expiry
  (the sweep), on request (``DELETE /api/v1/credentials/{id}``) or to make room under the cap.

Store block (besides ``kind``, ``description``, ``ttl``)::

    "vms_url": "https://vms.example", "s3_endpoint": "https://s3.vast.example", "region": "us-east-1",
    "auth": {"method": "basic", "username": "svc-tvs", "password": {"env": "VMS_PASSWORD"}}
          | {"method": "api-token", "token": {"env": "VMS_TOKEN"}},
    "verify_tls": true, "ca_bundle": "/path/ca.pem", "timeout_seconds": 10, "retries": 2,
    "request_deadline_seconds": 20,
    "tenant_id": 1, "key_access": "read", "mapping": {...}, "max_keys_per_user": 2,
    "pending_grace_seconds": 120, "sweep": {"page_size": 100, "concurrency": 4, ...}
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from .. import access
from ..authz import Grant
from ..config import Section
from ..errors import ConfigError, Problem, bad_request, conflict, not_found, unavailable
from ..ledger import FAILED, PENDING, REVOKED, REVOKING, LedgerUnavailable, StaleRecord
from .base import IssuedCredential, Vendor, iso

log = logging.getLogger("tvs.vast")
AUTH_METHODS = ("basic", "api-token")
FIELDS = ("vms_url", "s3_endpoint", "region", "auth", "verify_tls", "ca_bundle", "timeout_seconds", "retries",
          "request_deadline_seconds", "tenant_id", "key_access", "mapping", "max_keys_per_user",
          "pending_grace_seconds", "sweep")
# All the VMS calls of one vend or revoke end within request_deadline_seconds, so the caller gets a
# 503 rather than the platform's own timeout: the API function's (29 s in template.yaml, under API
# Gateway's 30 s integration limit) less room for the token check and the ledger writes.
REQUEST_DEADLINE_MAX_SECONDS = 25
# The largest budget a sweep runs with: the Azure timer's (at most 280 s, under the 5-minute
# functionTimeout of host.json) and the Lambda sweep function's (its 300 s timeout less a 10 s margin),
# whichever is smaller. The sweep keeps up to half its budget in reserve for the last record it takes,
# so one record's VMS calls must fit in half of this, or that record may outrun the function.
SWEEP_BUDGET_MAX_SECONDS = 280


def validate_store(s: Section, mode: str, issuers: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate a ``vast-s3`` store block; returns the normalized options."""
    from ..secrets import validate_ref
    from ..vast.mapping import validate_mapping

    options: dict[str, Any] = {}
    for name in ("vms_url", "s3_endpoint"):
        url = s.string(name)
        if not url.startswith("https://") and not (mode == "local" and url.startswith("http://")):
            raise ConfigError(s.path(name), "must be an https URL")
        if not urlsplit(url).hostname or urlsplit(url).query:
            raise ConfigError(s.path(name), "must be a URL with a host and no query")
        options[name] = url.rstrip("/")
    auth = s.section("auth", ("method", "username", "password", "token"))
    method = auth.string("method", choices=AUTH_METHODS)
    if method == "basic":
        options["auth"] = {"method": method, "username": auth.string("username"),
                           "password": validate_ref(auth.path("password"), auth.get("password", object))}
    else:
        options["auth"] = {"method": method, "token": validate_ref(auth.path("token"), auth.get("token", object))}
    tenant_id = s.integer("tenant_id", None, 1, 2**31 - 1)
    options.update(
        region=s.string("region", "us-east-1"),
        verify_tls=s.get("verify_tls", bool, True),
        ca_bundle=s.get("ca_bundle", str, None),
        timeout_seconds=s.integer("timeout_seconds", 10, 1, 60),
        retries=s.integer("retries", 2, 0, 5),
        request_deadline_seconds=s.integer("request_deadline_seconds", 20, 1, REQUEST_DEADLINE_MAX_SECONDS),
        tenant_id=tenant_id,
        key_access=s.string("key_access", choices=access.LEVELS),
        mapping=validate_mapping(s.section("mapping", ("users", "claims", "protected")), tenant_id, issuers),
        max_keys_per_user=s.integer("max_keys_per_user", 2, 1, 10),
        pending_grace_seconds=s.integer("pending_grace_seconds", 120, 10, 3600),
    )
    _check_sweep_fits(s, options["timeout_seconds"], options["retries"])
    if options["pending_grace_seconds"] < 2 * options["timeout_seconds"]:
        raise ConfigError(s.path("pending_grace_seconds"), "must be at least twice timeout_seconds (a create must be "
                                                           "over before its record counts as stale)")
    sw = s.section("sweep", ("page_size", "concurrency", "breaker", "backoff_base_seconds", "backoff_max_seconds"), {})
    options["sweep"] = {
        "page_size": sw.integer("page_size", 100, 1, 1000),
        "concurrency": sw.integer("concurrency", 4, 1, 32),
        "breaker": sw.integer("breaker", 5, 1, 1000),
        "backoff_base_seconds": sw.integer("backoff_base_seconds", 30, 1, 3600),
        "backoff_max_seconds": sw.integer("backoff_max_seconds", 3600, 1, 86_400),
    }
    return options


validate_store.fields = FIELDS


def _check_sweep_fits(s: Section, timeout: int, retries: int) -> None:
    """One record of the sweep (a reconcile's listing and delete, each retried) must fit in half the
    smallest platform budget; refused naming ``timeout_seconds`` (or ``retries`` when only it is set)."""
    from ..vast.vms_client import longest_call_seconds

    reserve = _reserve(longest_call_seconds(timeout, retries))
    if reserve > SWEEP_BUDGET_MAX_SECONDS / 2:
        key = "retries" if s.has("retries") and not s.has("timeout_seconds") else "timeout_seconds"
        raise ConfigError(s.path(key), f"with timeout_seconds {timeout} and retries {retries}, one record of the "
                                       f"sweep may wait up to {reserve:.0f} s on VMS, more than half of the "
                                       f"{SWEEP_BUDGET_MAX_SECONDS} s a sweep runs with at most; lower "
                                       "timeout_seconds or retries")


class VastS3Vendor(Vendor):
    provider = "vast-s3"
    revocable = True
    formats = frozenset({"native", "iceberg", "credential_process"})

    def __init__(self, store, context):
        super().__init__(store, context)
        self._lock = threading.Lock()
        self._lifecycle = None

    def lifecycle(self):
        """The store's KeyLifecycle (ledger and VMS client made on first use)."""
        from ..vast.lifecycle import KeyLifecycle, LifecyclePolicy
        from ..vast.vms_client import VmsClient

        with self._lock:
            if self._lifecycle is None:
                o = self.store.options
                if self.context.ledger is None:  # configuration validation makes this unreachable
                    raise unavailable("no ledger is configured", slug="store-misconfigured")
                a = o["auth"]
                resolve = self.context.secrets.resolve
                auth = ("basic", a["username"], resolve(a["password"])) if a["method"] == "basic" \
                    else ("api-token", resolve(a["token"]))
                vms = VmsClient(o["vms_url"], auth=auth, verify_tls=o["verify_tls"], ca_bundle=o["ca_bundle"],
                                timeout=o["timeout_seconds"], retries=o["retries"])
                sw = o["sweep"]
                policy = LifecyclePolicy(
                    max_keys_per_user=o["max_keys_per_user"], pending_grace_seconds=o["pending_grace_seconds"],
                    lease_seconds=max(60, 3 * o["timeout_seconds"] * (o["retries"] + 1)),
                    backoff_base_seconds=sw["backoff_base_seconds"], backoff_max_seconds=sw["backoff_max_seconds"],
                    create_timeout_seconds=o["timeout_seconds"])
                self._lifecycle = KeyLifecycle(self.store.id, self.context.ledger.get(), vms, policy, self.context.clock)
            return self._lifecycle

    # -- issue ------------------------------------------------------------------------------------
    def issue(self, grant: Grant) -> IssuedCredential:
        from ..vast.mapping import vast_user_for

        o = self.store.options
        if grant.path != "":
            raise Problem(400, "prefix-scope-unsupported", "This store cannot scope a key to a prefix",
                          f"store '{self.store.id}' hands out VAST S3 keys, which carry all the rights of the VAST "
                          "user; ask for the whole store (no 'path') if you are granted it.")
        if not access.covers(grant.access, o["key_access"]):
            raise bad_request(f"store '{self.store.id}' hands out keys with '{o['key_access']}' access (what the VAST "
                              f"user's policies allow); ask for access '{o['key_access']}' if you are granted it",
                              "access-not-offered")
        user = vast_user_for(grant.principal, o["mapping"])
        try:
            life = self.lifecycle()
            with life.vms.deadline(o["request_deadline_seconds"]):
                record, pair = life.issue(grant.principal.key, user, grant.ttl_seconds)
        except LedgerUnavailable:
            raise unavailable("the key ledger is unavailable", retry_after=10) from None
        issued = datetime.fromisoformat(record.created_at.replace("Z", "+00:00")).replace(microsecond=0)
        expires = datetime.fromtimestamp(record.expires_at, timezone.utc)
        endpoint, region = o["s3_endpoint"], o["region"]
        return IssuedCredential(
            credential_id=record.credential_id,
            provider=self.provider,
            scope={"endpoint": endpoint, "vast_user": user.key, "key_access": o["key_access"], "prefix": ""},
            issued_at=issued,
            expires_at=expires,
            credentials={"access_key_id": pair.access_key, "secret_access_key": pair.secret_key,
                         "endpoint_url": endpoint, "region": region},
            storage_options={"key": pair.access_key, "secret": pair.secret_key, "endpoint_url": endpoint,
                             "client_kwargs": {"region_name": region},
                             "config_kwargs": {"s3": {"addressing_style": "path"}}},
            iceberg_prefix="s3://",
            iceberg_config={"s3.access-key-id": pair.access_key, "s3.secret-access-key": pair.secret_key,
                            "s3.endpoint": endpoint, "s3.region": region, "s3.path-style-access": "true",
                            # the key has no session token; clients read the expiry from this key
                            "s3.session-token-expires-at-ms": str(record.expires_at * 1000)},
        )

    def render(self, fmt: str, credential: IssuedCredential, grant: Grant) -> dict[str, Any]:
        """As the base, but ``access`` says what the key carries, and ``credential_process`` is AWS's shape."""
        if fmt == "credential_process":
            c = credential.credentials
            return {"Version": 1, "AccessKeyId": c["access_key_id"], "SecretAccessKey": c["secret_access_key"],
                    "Expiration": iso(credential.expires_at)}
        body = super().render(fmt, credential, grant)
        if fmt == "native":
            body["access"] = self.store.options["key_access"]
        return body

    # -- revoke -----------------------------------------------------------------------------------
    def revoke(self, credential_id: str, principal=None, admin: bool = False) -> None:
        """Take a key back now: its owner or an admin may; anyone else is told it does not exist (404).

        Revoking a revoked key again succeeds (idempotent). If VMS does not confirm, the record stays
        REVOKING, the sweep finishes it, and the caller gets a 503 (retrying is safe).
        """
        try:
            life = self.lifecycle()
            record = life.ledger.get(credential_id)
            unknown = not_found("there is no such credential")
            if record is None or record.store != self.store.id or record.state == FAILED:
                raise unknown
            if principal is None or (record.owner != principal.key and not admin):
                raise unknown  # do not reveal that someone else's credential exists
            if record.state == REVOKED:
                return
            if record.state == PENDING:
                raise conflict("credential-pending", "this key is still being created or reconciled; try again "
                                                     "in a few minutes")
            if life.leased(record) or (record.state == REVOKING and record.due_at and record.due_at > life.now()
                                       and record.attempts == 0):
                raise unavailable("the revocation is in progress", retry_after=5)
            with life.vms.deadline(self.store.options["request_deadline_seconds"]):
                outcome = life.revoke(record, "admin" if record.owner != principal.key else "owner")
        except StaleRecord:
            raise unavailable("the credential changed while being revoked; retry", retry_after=1) from None
        except LedgerUnavailable:
            raise unavailable("the key ledger is unavailable", retry_after=10) from None
        if "failed" in outcome:
            raise unavailable("VMS did not confirm the deletion; it is recorded and will be retried by the sweep, "
                              "and retrying this call is safe", retry_after=30)

    # -- sweep ------------------------------------------------------------------------------------
    def sweep(self, budget_seconds: float) -> dict:
        """Revoke expired keys, settle stale PENDING records, retry failed deletes (see shared.vast.sweep)."""
        from ..vast.sweep import SweepSettings, sweep_store

        sw = self.store.options["sweep"]
        try:
            lifecycle = self.lifecycle()
        except (LedgerUnavailable, Problem) as exc:  # ledger or a secret missing: nothing lost, say so loudly
            log.error("store %s: no sweep, %s", self.store.id, exc)
            return {"revoked": 0, "failed": 0, "reconciled": 0, "remaining": 0, "error": "store-unavailable"}
        settings = SweepSettings(page_size=sw["page_size"], concurrency=sw["concurrency"], breaker=sw["breaker"],
                                 reserve_seconds=sweep_reserve_seconds(lifecycle.vms))
        return sweep_store(lifecycle, budget_seconds, settings)


def sweep_reserve_seconds(vms) -> float:
    """The longest one record of the sweep takes: a reconcile lists the user's keys, then deletes one
    (two VMS calls at their worst), and a second for the ledger writes."""
    return _reserve(vms.longest_call_seconds())


def _reserve(longest_call: float) -> float:
    return 2 * longest_call + 1


VENDOR = VastS3Vendor
__all__ = ["VENDOR", "validate_store"]
