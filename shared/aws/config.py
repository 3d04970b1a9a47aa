"""The ``aws-s3`` store block: fields, validation and defaults (docs/aws.md).

Light: imported at start-up to validate the configuration; the vendor and boto3 are not.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..kinds import ValidationContext
from ..origins import web_origin
from ..paths import PLACEHOLDERS
from ..secrets import validate_ref
from ..sections import Section
from .policy import partition_of, s3_service_host

AUTH_METHODS = ("assume-role", "web-identity", "federation-token", "presign-only")
_AUTH_FIELDS = {
    "assume-role": (
        "method",
        "role_arn",
        "external_id",
        "source",
        "session_tags",
        "source_credentials_are_role",
        "source_identity",
    ),
    "web-identity": ("method", "role_arn", "token"),
    "federation-token": ("method", "access_key_id", "secret_access_key"),
    "presign-only": ("method", "access_key_id", "secret_access_key"),
}
BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")  # '_' for older S3-compatible stores
REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$")
AWS_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$")
OTHER_ROLE_ARN = re.compile(r"^arn:[A-Za-z0-9_+=,.@:/-]{1,2040}$")  # S3-compatible STS (MinIO, VAST)
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,128}$")
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$")
TAG_KEY = re.compile(r"^[\w .:/=+@-]{1,128}$")
STS_MIN_TTL = 900
SIGV4_MAX_SECONDS = 604_800
S3_OPERATIONS = {"GET": "get_object", "PUT": "put_object", "DELETE": "delete_object"}


# -- configuration ---------------------------------------------------------------------------------
def validate_store(s: Section, ctx: ValidationContext) -> dict[str, Any]:
    """Validate an ``aws-s3`` store block; returns the normalized options (errors name the key)."""
    emulator = s.local_only("emulator", ctx.mode, "emulator stores")
    options: dict[str, Any] = {
        "bucket": _matching(s, "bucket", BUCKET, "an S3 bucket name (3-63 characters of a-z, 0-9, '.', '-')"),
        "region": _matching(s, "region", REGION, "a region name such as eu-west-3"),
        "endpoint_url": s.url("endpoint_url", None, allow_http=emulator),
        "sts_endpoint_url": s.url("sts_endpoint_url", None, allow_http=emulator),
        "path_style": s.get("path_style", bool, False),
        "emulator": emulator,
        "ca_bundle": s.get("ca_bundle", str, None),
        "kms_key_arn": _matching(
            s, "kms_key_arn", KMS_KEY_ARN, "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)", default=None
        ),
        "console_issuer": s.get("console_issuer", str, None),
    }
    auth = s.section("auth", tuple(sorted({f for fields in _AUTH_FIELDS.values() for f in fields})))
    method = auth.string("method", choices=AUTH_METHODS)
    for name in auth.raw:
        if name not in _AUTH_FIELDS[method]:
            raise ConfigError(auth.path(name), f"is not a field of the '{method}' method")
    options["auth"] = _AUTH_VALIDATORS[method](auth, options)
    if method != "presign-only":
        options["min_ttl_seconds"] = STS_MIN_TTL  # the core refuses a store maximum below it
    return options


FIELDS = (
    "bucket",
    "region",
    "endpoint_url",
    "sts_endpoint_url",
    "path_style",
    "emulator",
    "ca_bundle",
    "kms_key_arn",
    "console_issuer",
    "auth",
)


def _matching(s: Section, name: str, pattern: re.Pattern, what: str, default: Any = ...) -> Any:
    value = s.get(name, str, default)
    if value is not None and not pattern.match(value):
        raise ConfigError(s.path(name), f"must be {what}")
    return value


def _role_arn(auth: Section, options: dict) -> str:
    pattern = OTHER_ROLE_ARN if options["sts_endpoint_url"] else AWS_ROLE_ARN
    return _matching(auth, "role_arn", pattern, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")


def _keys(auth: Section) -> dict:
    return {
        name: validate_ref(auth.path(name), auth.get(name, object)) for name in ("access_key_id", "secret_access_key")
    }


def _assume_role(auth: Section, options: dict) -> dict:
    out: dict[str, Any] = {
        "method": "assume-role",
        "role_arn": _role_arn(auth, options),
        "source_identity": auth.get("source_identity", bool, True),
        "source_credentials_are_role": auth.get("source_credentials_are_role", bool, None),
    }
    external_id = auth.get("external_id", (str, dict), None)
    if isinstance(external_id, str) and not EXTERNAL_ID.match(external_id):
        raise ConfigError(auth.path("external_id"), "must be 2-1224 characters of A-Z, a-z, 0-9 and +=,.@:/-_")
    out["external_id"] = (
        validate_ref(auth.path("external_id"), external_id) if isinstance(external_id, dict) else external_id
    )
    source = auth.get("source", (str, dict), "default")
    if isinstance(source, str):
        if source != "default":
            raise ConfigError(
                auth.path("source"), "must be 'default' or {\"access_key_id\": ref, \"secret_access_key\": ref}"
            )
        out["source"] = "default"
    else:
        out["source"] = _keys(Section(auth.path("source"), source, ("access_key_id", "secret_access_key")))
    out["session_tags"] = _session_tags(auth)
    return out


def _session_tags(auth: Section) -> dict[str, str]:
    tags = auth.get("session_tags", dict, {})
    if len(tags) > 50:
        raise ConfigError(auth.path("session_tags"), "STS accepts at most 50 session tags")
    for key, template in tags.items():
        where = f"{auth.path('session_tags')}.{key}"
        if not isinstance(key, str) or not TAG_KEY.match(key) or key.lower().startswith("aws:"):
            raise ConfigError(where, "a tag key is 1-128 characters of letters, digits, space and _.:/=+-@, not aws:")
        if not isinstance(template, str) or len(template) > 256:
            raise ConfigError(where, "must be a string of at most 256 characters")
        try:
            names = [n for _, n, _, _ in string.Formatter().parse(template) if n is not None]
        except ValueError:
            raise ConfigError(where, "has an unbalanced '{' or '}'") from None
        for name in names:
            if name not in PLACEHOLDERS:
                raise ConfigError(where, f"unknown placeholder {{{name}}}; allowed: {', '.join(PLACEHOLDERS)}")
    return dict(tags)


def _web_identity(auth: Section, options: dict) -> dict:
    token = auth.section("token", ("azure_audience", "client_id", "file"))
    if token.has("azure_audience") == token.has("file"):
        raise ConfigError(token.key, "needs exactly one of azure_audience (an Azure identity) or file (a token file)")
    if token.has("file"):
        if token.has("client_id"):
            raise ConfigError(token.path("client_id"), "applies only to azure_audience")
        source = {"file": token.string("file")}
    else:
        source = {"azure_audience": token.string("azure_audience"), "client_id": token.get("client_id", str, None)}
    return {"method": "web-identity", "role_arn": _role_arn(auth, options), "token": source}


def _long_term_keys(auth: Section, options: dict) -> dict:
    return {"method": auth.raw["method"], **_keys(auth)}


_AUTH_VALIDATORS = {
    "assume-role": _assume_role,
    "web-identity": _web_identity,
    "federation-token": _long_term_keys,
    "presign-only": _long_term_keys,
}


def browser_origins(options: Mapping[str, Any]) -> tuple[str, ...]:
    """Where a browser sends this store's presigned URLs: the custom endpoint (and its virtual host
    for the bucket), or S3's regional and global hosts for the bucket."""
    bucket, endpoint = options["bucket"], options["endpoint_url"]
    if endpoint:
        parts = urlsplit(endpoint)
        candidates = [endpoint]
        if not options["path_style"]:
            candidates.append(f"{parts.scheme}://{bucket}.{parts.netloc}")
    else:
        host = s3_service_host(options["region"])
        candidates = [f"https://{bucket}.{host}", f"https://{host}"]
        if partition_of(options["region"]) == "aws":
            candidates.append(f"https://{bucket}.s3.amazonaws.com")  # botocore's global virtual host
    return tuple(dict.fromkeys(o for o in map(web_origin, candidates) if o))
