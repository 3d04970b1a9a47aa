"""Self-refreshing credentials for the cloud SDKs.

Each helper asks the service once, then renews by the half-life rule of :mod:`tvs_client.renew`
(renew once half of the credential's remaining life has passed, with up to 10 % jitter, never later
than ``min(60 s, life / 4)`` before expiry; one renewal at a time, other threads keep using the
current credential meanwhile). The SDKs are imported only when a helper is called (extras
``aws``, ``azure``, ``fsspec``).

- boto3 / botocore: :func:`boto3_session`, :func:`s3_client`, :func:`refreshable_credentials`;
- aiobotocore / s3fs: :func:`aiobotocore_session`;
- azure-storage-blob: :func:`sas_credential` (an ``AzureSasCredential`` that renews itself),
  :func:`container_client`;
- adlfs: :func:`adlfs_storage_options`;
- fsspec: :func:`filesystem` (s3fs or adlfs, from the store's kind);
- Google Cloud Storage: :func:`google_credentials` (google-auth credentials renewing a downscoped
  token) and :func:`gcsfs_storage_options`.

botocore's own refresh windows: a ``RefreshableCredentials`` asks its refresh function for new
keys once fewer than 15 minutes (advisory) are left, and blocks every caller once fewer than 10
minutes (mandatory) are left. With those defaults a credential of 15 minutes or less would be
"due" on every call. Here each credential gets windows from its own timetable instead: advisory =
the time from its renewal point to its expiry, mandatory = its safety margin, so botocore calls the
refresh function once per renewal; and the refresh function only reads the renewer, which fetches
from the service only when the renewal is due. An SDK call therefore never costs a fetch of its own.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlsplit

from . import shapes
from .api import Client
from .errors import TvsError
from .renew import Lease, Renewer

log = logging.getLogger("tvs_client.sdk")
METHOD = "tvs"


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def credential_renewer(client: Client, store: str, *, path: str = "", access: str = "read", ttl: int | None = None,
            kind: str | None = None, clock: Callable[[], float] | None = None,
            rng: Callable[[], float] | None = None) -> Renewer:
    """A :class:`Renewer` of the store's native credential (``kind``: "s3" or "azure" to insist on one)."""
    shapes.check_request(store, path, access, ttl)

    def fetch() -> tuple[dict, float]:
        answer, expires_at = client.credential_with_expiry(store, path, access, ttl, "native")
        if kind is not None and shapes.kind_of(answer) != kind:
            want = {"s3": "S3 keys", "azure": "an Azure SAS", "gcs": "a Google access token"}[kind]
            raise TvsError(f"store '{store}' hands out {answer.get('provider')} credentials, not {want}")
        return answer, expires_at

    kwargs: dict[str, Any] = {"name": f"credential for {store}"}
    if clock is not None:
        kwargs["clock"] = clock
    if rng is not None:
        kwargs["rng"] = rng
    return Renewer(fetch, **kwargs)


# -- botocore / boto3 -----------------------------------------------------------------------------
def _metadata(lease: Lease) -> dict:
    c = lease.value["credentials"]
    return {"access_key": c["access_key_id"], "secret_key": c["secret_access_key"],
            "token": c.get("session_token") or None, "expiry_time": _utc(lease.expires_at).isoformat()}


def _windows(lease: Lease) -> tuple[float, float]:
    """(advisory, mandatory) refresh windows of botocore for this lease, in seconds before expiry."""
    return max(0.0, lease.expires_at - lease.renew_at), max(0.0, lease.expires_at - lease.hard_deadline)


def _set_windows(credentials, lease: Lease) -> None:
    credentials._advisory_refresh_timeout, credentials._mandatory_refresh_timeout = _windows(lease)


