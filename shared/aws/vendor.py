"""AWS S3 and S3-compatible stores: the vendor of scoped STS sessions and presigned URLs (docs/aws.md).

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

import hashlib
from datetime import timedelta
from typing import Any

from .. import audit
from ..access import METHOD_ACCESS
from ..authz import Grant
from ..clock import iso
from ..errors import bad_request, problem, unavailable
from ..kinds.contract import IssuedCredential, SignedUrl, Vendor
from . import formats
from .clients import CLIENTS, Keys
from .config import S3_OPERATIONS, SIGV4_MAX_SECONDS
from .formats import FEDERATION_ENDPOINTS
from .policy import UnsafePolicyInput, partition_of, session_policy
from .sessions import MINTERS, clamp_duration


class AwsS3Vendor(Vendor):
    provider = "aws-s3"
    formats = frozenset({"native", "iceberg", "credential_process", "console", "container_credentials", "duckdb"})

    def __init__(self, store, context):
        super().__init__(store, context)
        o = store.options
        method = o["auth"]["method"]
        self._minter = MINTERS[method](o, context.secrets) if method in MINTERS else None
        # An S3-compatible store has no AWS console; nor has a partition whose sign-in endpoint is not known.
        if o["endpoint_url"] or partition_of(o["region"]) not in FEDERATION_ENDPOINTS:
            self.formats = self.formats - {"console"}

    def _policy(self, path: str, access: str):
        o = self.store.options
        try:
            policy = session_policy(o["bucket"], path, access, region=o["region"], kms_key_arn=o["kms_key_arn"])
        except UnsafePolicyInput as exc:
            raise bad_request(str(exc), "bad-path") from None
        policy.check_size()
        return policy

    def _mint(self, grant: Grant, path: str, access: str):
        policy = self._policy(path, access)
        duration = clamp_duration(grant.ttl_seconds, self.store.ttl_max, self._minter.max_duration)
        return self._minter.mint(grant.principal, policy, duration)

    def offers(self, prefix: str, access: str) -> tuple[str, ...]:
        """A presign-only store (no STS) hands out signed URLs only."""
        shapes = super().offers(prefix, access)
        return shapes if self._minter is not None else tuple(s for s in shapes if s != "credential")

    def issue(self, grant: Grant) -> IssuedCredential:
        o = self.store.options
        if self._minter is None:
            raise problem(
                "credentials-unsupported",
                f"store '{self.store.id}' has no STS: ask POST /api/v1/signed-urls for each object",
            )
        if grant.access == "list" and not grant.is_prefix:
            raise bad_request(
                "'list' needs a prefix (ending with '/') or the whole bucket: listing by an object's "
                "name would show other objects whose names start with it",
                "list-needs-prefix",
            )
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
            duckdb_secret=formats.duckdb_s3(
                session.access_key_id, session.secret_access_key, session.session_token, **where
            ),
            duckdb_scope=iceberg_prefix,
            extra={"session": session},
        )

    def render(self, fmt: str, credential: IssuedCredential, grant: Grant) -> dict[str, Any]:
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
            url = formats.console_url(
                session,
                region=o["region"],
                bucket=o["bucket"],
                path=grant.path,
                now=self.context.clock(),
                issuer=o["console_issuer"],
            )
            body = credential.body(grant.store.id, grant.access)
            return {
                k: body[k] for k in ("credential_id", "store", "provider", "scope", "access", "issued_at", "expires_at")
            } | {"console_url": url}
        return super().render(fmt, credential, grant)

    def _fresh_for_console(self, grant: Grant) -> IssuedCredential:
        """A new session for a console link: the cached one has less left than a console session lasts.

        Audited here, because the request's own record names the cached session it was handed.
        """
        credential = self.issue(grant)
        audit.record(
            "issue",
            "issued",
            principal=grant.principal,
            store=self.store.id,
            provider=self.provider,
            scope=credential.scope,
            access=grant.access,
            ttl_seconds=grant.ttl_seconds,
            expires_at=iso(credential.expires_at),
            credential_id=credential.credential_id,
            cached=False,
            format="console",
            reason="console-needs-a-longer-session",
        )
        return credential

    def sign_url(self, grant: Grant, method: str, content_type: str | None) -> SignedUrl:
        o = self.store.options
        now = self.context.clock()
        expires_in = min(grant.ttl_seconds, SIGV4_MAX_SECONDS)
        if self._minter is None:
            keys = Keys(
                self.context.secrets.resolve(o["auth"]["access_key_id"]),
                self.context.secrets.resolve(o["auth"]["secret_access_key"]),
            )
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
        url = CLIENTS.presigned_url(
            o["region"],
            o["endpoint_url"],
            keys,
            S3_OPERATIONS[method],
            params,
            expires_in,
            method,
            ca_bundle=o["ca_bundle"],
            path_style=o["path_style"],
        )
        return SignedUrl(
            url=url,
            method=method,
            headers=headers,
            expires_at=now + timedelta(seconds=expires_in),
            credential_id=credential_id or _url_id(url),
        )

    def list_keys(self, principal, prefix: str, limit: int) -> list[str]:
        """The keys under ``prefix`` (at most ``limit`` + 1, so a caller sees that there are more), listed
        with a session that may list that prefix only (a presign-only store lists with its HMAC keys)."""
        from botocore.exceptions import BotoCoreError, ClientError

        o = self.store.options
        if self._minter is None:
            keys = Keys(
                self.context.secrets.resolve(o["auth"]["access_key_id"]),
                self.context.secrets.resolve(o["auth"]["secret_access_key"]),
            )
        else:
            grant = Grant(principal, self.store, prefix, "list", self.store.ttl_default, "accessmanager-commit")
            session = self._mint(grant, prefix, "list")
            keys = Keys(session.access_key_id, session.secret_access_key, session.session_token)
        client = CLIENTS.session_client("s3", o["region"], o["endpoint_url"], keys, o["ca_bundle"], o["path_style"])
        names: list[str] = []
        try:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=o["bucket"], Prefix=prefix):
                for item in page.get("Contents", ()):
                    names.append(item["Key"])
                    if len(names) > limit:
                        return names
        except (BotoCoreError, ClientError) as exc:
            raise unavailable(f"S3 did not list the bucket ({type(exc).__name__})") from None
        return names


def _url_id(url: str) -> str:
    """A presign-only URL has no session: its id is a stable, non-reversible hash of it."""
    return "s3url-" + hashlib.sha256(url.encode()).hexdigest()[:24]


__all__ = ["AwsS3Vendor"]
