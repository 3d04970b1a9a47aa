"""Google Cloud Storage: V4 signed URLs and downscoped tokens (docs/gcs.md).

- **Downscoped tokens** for the whole bucket, a prefix or one object: a source token (see
  ``shared.gcp.sources``) exchanged at Google's STS for a token cut down by the grant's Credential
  Access Boundary (``shared.gcp.boundary``, google-auth's ``downscoped`` module). The token lives as
  long as its source: exactly the TTL asked for when the store impersonates a service account,
  else the source token's hour. ``expires_at`` is the earlier of STS's answer and the source's expiry.
- **V4 signed URLs** for one object and one method, signed by google-cloud-storage with the key, or
  keylessly through IAM Credentials ``signBlob``. A URL lives its clamped TTL, at most 7 days with a
  key and 12 hours through ``signBlob``. A ``PUT`` carries the content type, when given, and
  ``x-goog-if-generation-match: 0`` in its signature: it creates an object and never replaces one, as
  the ``write`` level's ``objectCreator`` role does (replacing takes ``delete``).

google-auth and google-cloud-storage are imported inside the methods that use them.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from ..authz import Grant
from ..clock import iso
from ..errors import bad_request, problem
from ..kinds.contract import IssuedCredential, SignedUrl, Vendor
from . import boundary
from .config import GOOGLE_STORAGE, KEY_SIGNED_URL_MAX, KEYLESS_SIGNED_URL_MAX
from .google_http import Transport, problem_for
from .names import object_problem
from .sources import Sources, is_keyless

PUT_PRECONDITION = {"x-goog-if-generation-match": "0"}
_SIGNED_AT = re.compile(r"[?&]X-Goog-Date=(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z&X-Goog-Expires=(\d+)&")


class GcsVendor(Vendor):
    provider = "gcs"
    formats = frozenset({"native", "iceberg"})

    def __init__(self, store, context):
        super().__init__(store, context)
        o = store.options
        self.transport = Transport(o["google_apis_url"])
        self.sources = Sources(o, context.secrets)
        self._bucket = o["bucket"]
        self._bucket_handle = None  # google-cloud-storage's Bucket on an anonymous client (signing only)

    # -- what the store offers ---------------------------------------------------------------------
    def offers(self, prefix: str, access: str) -> tuple[str, ...]:
        """A federation store without a service account to impersonate has no one to sign URLs as."""
        shapes = super().offers(prefix, access)
        return shapes if self.sources.may_sign else tuple(s for s in shapes if s != "signed-url")

    def _check_path(self, path: str) -> None:
        why = object_problem(path)
        if why:
            raise bad_request(why, "bad-path")

    # -- downscoped tokens ---------------------------------------------------------------------------
    def issue(self, grant: Grant) -> IssuedCredential:
        o = self.store.options
        if grant.access == "list" and not grant.is_prefix:
            raise bad_request(
                "'list' needs a prefix (ending with '/') or the whole bucket: listing by an object's name would "
                "show other objects whose names start with it",
                "list-needs-prefix",
            )
        self._check_path(grant.path)
        try:
            document = boundary.access_boundary([boundary.Scope(self._bucket, grant.path, grant.access)])
        except boundary.TooManyRules as exc:
            raise problem("policy-too-large", str(exc)) from None
        except boundary.UnsafeBoundaryInput as exc:
            raise bad_request(str(exc), "bad-path") from None
        lifetime = min(grant.ttl_seconds, self.sources.auth["token_lifetime_max"])
        token, expires_at = self._downscoped_token(document, lifetime)
        now = self.context.clock()
        credential_id = f"gcs-{uuid.uuid4().hex[:24]}"
        endpoint = None if o["endpoint_url"] == GOOGLE_STORAGE else o["endpoint_url"]
        scope = {"bucket": self._bucket, "prefix" if grant.is_prefix else "object": grant.path}
        storage_options: dict[str, Any] = {"token": token, "project": o["project"]}
        if endpoint:
            storage_options["endpoint_url"] = endpoint
        iceberg = {
            "gcs.oauth2.token": token,
            "gcs.oauth2.token-expires-at": str(int(expires_at.timestamp()) * 1000),
        }
        if o["project"]:
            iceberg["gcs.project-id"] = o["project"]
        if endpoint:
            iceberg["gcs.service.host"] = endpoint
        return IssuedCredential(
            credential_id=credential_id,
            provider=self.provider,
            scope=scope,
            issued_at=now,
            expires_at=expires_at,
            credentials={
                "access_token": token,
                "token_type": "Bearer",
                "expiration": iso(expires_at),
                "bucket": self._bucket,
                "project": o["project"],
                "endpoint_url": endpoint,
            },
            storage_options=storage_options,
            iceberg_prefix=f"gs://{self._bucket}/{grant.path}",
            iceberg_config=iceberg,
        )

    def _downscoped_token(self, document: dict, lifetime: int) -> tuple[str, datetime]:
        """Mint a source token and exchange it at STS for one limited by ``document``."""
        from google.auth import downscoped

        call = self.transport.call()
        try:
            cab = downscoped.CredentialAccessBoundary(
                rules=[_rule(r) for r in document["accessBoundary"]["accessBoundaryRules"]]
            )
            source = self.sources.token_source(call, lifetime)
            credentials = downscoped.Credentials(source_credentials=source, credential_access_boundary=cab)
            credentials.refresh(call)
        except Exception as exc:  # noqa: BLE001 - problem_for re-raises what is not Google's or the network's
            raise problem_for(exc, call, lifetime if self.sources.exact_lifetimes else None) from None
        expiries = [_aware(e) for e in (credentials.expiry, source.expiry) if e is not None]
        if not credentials.token or not expiries:
            raise problem_for(OSError("STS answered without a token or an expiry"), call)
        return credentials.token, min(expiries).replace(microsecond=0)

    # -- signed URLs ---------------------------------------------------------------------------------
    def sign_url(self, grant: Grant, method: str, content_type: str | None) -> SignedUrl:
        o = self.store.options
        self._check_path(grant.path)
        if not self.sources.may_sign:
            raise problem(
                "signed-urls-unsupported",
                f"store '{self.store.id}' federates without a service account to sign as; its operators can "
                "set auth.impersonate",
            )
        headers: dict[str, str] = {}
        if method == "PUT":
            headers.update(PUT_PRECONDITION)
            if content_type:
                headers["Content-Type"] = content_type
        call = self.transport.call()
        try:
            signer = self.sources.signer(call)
            if signer is None:
                raise problem(
                    "signed-urls-unsupported",
                    f"store '{self.store.id}' has no service account to sign as; its operators can set "
                    "auth.impersonate",
                )
            # A key signs for up to 7 days; signBlob's signature is only good for 12 hours.
            limit = KEYLESS_SIGNED_URL_MAX if is_keyless(signer) else KEY_SIGNED_URL_MAX
            expires_in = min(grant.ttl_seconds, limit)
            url = self._blob(grant.path).generate_signed_url(
                version="v4",
                expiration=expires_in,
                method=method,
                headers={k: v for k, v in headers.items() if k != "Content-Type"} or None,
                content_type=headers.get("Content-Type"),
                credentials=signer,
                api_access_endpoint=o["endpoint_url"],
            )
        except Exception as exc:  # noqa: BLE001 - problem_for re-raises what is not Google's or the network's
            raise problem_for(exc, call) from None
        stamp = _SIGNED_AT.search(url)
        if stamp is None:  # google-cloud-storage always writes both; a change there is a bug
            raise RuntimeError("a V4 signed URL without X-Goog-Date or X-Goog-Expires")
        y, mo, d, h, mi, s, seconds = (int(g) for g in stamp.groups())
        expires_at = datetime(y, mo, d, h, mi, s, tzinfo=UTC) + timedelta(seconds=seconds)
        return SignedUrl(
            url=url,
            method=method,
            headers=headers,
            expires_at=expires_at,
            credential_id="gcsurl-" + hashlib.sha256(url.encode()).hexdigest()[:24],
        )

    def _blob(self, name: str):
        """A blob of the store's bucket: what google-cloud-storage signs URLs for (no request is made)."""
        from google.cloud import storage

        bucket = self._bucket_handle
        if bucket is None:  # built twice at worst: harmless
            bucket = self._bucket_handle = storage.Bucket(storage.Client.create_anonymous_client(), self._bucket)
        return storage.Blob(name, bucket=bucket)


def _rule(rule: dict):
    """A boundary rule of ``shared.gcp.boundary`` as google-auth's ``AccessBoundaryRule``."""
    from google.auth import downscoped

    condition = rule.get("availabilityCondition")
    return downscoped.AccessBoundaryRule(
        available_resource=rule["availableResource"],
        available_permissions=list(rule["availablePermissions"]),
        availability_condition=downscoped.AvailabilityCondition(condition["expression"], condition.get("title") or None)
        if condition
        else None,
    )


def _aware(moment: datetime) -> datetime:
    """google-auth keeps expiries as naive UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


__all__ = ["GcsVendor"]