def refreshable_credentials(client: Client, store: str, *, path: str = "", access: str = "read",
                            ttl: int | None = shapes.AWS_DEFAULT_TTL_SECONDS, renewer: Renewer | None = None):
    """A ``botocore.credentials.RefreshableCredentials`` fed by the service.

    Built with the class's constructor (what ``create_from_metadata`` calls) because it also takes
    ``time_fetcher``: botocore then reads the renewer's clock, so an injected clock drives botocore's
    windows and the renewal rule alike. ``credentials.tvs_renewer`` is the renewer.
    """
    from botocore.credentials import RefreshableCredentials

    r = renewer or credential_renewer(client, store, path=path, access=access, ttl=ttl, kind="s3")
    lease = r.get()
    advisory, mandatory = _windows(lease)

    def refresh() -> dict:
        fresh = r.get()
        _set_windows(credentials, fresh)
        return _metadata(fresh)

    m = _metadata(lease)
    credentials = RefreshableCredentials(
        access_key=m["access_key"], secret_key=m["secret_key"], token=m["token"],
        expiry_time=_utc(lease.expires_at), refresh_using=refresh, method=METHOD,
        time_fetcher=lambda: _utc(r.clock()), advisory_timeout=advisory, mandatory_timeout=mandatory)
    credentials.tvs_renewer = r
    return credentials


def _s3_settings(answer: dict) -> dict:
    """region, endpoint_url and addressing style of a native S3-shaped answer."""
    c = answer["credentials"]
    s3_config = ((answer.get("storage_options") or {}).get("config_kwargs") or {}).get("s3") or {}
    style = s3_config.get("addressing_style") or ("path" if c.get("path_style") else None)
    return {"region_name": c.get("region"), "endpoint_url": c.get("endpoint_url"), "addressing_style": style}


def boto3_session(client: Client, store: str, *, path: str = "", access: str = "read",
                  ttl: int | None = shapes.AWS_DEFAULT_TTL_SECONDS, region_name: str | None = None,
                  renewer: Renewer | None = None):
    """A ``boto3.Session`` whose credentials renew themselves from the service.

    The session carries the store's region. An S3-compatible store (VAST, MinIO, the local moto)
    also needs its endpoint: use :func:`s3_client`, or pass ``endpoint_url`` to ``session.client``
    (``session.tvs_s3_settings`` holds it).
    """
    import boto3

    credentials = refreshable_credentials(client, store, path=path, access=access, ttl=ttl, renewer=renewer)
    settings = _s3_settings(credentials.tvs_renewer.lease.value)
    session = boto3.Session(region_name=region_name or settings["region_name"])
    session._session._credentials = credentials  # botocore's Session.get_credentials() returns these
    session.tvs_s3_settings = settings
    return session


def s3_client(client: Client, store: str, *, path: str = "", access: str = "read",
              ttl: int | None = shapes.AWS_DEFAULT_TTL_SECONDS, **client_kwargs):
    """``boto3`` S3 client on the store's endpoint, region and addressing style, self-refreshing."""
    from botocore.config import Config

    session = boto3_session(client, store, path=path, access=access, ttl=ttl)
    s = session.tvs_s3_settings
    if s["endpoint_url"]:
        client_kwargs.setdefault("endpoint_url", s["endpoint_url"])
    if s["addressing_style"]:
        style = Config(s3={"addressing_style": s["addressing_style"]})
        client_kwargs["config"] = style.merge(client_kwargs["config"]) if "config" in client_kwargs else style
    return session.client("s3", **client_kwargs)


def aiobotocore_session(client: Client, store: str, *, path: str = "", access: str = "read",
                        ttl: int | None = shapes.AWS_DEFAULT_TTL_SECONDS, renewer: Renewer | None = None):
    """An ``aiobotocore.session.AioSession`` with self-refreshing credentials (what s3fs takes as
    ``session=``). A renewal runs in a worker thread, so it never blocks the event loop."""
    from aiobotocore.credentials import AioRefreshableCredentials
    from aiobotocore.session import AioSession

    r = renewer or credential_renewer(client, store, path=path, access=access, ttl=ttl, kind="s3")
    lease = r.get()
    advisory, mandatory = _windows(lease)

    async def refresh() -> dict:
        fresh = await asyncio.to_thread(r.get)
        _set_windows(credentials, fresh)
        return _metadata(fresh)

    m = _metadata(lease)
    credentials = AioRefreshableCredentials(
        access_key=m["access_key"], secret_key=m["secret_key"], token=m["token"],
        expiry_time=_utc(lease.expires_at), refresh_using=refresh, method=METHOD,
        time_fetcher=lambda: _utc(r.clock()), advisory_timeout=advisory, mandatory_timeout=mandatory)
    credentials.tvs_renewer = r
    session = AioSession()
    session._credentials = credentials  # AioSession.get_credentials() returns these
    session.tvs_s3_settings = _s3_settings(lease.value)
    return session


