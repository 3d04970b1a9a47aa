"""Azure Blob Storage / ADLS Gen2: the SAS vendor (docs/design.md, Azure Blob).

- User-delegation SAS (recommended by Microsoft) signed with a delegation key obtained through
  azure-identity: service principal, managed identity, workload identity or the default chain.
  The key is cached per account and reused until it no longer covers a new SAS.
- Account-key SAS from a connection string or an account key held by secret reference.
- Scope: the container (``sr=c``), a directory (``sr=d`` + ``sdd``; hierarchical-namespace
  accounts only) or one blob (``sr=b``). A prefix on a flat-namespace account is refused with a
  400 that points to per-object signed URLs: a SAS is never broader than the grant.
- https only (``spr=https``), start back-dated for clock skew, expiry clamped to the store's
  maximum and, for user delegation, to 7 days.
- Every issuance has its own credential id ``sas-<24 hex>``. A user-delegation SAS carries it as
  its signed correlation id (``scid``), which storage logs record, so two callers' identical
  requests in one second still get distinct tokens (not on Azurite, which does not know ``scid``).
  An account-key SAS has no such field: two identical requests in the same second get the same
  token, told apart by the audit log's credential id only.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from ..authz import Grant
from ..errors import problem, unavailable
from ..kinds.contract import IssuedCredential, SignedUrl, Vendor

log = logging.getLogger("tvs.azure")


def _azure_failures() -> tuple[type[BaseException], ...]:
    """What Azure AD or storage failing raises: the SDK's errors, and the ValueError (a JSONDecodeError)
    azure-identity lets through when a token endpoint answers something that is not JSON (an HTML page)."""
    from azure.core.exceptions import AzureError

    return (AzureError, ValueError)


# Bounded retries with jitter. The storage SDK's own default waits 15 s, then 18 s, between attempts:
# a delegation key that storage refuses would answer after half a minute, past API Gateway's 30 s.
# Here: 3 attempts, about 1 s then 3 s apart (each ±1 s), within 5 s connect and 10 s read timeouts.
STORAGE_CLIENT_OPTIONS: dict[str, Any] = {
    "connection_timeout": 5,
    "read_timeout": 10,
    "retry_total": 2,
    "initial_backoff": 1,
    "increment_base": 2,
    "random_jitter_range": 1,
}
# Token endpoints (managed identity, Entra ID): 3 attempts, backoff from 0.5 s doubling, at most 4 s.
CREDENTIAL_RETRY: dict[str, Any] = {"retry_total": 2, "retry_backoff_factor": 0.5, "retry_backoff_max": 4}

CLOCK_SKEW = timedelta(minutes=5)
USER_DELEGATION_MAX = timedelta(days=7)
DELEGATION_KEY_MIN_LIFE = timedelta(hours=24)
# Access levels (docs/design.md, Access levels); blob-scoped SAS has no "list" (and "r" would read
# the blob), so it is refused.
CONTAINER_PERMISSIONS = {"list": "l", "read": "rl", "write": "racwl", "delete": "racwdl"}
BLOB_PERMISSIONS = {"read": "r", "write": "racw", "delete": "racwd"}
METHOD_PERMISSIONS = {"GET": "r", "HEAD": "r", "PUT": "cw", "DELETE": "d"}


def parse_connection_string(text: str) -> dict[str, str]:
    parts = dict(p.split("=", 1) for p in text.split(";") if "=" in p)
    if "AccountName" not in parts or "AccountKey" not in parts:
        raise unavailable("the Azure connection string lacks AccountName or AccountKey", slug="store-misconfigured")
    if "BlobEndpoint" not in parts:
        proto = parts.get("DefaultEndpointsProtocol", "https")
        suffix = parts.get("EndpointSuffix", "core.windows.net")
        parts["BlobEndpoint"] = f"{proto}://{parts['AccountName']}.blob.{suffix}"
    return parts


class EmulatorTokenCredential:
    """Azurite's ``--oauth basic`` accepts any well-formed bearer token: local mode only."""

    def get_token(self, *scopes, **kwargs):
        import time

        import jwt
        from azure.core.credentials import AccessToken

        now = int(time.time())
        claims = {
            "aud": "https://storage.azure.com",
            "iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000000/",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "oid": "local-dev",
            "tid": "00000000-0000-0000-0000-000000000000",
        }
        return AccessToken(
            jwt.encode(claims, "local-emulator-not-a-secret-0123456789abcdef", algorithm="HS256"), now + 3600
        )


