"""The one contract every store kind implements (docs/design.md, Store kinds).

A kind's vendor mints credentials for one store: :meth:`Vendor.issue` for a grant, and where the
kind can, :meth:`Vendor.sign_url` for one object. A kind whose credentials live until taken back
subclasses :class:`RevocableVendor` and must implement both :meth:`~RevocableVendor.revoke` and
:meth:`~RevocableVendor.reclaim_expired` (the sweep of its store): the type says it, not a flag.
Who may revoke a credential is decided in :mod:`shared.authz`, not here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from ..clock import iso, utcnow
from ..errors import problem

if TYPE_CHECKING:  # annotations only: the contract stays importable before the configuration is
    from ..authz import Grant
    from ..config import StoreConfig
    from ..secrets import SecretResolver


@dataclass
class IssuedCredential:
    """A minted credential in the kind-neutral response shape (docs/api.md, Vend a credential)."""

    credential_id: str
    provider: str
    scope: dict[str, Any]
    issued_at: datetime
    expires_at: datetime
    credentials: dict[str, Any]
    storage_options: dict[str, Any] = field(default_factory=dict)
    iceberg_config: dict[str, str] = field(default_factory=dict)
    iceberg_prefix: str = ""
    duckdb_secret: dict[str, Any] = field(default_factory=dict)  # DuckDB CREATE SECRET parameters (TYPE first)
    duckdb_scope: str = ""  # the URL prefix the secret applies to
    extra: dict[str, Any] = field(default_factory=dict)  # kind-only fields (e.g. the AWS session for formats)

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
    """What a vendor may use besides its own store block."""

    secrets: SecretResolver
    local_mode: bool
    clock: Callable[[], datetime] = utcnow
    ledger: Any = None  # shared.ledger.LazyLedger when the configuration has a ledger (revocable kinds)


class Vendor(ABC):
    """Mints credentials for one store. One instance per store per process, thread-safe."""

    provider: ClassVar[str]  # the kind's name, as the API's "provider" field shows it
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
        if fmt == "duckdb":
            return {
                "credential_id": credential.credential_id,
                "expires_at": body["expires_at"],
                "duckdb": duckdb_statement(f"tvs_{grant.store.id}", credential.duckdb_secret, credential.duckdb_scope),
            }
        if fmt == "iceberg":
            # Iceberg REST catalog shape: the expiry lives inside ``config`` (docs/api.md, Formats).
            return {
                "credential_id": credential.credential_id,
                "expires_at": body["expires_at"],
                "storage-credentials": [{"prefix": credential.iceberg_prefix, "config": credential.iceberg_config}],
            }
        return body

    def offers(self, prefix: str, access: str) -> tuple[str, ...]:
        """What a grant of ``access`` at ``prefix`` can produce on this store: ``credential`` (one
        credential for the prefix) and/or ``signed-url`` (per-object URLs under it). ``GET
        /api/v1/stores`` shows it, so a caller is never offered what the store would refuse."""
        shapes = ["credential"]
        if type(self).sign_url is not Vendor.sign_url and access != "list":
            shapes.append("signed-url")
        return tuple(shapes)

    def sign_url(self, grant: Grant, method: str, content_type: str | None) -> SignedUrl:
        """A URL for one object and one method. ``grant.path`` names the object."""
        raise problem("signed-urls-unsupported", f"store '{self.store.id}' does not hand out signed URLs")


def duckdb_statement(name: str, params: dict[str, Any], scope: str) -> str:
    """``CREATE OR REPLACE SECRET`` for DuckDB's httpfs/azure extensions: every value a quoted SQL
    literal (quotes doubled), booleans bare; the secret applies to ``scope`` only."""

    def literal(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return "'" + str(value).replace("'", "''") + "'"

    items = [f"TYPE {params['TYPE']}"] + [f"{k} {literal(v)}" for k, v in params.items() if k != "TYPE"]
    if scope:
        items.append(f"SCOPE {literal(scope)}")
    safe_name = "".join(ch if ch.isalnum() else "_" for ch in name)
    return f"CREATE OR REPLACE SECRET {safe_name} ({', '.join(items)});"


class RevocableVendor(Vendor):
    """A vendor whose credentials are recorded, revocable one by one, and reclaimed at expiry."""

    @abstractmethod
    def owner_of(self, credential_id: str) -> str | None:
        """The ``Principal.key`` a live credential of this store was issued to, or None when there is
        no such credential (unknown, another store's, or never handed out)."""

    @abstractmethod
    def revoke(self, credential_id: str, reason: str) -> dict[str, Any] | None:
        """Take the credential back now (idempotent: a revoked one stays revoked). ``reason`` is
        ``owner`` or ``admin``. The caller has already decided that it may (shared.authz.may_revoke).
        Returns what the revocation's audit record says of the credential (``scope``, ``expires_at``),
        or None."""

    @abstractmethod
    def describe(self, record: Any) -> dict[str, Any]:
        """A ledger record of this store as ``GET /api/v1/credentials`` lists it: ids, scope, times and
        state, never a secret."""

    @abstractmethod
    def reclaim_expired(self, budget_seconds: float) -> dict:
        """The sweep of this store: take back what has expired within ``budget_seconds``; returns
        counts (``revoked``, ``failed``, ``reconciled``, ``remaining``) and ``error`` when the store
        could not be swept at all."""


__all__ = ["IssuedCredential", "SignedUrl", "VendorContext", "Vendor", "RevocableVendor"]
