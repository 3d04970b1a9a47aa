"""The one small interface every provider implements."""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar

from ..authz import Grant
from ..config import StoreConfig
from ..errors import Problem, conflict
from ..secrets import SecretResolver


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint(secret: str, prefix: str) -> str:
    """A stable, non-reversible id for a credential that has no id of its own (e.g. a SAS)."""
    return f"{prefix}-{hashlib.sha256(secret.encode()).hexdigest()[:24]}"


@dataclass
class IssuedCredential:
    """A minted credential in the provider-neutral response shape (API.md)."""

    credential_id: str
    provider: str
    scope: dict[str, Any]
    issued_at: datetime
    expires_at: datetime
    credentials: dict[str, Any]
    storage_options: dict[str, Any] = field(default_factory=dict)
    iceberg_config: dict[str, str] = field(default_factory=dict)
    iceberg_prefix: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # provider-only fields (e.g. AWS session for formats)

    def body(self, store: str, access: str) -> dict[str, Any]:
        return {
            "credential_id": self.credential_id,
            "store": store,
            "provider": self.provider,
            "scope": self.scope,
            "access": access,
            "issued_at": iso(self.issued_at),
            "expires_at": iso(self.expires_at),
            "credentials": self.credentials,
            "storage_options": self.storage_options,
        }


@dataclass
class SignedUrl:
    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime
    credential_id: str


@dataclass
class VendorContext:
    """What a provider may use besides its own store block."""

    secrets: SecretResolver
    local_mode: bool
    clock: Callable[[], datetime] = utcnow
    ledger: Any = None  # shared.ledger.LazyLedger when the configuration has a ledger (revocable kinds)


class Vendor(ABC):
    """Mints credentials for one store. One instance per store per process, thread-safe."""

    provider: ClassVar[str]
    revocable: ClassVar[bool] = False
    formats: ClassVar[frozenset[str]] = frozenset({"native"})

    def __init__(self, store: StoreConfig, context: VendorContext):
        self.store = store
        self.context = context

    @abstractmethod
    def issue(self, grant: Grant) -> IssuedCredential:
        """Mint a credential exactly as broad as ``grant`` (never broader) or raise a Problem."""

    def render(self, fmt: str, credential: IssuedCredential, grant: Grant) -> dict[str, Any]:
        """The response body in ``fmt`` (one of :attr:`formats`)."""
        body = credential.body(grant.store.id, grant.access)
        if fmt == "iceberg":
            # Iceberg REST catalog shape: expiry lives inside ``config`` (DESIGN §5).
            return {"credential_id": credential.credential_id, "expires_at": body["expires_at"],
                    "storage-credentials": [{"prefix": credential.iceberg_prefix, "config": credential.iceberg_config}]}
        return body

    def sign_url(self, grant: Grant, method: str, content_type: str | None) -> SignedUrl:
        """A URL for one object and one method. ``grant.path`` names the object."""
        raise Problem(400, "signed-urls-unsupported", "Not supported",
                      f"store '{self.store.id}' does not hand out signed URLs")

    def revoke(self, credential_id: str, principal: Any = None, admin: bool = False) -> None:
        """Take ``credential_id`` back now, on behalf of ``principal`` (``admin``: in an admin group)."""
        raise conflict("not-revocable", f"{self.provider} credentials cannot be revoked one by one; they expire by themselves")