class AzureBlobVendor(Vendor):
    provider = "azure-blob"
    formats = frozenset({"native", "iceberg", "duckdb"})

    def __init__(self, store, context):
        super().__init__(store, context)
        self._lock = threading.Lock()  # guards the cached fields; never held during a network call
        self._renewing = threading.Lock()  # one delegation-key request at a time
        self._account: tuple[str, str, str | None] | None = None  # (account_url, account_name, account_key)
        self._service_client = None
        self._delegation_key = None
        self._delegation_key_expiry: datetime | None = None

    # -- account and keys -------------------------------------------------------------------
    def _account_info(self) -> tuple[str, str, str | None]:
        account = self._account
        if account is None:
            # Resolved outside the lock (a secret may live in a remote store); resolving twice is harmless.
            o = self.store.options
            if o["method"] == "account-key" and o.get("connection_string"):
                parts = parse_connection_string(self.context.secrets.resolve(o["connection_string"]))
                account = (parts["BlobEndpoint"].rstrip("/"), parts["AccountName"], parts["AccountKey"])
            else:
                url = o["account_url"].rstrip("/")
                name = o["account_name"] or _account_name_from_url(url)
                key = self.context.secrets.resolve(o["account_key"]) if o["method"] == "account-key" else None
                account = (url, name, key)
            with self._lock:
                self._account = self._account or account
                account = self._account
        return account

    def _token_credential(self):
        o = self.store.options
        method = o["method"]
        if method == "emulator-token":
            return EmulatorTokenCredential()
        import azure.identity as identity

        bounded = CREDENTIAL_RETRY  # a failing token endpoint answers 503 within seconds, not minutes
        if method == "service-principal":
            return identity.ClientSecretCredential(
                o["tenant_id"], o["client_id"], self.context.secrets.resolve(o["client_secret"]), **bounded
            )
        if method == "managed-identity":
            return identity.ManagedIdentityCredential(client_id=o.get("client_id"), **bounded)
        if method == "workload-identity":
            return (
                identity.WorkloadIdentityCredential(client_id=o.get("client_id"), **bounded)
                if o.get("client_id")
                else identity.WorkloadIdentityCredential(**bounded)
            )
        return identity.DefaultAzureCredential(exclude_interactive_browser_credential=True, **bounded)

    def _cached_delegation_key(self, needed_until: datetime):
        with self._lock:
            expiry = self._delegation_key_expiry
            if (
                self._delegation_key is not None
                and expiry is not None
                and expiry >= needed_until + timedelta(minutes=5)
            ):
                return self._delegation_key
        return None

    def _user_delegation_key(self, needed_until: datetime):
        """The cached delegation key, renewed when it would not cover ``needed_until``.

        One renewal at a time, outside the cache lock: requests the current key still covers never
        wait for Azure AD.
        """
        key = self._cached_delegation_key(needed_until)
        if key is not None:
            return key
        with self._renewing:
            key = self._cached_delegation_key(needed_until)  # renewed by another request meanwhile
            if key is not None:
                return key
            service_client = self._blob_service()
            now = self.context.clock()
            life = max(timedelta(hours=self.store.options["delegation_key_hours"]), DELEGATION_KEY_MIN_LIFE)
            expiry = min(max(now + life, needed_until + timedelta(minutes=10)), now + USER_DELEGATION_MAX)
            try:
                key = service_client.get_user_delegation_key(now - CLOCK_SKEW, expiry)
            except _azure_failures() as exc:
                log.warning(
                    "store %s: no user delegation key from Azure AD / storage (%s); its vends answer 503 until "
                    "one can be had (check the identity's token and its Storage Blob Delegator role)",
                    self.store.id,
                    type(exc).__name__,
                )
                raise unavailable(
                    f"Azure AD / storage did not hand out a user delegation key ({type(exc).__name__})", retry_after=10
                ) from None
            with self._lock:
                self._delegation_key, self._delegation_key_expiry = key, expiry
            return key

    def _blob_service(self):
        """The service's own data-plane client for this account (account key, or the token credential),
        built once; it asks for delegation keys and, for the access-manager API, checks, creates and
        lists containers."""
        with self._lock:
            client = self._service_client
        if client is not None:
            return client
        from azure.storage.blob import BlobServiceClient

        account_url, account_name, account_key = self._account_info()
        o = self.store.options
        credential: Any = (
            {"account_name": account_name, "account_key": account_key} if account_key else self._token_credential()
        )
        kwargs = {"connection_verify": o["ca_bundle"]} if o["ca_bundle"] else {}
        client = BlobServiceClient(account_url, credential=credential, **STORAGE_CLIENT_OPTIONS, **kwargs)
        with self._lock:
            self._service_client = self._service_client or client
            return self._service_client

    # -- SAS ----------------------------------------------------------------------------------
    def _window(self, ttl_seconds: int) -> tuple[datetime, datetime, datetime]:
        now = self.context.clock().replace(microsecond=0)
        expiry = now + timedelta(seconds=ttl_seconds)
        if self.store.options["method"] != "account-key":
            expiry = min(expiry, now + USER_DELEGATION_MAX - timedelta(minutes=10))
        return now, now - CLOCK_SKEW, expiry

    def _protocol(self, account_url: str) -> str | None:
        # spr=https unless this is the local emulator on plain http.
        return None if account_url.startswith("http://") else "https"

    def _sign(
        self, sr: str, path: str, permission: str, start: datetime, expiry: datetime, container: str | None = None
    ) -> tuple[str, str]:
        """The SAS and its credential id (for user delegation, also its signed correlation id ``scid``).
        ``container`` defaults to the store's own."""
        from azure.storage.blob import generate_blob_sas, generate_container_sas

        account_url, account_name, account_key = self._account_info()
        container = container or self.store.options["container"]
        issuance = uuid.uuid4().hex[:24]
        signing = (
            {"account_key": account_key} if account_key else {"user_delegation_key": self._user_delegation_key(expiry)}
        )
        common: dict[str, Any] = dict(
            permission=permission, expiry=expiry, start=start, protocol=self._protocol(account_url)
        )
        if not account_key and not self.store.options["emulator"]:
            common["correlation_id"] = issuance  # Azurite leaves scid out of the signature it checks
        if sr == "c":
            sas = generate_container_sas(account_name, container, **signing, **common)
        elif sr == "b":
            sas = generate_blob_sas(account_name, container, path, **signing, **common)
        else:
            from azure.storage.filedatalake import generate_directory_sas

            credential = account_key or signing["user_delegation_key"]
            sas = generate_directory_sas(account_name, container, path.rstrip("/"), credential, **common)
        return sas, f"sas-{issuance}"

    def offers(self, prefix: str, access: str) -> tuple[str, ...]:
        """A flat-namespace account scopes a SAS to the whole container or one blob, never a prefix."""
        shapes = super().offers(prefix, access)
        if prefix and not self.store.options["hierarchical_namespace"]:
            shapes = tuple(s for s in shapes if s != "credential")
        return shapes

    def issue(self, grant: Grant) -> IssuedCredential:
        o = self.store.options
        if grant.path == "":
            sr, permission = "c", CONTAINER_PERMISSIONS[grant.access]
        elif grant.is_prefix:
            if not o["hierarchical_namespace"]:
                raise problem(
                    "prefix-scope-unsupported",
                    f"store '{self.store.id}' is a flat-namespace account: a SAS can cover the whole container "
                    "or one blob, never a prefix. Ask POST /api/v1/signed-urls for each object, or ask for "
                    "the whole store if you are granted it.",
                )
            sr, permission = "d", CONTAINER_PERMISSIONS[grant.access]
        elif grant.access not in BLOB_PERMISSIONS:
            raise problem(
                "list-on-object",
                "a SAS for one blob cannot list without also reading it; ask for a prefix ending with '/' "
                "(or the whole store) to list, or for 'read' to read this blob",
            )
        else:
            sr, permission = "b", BLOB_PERMISSIONS[grant.access]
        issued, start, expiry = self._window(grant.ttl_seconds)
        sas, credential_id = self._sign(sr, grant.path, permission, start, expiry)
        account_url, account_name, _ = self._account_info()
        container_url = f"{account_url}/{o['container']}"
        credentials = {
            "sas_token": sas,
            "account_url": account_url,
            "account_name": account_name,
            "container": o["container"],
            "container_url": container_url,
            "sas_url": f"{container_url}/{quote(grant.path)}?{sas}" if sr == "b" else f"{container_url}?{sas}",
        }
        account_host, dfs_host = _hosts(account_url, account_name)
        return IssuedCredential(
            credential_id=credential_id,
            provider=self.provider,
            scope={
                "account": account_name,
                "container": o["container"],
                "prefix" if sr != "b" else "blob": grant.path,
                "resource": {"c": "container", "d": "directory", "b": "blob"}[sr],
            },
            issued_at=issued,
            expires_at=expiry,
            credentials=credentials,
            storage_options={"account_name": account_name, "sas_token": sas, "account_host": account_host},
            iceberg_prefix=f"abfss://{o['container']}@{dfs_host}/{grant.path}",
            iceberg_config=_iceberg_config(sas, expiry, account_name, account_host, dfs_host),
            duckdb_secret={
                "TYPE": "azure",
                "CONNECTION_STRING": f"BlobEndpoint={account_url};SharedAccessSignature={sas}",
            },
            duckdb_scope=f"az://{o['container']}/{grant.path}",
        )

    # -- whole containers of the account (the access-manager API: one container per space) ----------
    def container_sas(self, container: str, permission: str, ttl_seconds: int) -> IssuedCredential:
        """A SAS for the whole of ``container`` in this store's account, signed like every other SAS
        of the store (user delegation or account key). ``permission`` is a container SAS permission
        string such as ``rl``; ``container`` has been checked against the configuration."""
        issued, start, expiry = self._window(ttl_seconds)
        sas, credential_id = self._sign("c", "", permission, start, expiry, container=container)
        account_url, account_name, _ = self._account_info()
        container_url = f"{account_url}/{container}"
        return IssuedCredential(
            credential_id=credential_id,
            provider=self.provider,
            scope={"account": account_name, "container": container, "resource": "container", "permission": permission},
            issued_at=issued,
            expires_at=expiry,
            credentials={
                "sas_token": sas,
                "account_url": account_url,
                "account_name": account_name,
                "container": container,
                "container_url": container_url,
                "sas_url": f"{container_url}?{sas}",
            },
        )

    def container_exists(self, container: str) -> bool:
        try:
            return bool(self._blob_service().get_container_client(container).exists())
        except _azure_failures() as exc:
            raise unavailable(f"Azure storage did not answer ({type(exc).__name__})", retry_after=5) from None

    def create_container(self, container: str) -> None:
        """Create ``container`` (a container created meanwhile by someone else is fine)."""
        from azure.core.exceptions import ResourceExistsError

        try:
            self._blob_service().create_container(container)
        except ResourceExistsError:
            pass
        except _azure_failures() as exc:
            raise unavailable(f"Azure storage did not create the container ({type(exc).__name__})") from None

    def list_blob_names(self, container: str, prefix: str, limit: int) -> list[str] | None:
        """The names of the blobs of ``container`` under ``prefix``, at most ``limit`` + 1 of them
        (so a caller sees that there are more); None when the container does not exist."""
        from azure.core.exceptions import ResourceNotFoundError

        names: list[str] = []
        try:
            for name in self._blob_service().get_container_client(container).list_blob_names(name_starts_with=prefix):
                names.append(name)
                if len(names) > limit:
                    break
        except ResourceNotFoundError:
            return None
        except _azure_failures() as exc:
            raise unavailable(f"Azure storage did not list the container ({type(exc).__name__})") from None
        return names

    def sign_url(self, grant: Grant, method: str, content_type: str | None) -> SignedUrl:
        issued, start, expiry = self._window(grant.ttl_seconds)
        sas, credential_id = self._sign("b", grant.path, METHOD_PERMISSIONS[method], start, expiry)
        account_url, _, _ = self._account_info()
        headers = {"x-ms-blob-type": "BlockBlob"} if method == "PUT" else {}
        if method == "PUT" and content_type:
            headers["Content-Type"] = content_type
        url = f"{account_url}/{self.store.options['container']}/{quote(grant.path)}?{sas}"
        return SignedUrl(url=url, method=method, headers=headers, expires_at=expiry, credential_id=credential_id)


