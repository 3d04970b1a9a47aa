"""The ``vast-s3`` store block: fields, validation and defaults (docs/vast.md).

Light: imported at start-up to validate the configuration; the vendor is not.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .. import access
from ..errors import ConfigError
from ..kinds import ValidationContext
from ..secrets import validate_ref
from ..sections import Section
from .mapping import validate_mapping
from .vms_client import longest_call_seconds

AUTH_METHODS = ("basic", "api-token")
FIELDS = (
    "vms_url",
    "s3_endpoint",
    "region",
    "auth",
    "verify_tls",
    "ca_bundle",
    "timeout_seconds",
    "retries",
    "request_deadline_seconds",
    "tenant_id",
    "key_access",
    "mapping",
    "max_keys_per_user",
    "pending_grace_seconds",
    "sweep",
)
# All the VMS calls of one vend or revoke end within request_deadline_seconds, so the caller gets a
# 503 rather than the platform's own timeout: the API function's (29 s in template.yaml, under API
# Gateway's 30 s integration limit) less room for the token check and the ledger writes.
REQUEST_DEADLINE_MAX_SECONDS = 25
# The largest budget a sweep runs with: the Azure timer's (at most 280 s, under the 5-minute
# functionTimeout of host.json) and the Lambda sweep function's (its 300 s timeout less a 10 s margin),
# whichever is smaller. The sweep keeps up to half its budget in reserve for the last record it takes,
# so one record's VMS calls must fit in half of this, or that record may outrun the function.
SWEEP_BUDGET_MAX_SECONDS = 280


def validate_store(s: Section, ctx: ValidationContext) -> dict[str, Any]:
    """Validate a ``vast-s3`` store block; returns the normalized options."""
    options: dict[str, Any] = {}
    for name in ("vms_url", "s3_endpoint"):
        url = s.url(name, allow_http=ctx.local)
        if urlsplit(url).query:
            raise ConfigError(s.path(name), "must be a URL with a host and no query")
        options[name] = url
    auth = s.section("auth", ("method", "username", "password", "token"))
    method = auth.string("method", choices=AUTH_METHODS)
    if method == "basic":
        options["auth"] = {
            "method": method,
            "username": auth.string("username"),
            "password": validate_ref(auth.path("password"), auth.get("password", object)),
        }
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
        mapping=validate_mapping(s.section("mapping", ("users", "claims", "protected")), tenant_id, ctx.issuers),
        max_keys_per_user=s.integer("max_keys_per_user", 2, 1, 10),
        pending_grace_seconds=s.integer("pending_grace_seconds", 120, 10, 3600),
    )
    _check_sweep_fits(s, options["timeout_seconds"], options["retries"])
    if options["pending_grace_seconds"] < 2 * options["timeout_seconds"]:
        raise ConfigError(
            s.path("pending_grace_seconds"),
            "must be at least twice timeout_seconds (a create must be over before its record counts as stale)",
        )
    sw = s.section("sweep", ("page_size", "concurrency", "breaker", "backoff_base_seconds", "backoff_max_seconds"), {})
    options["sweep"] = {
        "page_size": sw.integer("page_size", 100, 1, 1000),
        "concurrency": sw.integer("concurrency", 4, 1, 32),
        "breaker": sw.integer("breaker", 5, 1, 1000),
        "backoff_base_seconds": sw.integer("backoff_base_seconds", 30, 1, 3600),
        "backoff_max_seconds": sw.integer("backoff_max_seconds", 3600, 1, 86_400),
    }
    return options


def _check_sweep_fits(s: Section, timeout: int, retries: int) -> None:
    """One record of the sweep (a reconcile's listing and delete, each retried) must fit in half the
    smallest platform budget; refused naming ``timeout_seconds`` (or ``retries`` when only it is set)."""
    reserve = reserve_seconds(longest_call_seconds(timeout, retries))
    if reserve > SWEEP_BUDGET_MAX_SECONDS / 2:
        key = "retries" if s.has("retries") and not s.has("timeout_seconds") else "timeout_seconds"
        raise ConfigError(
            s.path(key),
            f"with timeout_seconds {timeout} and retries {retries}, one record of the "
            f"sweep may wait up to {reserve:.0f} s on VMS, more than half of the "
            f"{SWEEP_BUDGET_MAX_SECONDS} s a sweep runs with at most; lower "
            "timeout_seconds or retries",
        )


def reserve_seconds(longest_call: float) -> float:
    """The longest one record of the sweep takes: a reconcile lists the user's keys, then deletes one
    (two VMS calls at their worst), and a second for the ledger writes."""
    return 2 * longest_call + 1


def sweep_reserve_seconds(vms) -> float:
    """:func:`reserve_seconds` of a store's VMS client."""
    return reserve_seconds(vms.longest_call_seconds())