# -- Azure ----------------------------------------------------------------------------------------
_SAS_CLASS = None


def _sas_class():
    global _SAS_CLASS
    if _SAS_CLASS is not None:
        return _SAS_CLASS
    from azure.core.credentials import AzureSasCredential

    class RenewingSasCredential(AzureSasCredential):
        """An ``AzureSasCredential`` whose signature renews itself.

        azure-core's ``AzureSasCredentialPolicy`` reads ``.signature`` for every request; reading it
        renews the SAS when due (``.update(new_sas)``). With ``background=True`` a daemon thread
        renews at the renewal point instead, so that a read never waits for the service — for
        async clients (adlfs), whose event loop must not block. ``close()`` stops that thread.
        """

        def __init__(self, renewer: Renewer, background: bool = False):
            self.renewer = renewer
            super().__init__(self._sas(renewer.get()))
            self._stop = threading.Event()
            self._thread = None
            if background:
                self._thread = threading.Thread(target=self._run, name="tvs-sas-renew", daemon=True)
                self._thread.start()

        @staticmethod
        def _sas(lease: Lease) -> str:
            return lease.value["credentials"]["sas_token"]

        @property
        def lease(self) -> Lease:
            return self.renewer.lease

        @property
        def signature(self) -> str:
            sas = self._sas(self.renewer.get())
            if sas != self._signature:
                self.update(sas)
            return self._signature

        def _run(self) -> None:
            while not self._stop.wait(max(0.05, self.renewer.due_in())):
                try:
                    self.signature  # noqa: B018 - renews when due
                except TvsError as exc:
                    log.warning("renewing the SAS failed: %s", exc)
                    self._stop.wait(5)

        def close(self) -> None:
            self._stop.set()

        def __repr__(self) -> str:
            return f"RenewingSasCredential({self.renewer.lease!r})"

    _SAS_CLASS = RenewingSasCredential
    return _SAS_CLASS


def sas_credential(client: Client, store: str, *, path: str = "", access: str = "read", ttl: int | None = None,
                   background: bool = False, renewer: Renewer | None = None):
    """An ``azure.core.credentials.AzureSasCredential`` for the store that renews itself."""
    r = renewer or credential_renewer(client, store, path=path, access=access, ttl=ttl, kind="azure")
    return _sas_class()(r, background=background)


def container_client(client: Client, store: str, *, path: str = "", access: str = "read", ttl: int | None = None,
                     **client_kwargs):
    """``azure.storage.blob.ContainerClient`` of the store's container with a renewing SAS."""
    from azure.storage.blob import ContainerClient

    credential = sas_credential(client, store, path=path, access=access, ttl=ttl)
    c = credential.lease.value["credentials"]
    return ContainerClient(c["account_url"], c["container"], credential=credential, **client_kwargs)


def adlfs_storage_options(client: Client, store: str, *, path: str = "", access: str = "read",
                          ttl: int | None = None, renewer: Renewer | None = None) -> dict:
    """``storage_options`` for adlfs (``fsspec.open("abfs://container/x", **options)``, pandas, dask).

    adlfs passes ``credential`` to azure-storage-blob's async ``BlobServiceClient``, whose SAS policy
    reads ``.signature`` per request; the SAS is renewed by a background thread (``close()`` of the
    credential, which adlfs calls when the filesystem goes away, stops it). adlfs builds the
    account URL as ``https://{account_host}``: a store on plain http cannot be used through it.
    """
    credential = sas_credential(client, store, path=path, access=access, ttl=ttl, background=True, renewer=renewer)
    c = credential.lease.value["credentials"]
    url = urlsplit(c["account_url"])
    if url.scheme != "https":
        credential.close()
        raise TvsError(f"adlfs reaches storage over https only, and store '{store}' is at {c['account_url']}")
    host = url.netloc + url.path.rstrip("/")  # keeps the account segment of emulator URLs
    return {"account_name": c["account_name"], "account_host": host, "credential": credential}