def _hosts(account_url: str, account_name: str) -> tuple[str, str]:
    """(account host, dfs host). The account host is what adlfs puts after ``https://`` (with the
    account path of an emulator, ``127.0.0.1:10000/devstoreaccount1``); the dfs host names the account
    in an ``abfss://container@<dfs host>/`` location, where Iceberg readers look up its SAS."""
    parts = urlsplit(account_url)
    path = parts.path.strip("/")
    if path:  # emulator style: the account is a path segment, its canonical dfs host is made up
        return f"{parts.netloc}/{path}", f"{account_name}.dfs.core.windows.net"
    return parts.netloc, parts.netloc.replace(".blob.", ".dfs.")


def _iceberg_config(sas: str, expiry: datetime, account_name: str, account_host: str, dfs_host: str) -> dict[str, str]:
    """Iceberg's ADLS properties: the SAS keyed by the dfs host of the table's location (what Java
    Iceberg and PyIceberg look up), its expiry, and for an emulator the host to reach it on."""
    config = {
        f"adls.sas-token.{dfs_host}": sas,
        f"adls.sas-token-expires-at-ms.{dfs_host}": str(int(expiry.timestamp() * 1000)),
        "adls.account-name": account_name,
    }
    if account_host.split("/")[0] != dfs_host.replace(".dfs.", ".blob."):
        config["adls.account-host"] = account_host
    return config


def _account_name_from_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.path.strip("/"):  # emulator style: http://127.0.0.1:10000/devstoreaccount1
        return parts.path.strip("/").split("/")[0]
    return (parts.hostname or "").split(".")[0]


__all__ = ["AzureBlobVendor"]
