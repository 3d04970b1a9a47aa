"""botocore clients for STS and S3: created lazily, once per (service, region, endpoint, credentials).

One private botocore session per process loads the service models once; clients are thread-safe
once built, but building them is not, so creation happens under a lock (a cached client is found
without it). A presigned URL signed with a session's keys builds no client: see
:meth:`ClientFactory.presigned_url`. Every client has short
connect/read timeouts and ``standard`` retries (throttling and transient errors, 3 attempts), and
STS uses its regional endpoint (never the global ``sts.amazonaws.com``) unless the store names one.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from dataclasses import dataclass
from typing import Any

CONNECT_TIMEOUT = 2
READ_TIMEOUT = 5
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Keys:
    """Explicit AWS credentials (long-term IAM-user keys, HMAC keys, or a session)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def cache_key(self) -> tuple[str, str]:
        # The secret identifies the client too (a rotated secret needs a new client) but is not kept in clear.
        return self.access_key_id, hashlib.sha256(f"{self.secret_access_key}|{self.session_token}".encode()).hexdigest()

    def __repr__(self) -> str:  # never print a secret by accident
        return f"Keys(access_key_id={self.access_key_id!r}, secret_access_key='***')"


# The credentials of the one S3 client per (region, endpoint, tls, addressing) that prepares presigned
# URLs: never used to sign (each URL is signed with the keys it is asked for), so no secret is kept.
_PRESIGN_BASE_KEYS = Keys("presign-base", "presign-base")


class _SignedWith:
    """A client seen with another request signer: what ``generate_presigned_url`` reads of it.

    botocore's ``generate_presigned_url(client, ...)`` prepares the request with the client's
    (thread-safe) endpoint rules and serializer, then signs it with ``client._request_signer``.
    """

    def __init__(self, client, request_signer):
        self._client = client
        self._request_signer = request_signer

    def __getattr__(self, name):
        return getattr(self._client, name)


class ClientFactory:
    """Builds and keeps botocore clients; one per distinct (service, region, endpoint, keys, tls)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._session = None
        self._clients: dict[tuple, Any] = {}
        self._default_temporary: bool | None = None

    def _botocore_session(self):
        if self._session is None:
            import botocore.session

            session = botocore.session.get_session()
            session.set_config_variable("sts_regional_endpoints", "regional")
            self._session = session
        return self._session

    def _config(self, service: str, path_style: bool, unsigned: bool):
        from botocore import UNSIGNED
        from botocore.config import Config

        extra: dict[str, Any] = {"s3": {"addressing_style": "path"}} if path_style else {}
        if unsigned:
            extra["signature_version"] = UNSIGNED
        elif service == "s3":
            extra["signature_version"] = "s3v4"  # presigned URLs too (never SigV2)
        return Config(
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
            **extra,
        )

    def client(
        self,
        service: str,
        region: str,
        endpoint_url: str | None = None,
        keys: Keys | None = None,
        ca_bundle: str | None = None,
        path_style: bool = False,
        unsigned: bool = False,
    ):
        """A client for ``service``; ``keys=None`` uses the default credential chain of the runtime.

        ``unsigned`` sends requests without credentials (AssumeRoleWithWebIdentity).
        """
        key = (service, region, endpoint_url, keys.cache_key() if keys else None, ca_bundle, path_style, unsigned)
        found = self._clients.get(key)  # one dict read: never waits for a build
        if found is not None:
            return found
        with self._lock:
            found = self._clients.get(key)
            if found is not None:
                return found
            client = self._build(service, region, endpoint_url, keys, ca_bundle, path_style, unsigned)
            self._clients[key] = client
            return client

    def session_client(
        self, service: str, region: str, endpoint_url: str | None, keys: Keys, ca_bundle: str | None, path_style: bool
    ):
        """A client for one short session's keys, not kept (kept, every session would stay in memory)."""
        with self._lock:
            return self._build(service, region, endpoint_url, keys, ca_bundle, path_style, False)

    def _build(self, service, region, endpoint_url, keys, ca_bundle, path_style, unsigned):
        kwargs: dict[str, Any] = {"region_name": region, "config": self._config(service, path_style, unsigned)}
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        if ca_bundle:
            kwargs["verify"] = ca_bundle
        if keys is not None:
            kwargs.update(
                aws_access_key_id=keys.access_key_id,
                aws_secret_access_key=keys.secret_access_key,
                aws_session_token=keys.session_token,
            )
        return self._botocore_session().create_client(service, **kwargs)

    def presigned_url(
        self,
        region: str,
        endpoint_url: str | None,
        keys: Keys,
        operation: str,
        params: dict,
        expires_in: int,
        http_method: str,
        *,
        ca_bundle: str | None = None,
        path_style: bool = False,
    ) -> str:
        """An S3 presigned URL signed with ``keys`` (typically a session minted for this one URL).

        Building a client per session costs ~5 ms. Instead one cached client per (region, endpoint,
        tls, addressing) prepares the request and a copy of its request signer, holding ``keys`` as
        frozen credentials, signs it: nothing shared is changed and no lock is held.
        """
        from botocore.credentials import Credentials
        from botocore.signers import generate_presigned_url

        base = self.client("s3", region, endpoint_url, _PRESIGN_BASE_KEYS, ca_bundle, path_style)
        signer = copy.copy(base._request_signer)
        signer._credentials = Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
        return generate_presigned_url(
            _SignedWith(base, signer), operation, Params=params, ExpiresIn=expires_in, HttpMethod=http_method
        )

    def default_credentials_are_temporary(self) -> bool:
        """True when the runtime's default credentials carry a session token (a role session).

        Looked up once. The lookup may call IMDS or the container credentials endpoint, so it runs
        outside the lock (clients are built meanwhile); a failed lookup raises and is not kept.
        """
        if self._default_temporary is None:
            with self._lock:
                session = self._botocore_session()
            credentials = session.get_credentials()
            temporary = bool(credentials is not None and credentials.get_frozen_credentials().token)
            with self._lock:
                if self._default_temporary is None:
                    self._default_temporary = temporary
        return self._default_temporary


CLIENTS = ClientFactory()