# -- fsspec ---------------------------------------------------------------------------------------
def filesystem(client: Client, store: str, *, path: str = "", access: str = "read", ttl: int | None = None,
               **fs_kwargs):
    """An fsspec filesystem on the store with renewing credentials: ``s3fs.S3FileSystem`` for S3
    stores and VAST, ``adlfs.AzureBlobFileSystem`` for Azure (the kind comes from ``GET /stores``).
    ``ttl`` defaults to 3600 s for S3-shaped stores and to the store's default for Azure."""
    kind = next((s.get("kind") for s in client.stores() if s.get("store") == store), None)
    if kind == "azure-blob":
        import adlfs

        return adlfs.AzureBlobFileSystem(**adlfs_storage_options(client, store, path=path, access=access, ttl=ttl),
                                         **fs_kwargs)
    if kind not in ("aws-s3", "vast-s3", None):  # None: not granted; the service's refusal says so below
        raise TvsError(f"this client has no fsspec filesystem for store '{store}' of kind {kind}")
    import s3fs

    session = aiobotocore_session(client, store, path=path, access=access,
                                  ttl=shapes.AWS_DEFAULT_TTL_SECONDS if ttl is None else ttl)
    s = session.tvs_s3_settings
    client_kwargs = {k: v for k, v in (("region_name", s["region_name"]), ("endpoint_url", s["endpoint_url"])) if v}
    client_kwargs.update(fs_kwargs.pop("client_kwargs", {}))
    config_kwargs = fs_kwargs.pop("config_kwargs", {})
    if s["addressing_style"]:
        config_kwargs.setdefault("s3", {}).setdefault("addressing_style", s["addressing_style"])
    return s3fs.S3FileSystem(session=session, client_kwargs=client_kwargs, config_kwargs=config_kwargs, **fs_kwargs)


# -- Google Cloud Storage (design) ----------------------------------------------------------------
_GOOGLE_CLASS = None


def _google_class():
    """The google-auth credentials class, made on first use (google-auth is the optional extra [gcs])."""
    global _GOOGLE_CLASS
    if _GOOGLE_CLASS is not None:
        return _GOOGLE_CLASS
    from google.auth import credentials as ga_credentials

    class GoogleDownscopedCredentials(ga_credentials.Credentials):
        """``google.auth`` credentials holding the service's downscoped token for one store, renewed
        by the half-life rule (not google-auth's 3 min 45 s before expiry): ``expired`` turns true at
        the renewer's renewal point, so the client library calls ``refresh`` then, and the renewer
        lets one thread fetch while the others keep the current token."""

        def __init__(self, renewer: Renewer):
            super().__init__()
            self.renewer = renewer
            self._take(renewer.get())

        def _take(self, lease: Lease) -> None:
            self.token = lease.value["credentials"]["access_token"]
            # google-auth compares expiry with a naive UTC datetime
            self.expiry = _utc(lease.expires_at).replace(tzinfo=None)
            self._lease = lease

        @property
        def expired(self) -> bool:
            return self.renewer.clock() >= self._lease.renew_at

        @property
        def valid(self) -> bool:
            return self.token is not None and not self.expired

        def refresh(self, request) -> None:  # the service is asked, not Google
            self._take(self.renewer.get())

        @property
        def lease(self) -> Lease:
            return self._lease

    _GOOGLE_CLASS = GoogleDownscopedCredentials
    return _GOOGLE_CLASS


def google_credentials(client: Client, store: str, *, path: str = "", access: str = "read", ttl: int | None = None,
                       renewer: Renewer | None = None):
    """``google.auth`` credentials for a GCS store that renew themselves: for
    ``google.cloud.storage.Client(credentials=..., project=...)`` and gcsfs (``token=credentials``)."""
    r = renewer or credential_renewer(client, store, path=path, access=access, ttl=ttl, kind="gcs")
    return _google_class()(r)


def gcsfs_storage_options(client: Client, store: str, *, path: str = "", access: str = "read",
                          ttl: int | None = None) -> dict:
    """``storage_options`` for gcsfs with renewing credentials (and the store's endpoint, for an emulator)."""
    credentials = google_credentials(client, store, path=path, access=access, ttl=ttl)
    c = credentials.lease.value["credentials"]
    options = {"token": credentials, "project": c.get("project")}
    if c.get("endpoint_url"):
        options["endpoint_url"] = c["endpoint_url"]
    return options
