"""The ``azure-blob`` store block: fields, validation and defaults (docs/design.md, Azure Blob).

Light: imported at start-up to validate the configuration; the vendor and the Azure SDK are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from ..kinds import ValidationContext
from ..origins import web_origin
from ..secrets import validate_ref
from ..sections import Section

AUTH_METHODS = (
    "account-key",
    "service-principal",
    "managed-identity",
    "workload-identity",
    "default",
    "emulator-token",
)


def validate_store(s: Section, ctx: ValidationContext) -> dict[str, Any]:
    """Validate an ``azure-blob`` store block; returns the normalized options."""
    auth = s.section(
        "auth", ("method", "connection_string", "account_key", "tenant_id", "client_id", "client_secret", "authority")
    )
    method = auth.string("method", choices=AUTH_METHODS)
    emulator = s.local_only("emulator", ctx.mode, "emulator stores")
    if method == "emulator-token" and not emulator:
        raise ConfigError(auth.path("method"), "'emulator-token' works only with an emulator store in local mode")
    options: dict[str, Any] = {
        "container": s.string("container"),
        "account_url": s.url("account_url", None, allow_http=emulator),
        "account_name": s.get("account_name", str, None),
        "hierarchical_namespace": s.get("hierarchical_namespace", bool, False),
        "emulator": emulator,
        "ca_bundle": s.get("ca_bundle", str, None),
        "method": method,
        "delegation_key_hours": s.integer("delegation_key_hours", 24, 1, 168),
    }
    if method == "account-key":
        if auth.has("connection_string") == auth.has("account_key"):
            raise ConfigError(
                auth.path("connection_string"), "account-key needs exactly one of connection_string or account_key"
            )
        ref_name = "connection_string" if auth.has("connection_string") else "account_key"
        options[ref_name] = validate_ref(auth.path(ref_name), auth.raw[ref_name])
        if ref_name == "account_key" and not (options["account_url"] and options["account_name"]):
            raise ConfigError(s.path("account_url"), "account_url and account_name are required with account_key")
    else:
        if not options["account_url"]:
            raise ConfigError(s.path("account_url"), "is required")
        if method == "service-principal":
            options["tenant_id"] = auth.string("tenant_id")
            options["client_id"] = auth.string("client_id")
            options["client_secret"] = validate_ref(auth.path("client_secret"), auth.get("client_secret", object))
        elif method in ("managed-identity", "workload-identity"):
            options["client_id"] = auth.get("client_id", str, None)
    return options


FIELDS = (
    "container",
    "account_url",
    "account_name",
    "hierarchical_namespace",
    "emulator",
    "ca_bundle",
    "auth",
    "delegation_key_hours",
)


def browser_origins(options: Mapping[str, Any]) -> tuple[str, ...]:
    """Where a browser sends this store's SAS URLs: the account's blob endpoint (unknown until run time
    with a connection string: name it in ``page.connect_origins``)."""
    origin = web_origin(options["account_url"]) if options.get("account_url") else None
    return (origin,) if origin else ()
