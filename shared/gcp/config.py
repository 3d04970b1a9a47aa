"""The ``gcs`` store block: fields, validation and defaults (docs/gcs.md).

Light: imported at start-up to validate the configuration; the vendor, google-auth and
google-cloud-storage are not.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError
from ..kinds import ValidationContext
from ..secrets import validate_ref
from ..sections import Section
from .names import bucket_problem

AUTH_METHODS = ("service-account-key", "default", "credential-config", "workload-identity-federation")
_AUTH_FIELDS = {
    "service-account-key": ("method", "key", "impersonate", "token_lifetime_max"),
    "default": ("method", "impersonate", "token_lifetime_max"),
    "credential-config": ("method", "config", "config_file", "impersonate", "token_lifetime_max"),
    "workload-identity-federation": ("method", "audience", "subject_token", "impersonate", "token_lifetime_max"),
}
SERVICE_ACCOUNT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.-]+\.gserviceaccount\.com\Z")
PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]\Z")
PROVIDER = re.compile(
    r"^//iam\.googleapis\.com/projects/\d{1,20}/locations/global/workloadIdentityPools/"
    r"[a-z0-9-]{4,32}/providers/[a-z0-9-]{4,32}\Z"
)
GOOGLE_STORAGE = "https://storage.googleapis.com"
KEY_SIGNED_URL_MAX = 604_800  # V4 signed URLs live at most 7 days
KEYLESS_SIGNED_URL_MAX = 43_200  # ... and 12 hours when signed through signBlob (a short-lived credential)
TOKEN_LIFETIME_DEFAULT = 3_600  # generateAccessToken's maximum unless the organization policy allows 12 h
TOKEN_LIFETIME_MAX = 43_200
SOURCE_TOKEN_SECONDS = 3_600  # an access token minted from a key, ADC or federation lives 1 hour


def validate_store(s: Section, ctx: ValidationContext) -> dict[str, Any]:
    """Validate a ``gcs`` store block; returns the normalized options (errors name the key)."""
    emulator = s.local_only("emulator", ctx.mode, "emulator stores")
    bucket = s.string("bucket")
    why = bucket_problem(bucket)
    if why:
        raise ConfigError(s.path("bucket"), why)
    project = s.get("project", str, None)
    if project is not None and not PROJECT.match(project):
        raise ConfigError(s.path("project"), "must be a project id (6-30 characters of a-z, 0-9, '-')")
    options: dict[str, Any] = {
        "bucket": bucket,
        "project": project,
        "endpoint_url": s.url("endpoint_url", None, allow_http=emulator) or GOOGLE_STORAGE,
        "emulator": emulator,
        "google_apis_url": s.url("google_apis_url", None, allow_http=emulator),
    }
    if options["google_apis_url"] and not emulator:
        raise ConfigError(s.path("google_apis_url"), "is for emulator stores only (emulator: true, local mode)")
    auth = s.section("auth", tuple(sorted({f for fields in _AUTH_FIELDS.values() for f in fields})))
    method = auth.string("method", choices=AUTH_METHODS)
    for name in auth.raw:
        if name not in _AUTH_FIELDS[method]:
            raise ConfigError(auth.path(name), f"is not a field of the '{method}' method")
    out: dict[str, Any] = {"method": method}
    impersonate = auth.get("impersonate", str, None)
    if impersonate is not None and not SERVICE_ACCOUNT.match(impersonate):
        raise ConfigError(
            auth.path("impersonate"), "must be a service account email (name@project.iam.gserviceaccount.com)"
        )
    out["impersonate"] = impersonate
    out["token_lifetime_max"] = auth.integer("token_lifetime_max", TOKEN_LIFETIME_DEFAULT, 60, TOKEN_LIFETIME_MAX)
    if auth.has("token_lifetime_max") and impersonate is None:
        raise ConfigError(auth.path("token_lifetime_max"), "applies only with impersonate (generateAccessToken)")
    if method == "service-account-key":
        out["key"] = validate_ref(auth.path("key"), auth.get("key", object))
    elif method == "credential-config":
        if auth.has("config") == auth.has("config_file"):
            raise ConfigError(auth.key, "needs exactly one of config (the object) or config_file (its path)")
        if auth.has("config"):
            config = auth.get("config", dict)
            why = configuration_problem(config)
            if why:
                raise ConfigError(auth.path("config"), why)
            out["config"] = dict(config)
        else:
            out["config_file"] = auth.string("config_file")
    elif method == "workload-identity-federation":
        audience = auth.string("audience")
        if not PROVIDER.match(audience):
            raise ConfigError(
                auth.path("audience"),
                "must name a workload identity provider: //iam.googleapis.com/projects/<number>/locations/global/"
                "workloadIdentityPools/<pool>/providers/<provider>",
            )
        out["audience"] = audience
        out["subject_token"] = _subject_token(
            auth.section("subject_token", ("azure_audience", "client_id", "aws_region", "file"))
        )
    options["auth"] = out
    # A token minted without impersonation lives as long as its source (1 hour), whatever shorter TTL
    # is asked for: the core then refuses a store maximum below it (docs/gcs.md, Lifetimes).
    if impersonate is None:
        options["min_ttl_seconds"] = SOURCE_TOKEN_SECONDS
    return options


def configuration_problem(info: object) -> str | None:
    """Why ``info`` is not a federation configuration this service runs, or None. Executable sources
    are refused: a configuration never makes the service run a command."""
    if not isinstance(info, dict) or info.get("type") != "external_account":
        return "must be a workload identity federation configuration (type external_account)"
    source = info.get("credential_source")
    if not isinstance(source, dict) or "executable" in source:
        return "must take its subject token from a file, a URL or AWS (never an executable)"
    return None


def _subject_token(token: Section) -> dict[str, Any]:
    """Where the federation's subject token comes from: the service's own Azure identity, its AWS role,
    or a token file another agent keeps fresh."""
    sources = [name for name in ("azure_audience", "aws_region", "file") if token.has(name)]
    if len(sources) != 1:
        raise ConfigError(
            token.key, "needs exactly one of azure_audience (an Azure identity), aws_region (the AWS role) or file"
        )
    if token.has("client_id") and sources[0] != "azure_audience":
        raise ConfigError(token.path("client_id"), "applies only to azure_audience")
    if sources[0] == "azure_audience":
        return {"azure_audience": token.string("azure_audience"), "client_id": token.get("client_id", str, None)}
    if sources[0] == "aws_region":
        region = token.string("aws_region")
        if not re.match(r"^[a-z]{2}(-[a-z]+)+-\d\Z", region):
            raise ConfigError(token.path("aws_region"), "must be an AWS region name such as eu-west-3")
        return {"aws_region": region}
    return {"file": token.string("file")}


FIELDS = ("bucket", "project", "endpoint_url", "emulator", "google_apis_url", "auth")
