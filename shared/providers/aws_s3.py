"""AWS S3 and S3-compatible stores: scoped STS sessions and presigned URLs (DESIGN §1, §4, §5).

Every credential is an STS session limited by a session policy generated for its grant
(``shared.aws.policy``), minted by one of three methods (``shared.aws.sessions``):

- ``assume-role``: the service's own credentials (the runtime's default chain, or keys held by
  secret reference) assume a role of the customer, same account or cross-account with the
  ExternalId from configuration; RoleSessionName/SourceIdentity name the principal; optional
  session tags;
- ``web-identity``: AssumeRoleWithWebIdentity with a token of the service's own identity (Azure
  managed/workload identity, or a token file): no AWS secret anywhere;
- ``federation-token``: GetFederationToken from long-term IAM-user keys.

S3-compatible stores set ``endpoint_url`` (and ``sts_endpoint_url`` where they have STS, e.g.
MinIO, VAST 5.5+) and usually ``path_style``. Stores without STS use ``presign-only``: HMAC keys
held by secret reference sign per-object URLs, and credential requests are refused with a 400 that
points to ``POST /api/v1/signed-urls``.
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from ..access import METHOD_ACCESS
from ..authz import Grant
from ..config import PLACEHOLDERS, Section
from ..errors import ConfigError, Problem, bad_request
from ..secrets import validate_ref
from .base import IssuedCredential, SignedUrl, Vendor, fingerprint, iso

AUTH_METHODS = ("assume-role", "web-identity", "federation-token", "presign-only")
_AUTH_FIELDS = {
    "assume-role": ("method", "role_arn", "external_id", "source", "session_tags", "source_credentials_are_role",
                    "source_identity"),
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
def validate_store(s: Section, mode: str, issuers: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate an ``aws-s3`` store block; returns the normalized options (errors name the key)."""
    emulator = s.get("emulator", bool, False)
    if emulator and mode != "local":
        raise ConfigError(s.path("emulator"), "emulator stores are allowed only in local mode")
    options: dict[str, Any] = {
        "bucket": _matching(s, "bucket", BUCKET, "an S3 bucket name (3-63 characters of a-z, 0-9, '.', '-')"),
        "region": _matching(s, "region", REGION, "a region name such as eu-west-3"),
        "endpoint_url": _url(s, "endpoint_url", emulator),
        "sts_endpoint_url": _url(s, "sts_endpoint_url", emulator),
        "path_style": s.get("path_style", bool, False),
        "emulator": emulator,
        "ca_bundle": s.get("ca_bundle", str, None),
        "kms_key_arn": _matching(s, "kms_key_arn", KMS_KEY_ARN, "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)",
                                 default=None),
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


validate_store.fields = ("bucket", "region", "endpoint_url", "sts_endpoint_url", "path_style", "emulator", "ca_bundle",
                         "kms_key_arn", "console_issuer", "auth")


def _matching(s: Section, name: str, pattern: re.Pattern, what: str, default: Any = ...) -> Any:
    value = s.get(name, str, default)
    if value is not None and not pattern.match(value):
        raise ConfigError(s.path(name), f"must be {what}")
    return value


def _url(s: Section, name: str, emulator: bool) -> str | None:
    value = s.get(name, str, None)
    if value is not None and not (value.startswith("https://") or (emulator and value.startswith("http://"))):
        raise ConfigError(s.path(name), "must be an https URL (plain http only for an emulator store in local mode)")
    return value.rstrip("/") if value else None


def _role_arn(auth: Section, options: dict) -> str:
    pattern = OTHER_ROLE_ARN if options["sts_endpoint_url"] else AWS_ROLE_ARN
    return _matching(auth, "role_arn", pattern, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")


def _keys(auth: Section) -> dict:
    return {name: validate_ref(auth.path(name), auth.get(name, object)) for name in ("access_key_id", "secret_access_key")}


def _assume_role(auth: Section, options: dict) -> dict:
    out: dict[str, Any] = {"method": "assume-role", "role_arn": _role_arn(auth, options),
                           "source_identity": auth.get("source_identity", bool, True),
                           "source_credentials_are_role": auth.get("source_credentials_are_role", bool, None)}
    external_id = auth.get("external_id", (str, dict), None)
    if isinstance(external_id, str) and not EXTERNAL_ID.match(external_id):
        raise ConfigError(auth.path("external_id"), "must be 2-1224 characters of A-Z, a-z, 0-9 and +=,.@:/-_")
    out["external_id"] = validate_ref(auth.path("external_id"), external_id) if isinstance(external_id, dict) else external_id
    source = auth.get("source", (str, dict), "default")
    if isinstance(source, str):
        if source != "default":
            raise ConfigError(auth.path("source"), "must be 'default' or {\"access_key_id\": ref, \"secret_access_key\": ref}")
        out["source"] = "default"
    else:
        out["source"] = _keys(Section(auth.path("source"), source, ("access_key_id", "secret_access_key")))
    out["session_tags"] = _session_tags(auth)
    return out


def _session_tags(auth: Section) -> dict[str, str]:
    import string

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


_AUTH_VALIDATORS = {"assume-role": _assume_role, "web-identity": _web_identity,
                    "federation-token": _long_term_keys, "presign-only": _long_term_keys}


# -- the vendor ------------------------------------------------------------------------------------
class AwsS3Vendor(Vendor):
    provider = "aws-s3"
    formats = frozenset({"native", "iceberg", "credential_process", "console", "container_credentials"})

    def __init__(self, store, context):
        super().__init__(store, context)
        from ..aws.formats import FEDERATION_ENDPOINTS
        from ..aws.policy import partition_of
        from ..aws.sessions import MINTERS

        o = store.options
        method = o["auth"]["method"]
        self._minter = MINTERS[method](o, context.secrets) if method in MINTERS else None
        # An S3-compatible store has no AWS console; nor has a partition whose sign-in endpoint is not known.
        if o["endpoint_url"] or partition_of(o["region"]) not in FEDERATION_ENDPOINTS:
            self.formats = self.formats - {"console"}

    def _policy(self, path: str, access: str):
        from ..aws.policy import UnsafePolicyInput, session_policy

        o = self.store.options
        try:
            policy = session_policy(o["bucket"], path, access, region=o["region"], kms_key_arn=o["kms_key_arn"])
        except UnsafePolicyInput as exc:
            raise bad_request(str(exc), "bad-path") from None
        policy.check_size()
        return policy

    def _mint(self, grant: Grant, path: str, access: str):
        from ..aws.sessions import clamp_duration

        policy = self._policy(path, access)
        duration = clamp_duration(grant.ttl_seconds, self.store.ttl_max, self._minter.max_duration)
        return self._minter.mint(grant.principal, policy, duration)

    def issue(self, grant: Grant) -> IssuedCredential:
        from ..aws import formats

        o = self.store.options
        if self._minter is None:
            raise Problem(400, "credentials-unsupported", "This store hands out signed URLs only",
                          f"store '{self.store.id}' has no STS: ask POST /api/v1/signed-urls for each object")
        if grant.access == "list" and not grant.is_prefix:
            raise bad_request("'list' needs a prefix (ending with '/') or the whole bucket: listing by an object's "
                              "name would show other objects whose names start with it", "list-needs-prefix")
        session = self._mint(grant, grant.path, grant.access)
        where = dict(region=o["region"], endpoint_url=o["endpoint_url"], path_style=o["path_style"])
        iceberg_prefix, iceberg_config = formats.iceberg(session, bucket=o["bucket"], path=grant.path, **where)
        return IssuedCredential(
            credential_id=session.access_key_id,
            provider=self.provider,
            scope={"bucket": o["bucket"], "prefix" if grant.is_prefix else "object": grant.path},
            issued_at=self.context.clock(),
            expires_at=session.expiration,
            credentials=formats.native_credentials(session, bucket=o["bucket"], **where),
            storage_options=formats.storage_options(session, **where),
            iceberg_prefix=iceberg_prefix,
            iceberg_config=iceberg_config,
            extra={"session": session},
        )

    def render(self, fmt: str, credential: IssuedCredential, grant: Grant) -> dict[str, Any]:
        from ..aws import formats

        session = credential.extra["session"]
        if fmt == "credential_process":
            return formats.credential_process(session)
        if fmt == "container_credentials":
            return formats.container_credentials(session)
        if fmt == "console":
            o = self.store.options
            if formats.console_needs_fresh_session(session, self.context.clock()):
                credential = self._fresh_for_console(grant)
                session = credential.extra["session"]
            url = formats.console_url(session, region=o["region"], bucket=o["bucket"], path=grant.path,
                                      now=self.context.clock(), issuer=o["console_issuer"])
            body = credential.body(grant.store.id, grant.access)
            return {k: body[k] for k in ("credential_id", "store", "provider", "scope", "access", "issued_at",
                                         "expires_at")} | {"console_url": url}
        return super().render(fmt, credential, grant)

    def _fresh_for_console(self, grant: Grant) -> IssuedCredential:
        """A new session for a console link: the cached one has less left than a console session lasts.

        Audited here, because the request's own record names the cached session it was handed.
        """
        from .. import audit

        credential = self.issue(grant)
        audit.record("issue", "issued", principal=grant.principal, store=self.store.id, provider=self.provider,
                     scope=credential.scope, access=grant.access, ttl_seconds=grant.ttl_seconds,
                     expires_at=iso(credential.expires_at), credential_id=credential.credential_id, cached=False,
                     format="console", reason="console-needs-a-longer-session")
        return credential

    def sign_url(self, grant: Grant, method: str, content_type: str | None) -> SignedUrl:
        from ..aws.clients import CLIENTS, Keys

        o = self.store.options
        now = self.context.clock()
        expires_in = min(grant.ttl_seconds, SIGV4_MAX_SECONDS)
        if self._minter is None:
            keys = Keys(self.context.secrets.resolve(o["auth"]["access_key_id"]),
                        self.context.secrets.resolve(o["auth"]["secret_access_key"]))
            credential_id = None
        else:
            # A session for this one object and method; the URL never outlives it.
            session = self._mint(grant, grant.path, METHOD_ACCESS[method])
            now = self.context.clock()  # after STS answered: the URL is signed from now on
            keys = Keys(session.access_key_id, session.secret_access_key, session.session_token)
            expires_in = max(1, min(expires_in, int((session.expiration - now).total_seconds())))
            credential_id = session.access_key_id
        params = {"Bucket": o["bucket"], "Key": grant.path}
        headers = {}
        if method == "PUT" and content_type:
            params["ContentType"] = headers["Content-Type"] = content_type
        url = CLIENTS.presigned_url(o["region"], o["endpoint_url"], keys, S3_OPERATIONS[method], params, expires_in,
                                    method, ca_bundle=o["ca_bundle"], path_style=o["path_style"])
        return SignedUrl(url=url, method=method, headers=headers, expires_at=now + timedelta(seconds=expires_in),
                         credential_id=credential_id or fingerprint(url, "s3url"))


VENDOR = AwsS3Vendor
__all__ = ["VENDOR", "validate_store"]
