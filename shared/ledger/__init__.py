"""The key ledger (docs/design.md, Ledger): every revocable credential the service hands out, and its state.

Intent is written before the side effect, as Vault does with its write-ahead log::

    PENDING --(VMS create)--> ACTIVE(expires_at) --(expiry | revoke | rotation)--> REVOKING
        --(VMS delete; a 404 counts as done)--> REVOKED
    PENDING --(the create certainly did not happen)--> FAILED

Every change is a conditional replace of the whole record on its ``version`` (DynamoDB
ConditionExpression, Azure Tables ETag If-Match, SQLite ``UPDATE ... WHERE version=?``), so
two processes that race for one record never both win: the loser gets :class:`StaleRecord`.
A claim also writes ``lease_until``: until then the record is its holder's, and no one else
claims it (a transition that does not renew the lease ends it).

Backends (one interface, :class:`KeyLedger`): ``sqlite`` (local and tests), ``dynamodb``
(AWS), ``azure-table`` (Azure). None imports its SDK at module import.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..clock import iso_micro as now_iso
from ..errors import ConfigError
from ..secrets import validate_ref
from ..sections import Section

PENDING, ACTIVE, REVOKING, REVOKED, FAILED = "PENDING", "ACTIVE", "REVOKING", "REVOKED", "FAILED"
STATES = (PENDING, ACTIVE, REVOKING, REVOKED, FAILED)
TERMINAL = (REVOKED, FAILED)
LIVE = (PENDING, ACTIVE, REVOKING)  # in the sweep's index until they end
# Which state may follow which; a transition to the same state renews a claim (a lease).
TRANSITIONS = {
    PENDING: {PENDING, ACTIVE, REVOKING, FAILED},
    ACTIVE: {REVOKING},
    REVOKING: {REVOKING, REVOKED},
    REVOKED: set(),
    FAILED: set(),
}
BACKENDS = ("sqlite", "dynamodb", "azure-table")
TABLE_ENV = "TVS_LEDGER_TABLE"
RETENTION_SECONDS = 30 * 86_400  # how long a terminal record is kept for audit before it may be purged
# The stored name of KeyRecord.holder: ledgers written by the first release (VAST only) call it so.
HOLDER_ATTRIBUTE = "vast_user"


class StaleRecord(Exception):
    """The record changed since it was read (another sweep or request won the race)."""


class LedgerUnavailable(Exception):
    """The ledger's store could not be reached or failed (the message names no secret)."""


class DuplicateRecord(Exception):
    """A record with this credential id already exists."""


@dataclass(frozen=True)
class KeyRecord:
    """One credential in the ledger. Never holds a secret: the secret key is not recorded anywhere.

    Times are integer epoch seconds, except ``created_at`` (ISO-8601 UTC with microseconds, so
    records of one user sort by creation). ``due_at`` is when the sweep must next look at the
    record (PENDING: when it becomes stale; ACTIVE: its expiry; REVOKING: the next attempt);
    it is ``None`` for terminal records, which is what takes them out of the sweep's index.
    """

    credential_id: str
    store: str
    owner: str  # Principal.key of the caller it was issued to
    user_key: str  # "<store>|<VAST user>", e.g. "demo-vast|local:1001"
    holder: Mapping[
        str, Any
    ]  # the store-side account the key belongs to, as its kind names it (VAST: {"user_id": 1001})
    state: str
    created_at: str
    expires_at: int
    due_at: int | None = None
    version: int = 1
    access_key: str | None = None  # unknown while PENDING
    prior_keys: tuple[str, ...] = ()  # the user's VMS keys just before the create (reconciliation)
    attempts: int = 0
    last_error: str | None = None
    reason: str | None = None  # why it is being revoked: expired | owner | admin | rotated | reconciled
    closed_at: int | None = None  # when it reached REVOKED or FAILED
    purge_at: int | None = None  # terminal records only: when the store may drop it
    lease_until: int | None = None  # while claimed: until when the claim's holder has it to itself
    etag: str | None = field(default=None, compare=False)  # Azure Tables concurrency token; not stored

    @property
    def sweep_bucket(self) -> str | None:
        """The sparse index key of records the sweep must visit ("due"), absent once terminal."""
        return "due" if self.due_at is not None else None

    def to_item(self) -> dict[str, Any]:
        """The stored attributes (no etag; empty optional fields left out)."""
        item = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ("etag", "holder")}
        item[HOLDER_ATTRIBUTE] = dict(self.holder)
        item["prior_keys"] = list(self.prior_keys)
        if self.sweep_bucket:
            item["sweep_bucket"] = self.sweep_bucket
        return {k: v for k, v in item.items() if v is not None and v != []}

    @classmethod
    def from_item(cls, item: Mapping[str, Any], etag: str | None = None) -> KeyRecord:
        names = {f.name for f in dataclasses.fields(cls)} - {"etag"}
        values = {k: v for k, v in item.items() if k in names}
        values["holder"] = dict(item.get(HOLDER_ATTRIBUTE) or {})
        values["prior_keys"] = tuple(values.get("prior_keys") or ())
        for k in ("expires_at", "due_at", "version", "attempts", "closed_at", "purge_at", "lease_until"):
            if values.get(k) is not None:
                values[k] = int(values[k])
        return cls(**values, etag=etag)


def next_version(record: KeyRecord, state: str, **changes: Any) -> KeyRecord:
    """The record after one transition: checked against :data:`TRANSITIONS`, version + 1.

    A terminal state needs ``closed_at``; it clears ``due_at`` (the record leaves the sweep
    index) and sets ``purge_at`` (the TTL backstop exists only on records VMS has confirmed).
    A lease (``lease_until``) lasts until the next transition, unless that transition renews it.
    """
    if state not in TRANSITIONS[record.state]:
        raise ValueError(f"a {record.state} record cannot become {state}")
    if state in TERMINAL:
        if changes.get("closed_at") is None:
            raise ValueError("a terminal transition needs closed_at")
        changes["due_at"] = None
        changes.setdefault("purge_at", int(changes["closed_at"]) + RETENTION_SECONDS)
        changes.setdefault("prior_keys", ())
    changes.setdefault("lease_until", None)
    return dataclasses.replace(record, state=state, version=record.version + 1, etag=record.etag, **changes)


_GUARDED = ("create", "get", "replace", "for_user", "due", "live", "count_due", "purge")


def _guard(method):
    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (StaleRecord, DuplicateRecord, LedgerUnavailable):
            raise
        except self.sdk_errors() as exc:
            raise LedgerUnavailable(f"the {self.backend} ledger failed ({type(exc).__name__})") from None

    return guarded


class KeyLedger(ABC):
    """Stores :class:`KeyRecord`. Thread-safe; every write is conditional.

    A backend's own errors (its SDK's, named by :meth:`sdk_errors`) surface as
    :class:`LedgerUnavailable` from every interface method, so callers answer 503, not 500.
    """

    backend: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _GUARDED:
            if name in cls.__dict__:
                setattr(cls, name, _guard(cls.__dict__[name]))

    @classmethod
    def sdk_errors(cls) -> tuple[type[BaseException], ...]:
        """The exception types of the backend's store (imported only when an error happens)."""
        return (OSError,)

    @abstractmethod
    def create(self, record: KeyRecord) -> KeyRecord:
        """Store a new record; :class:`DuplicateRecord` if its id exists."""

    @abstractmethod
    def get(self, credential_id: str) -> KeyRecord | None:
        """The record (strongly consistent read), or None."""

    @abstractmethod
    def replace(self, current: KeyRecord, new: KeyRecord) -> KeyRecord:
        """Write ``new`` only if the stored record is still ``current`` (same version / ETag).

        Raises :class:`StaleRecord` otherwise; returns ``new`` as stored (with a fresh ETag).
        """

    @abstractmethod
    def for_user(self, user_key: str) -> list[KeyRecord]:
        """Every record of one VAST user of one store (a user has few), oldest first."""

    @abstractmethod
    def due(self, now: int, limit: int, cursor: Any = None) -> tuple[list[KeyRecord], Any]:
        """One page (at most ``limit``) of records with ``due_at <= now``; the cursor of the next
        page, or None after the last. Index reads may lag: callers re-check with conditional writes."""

    @abstractmethod
    def live(
        self, *, owner: str | None, store: str | None, states: tuple[str, ...], limit: int, cursor: Any = None
    ) -> tuple[list[KeyRecord], Any]:
        """One page (at most ``limit``) of live records (PENDING, ACTIVE, REVOKING: what the sweep
        index holds) in ``states``, of ``owner`` and ``store`` when given; and the cursor of the next
        page, or None after the last. A cursor this backend did not make raises ValueError."""

    @abstractmethod
    def count_due(self, now: int) -> int:
        """How many records are due at ``now``."""

    @abstractmethod
    def purge(self, now: int, limit: int) -> int:
        """Drop up to ``limit`` terminal records whose ``purge_at`` has passed; how many went.

        DynamoDB leaves this to its TTL attribute and returns 0."""

    @classmethod
    @abstractmethod
    def from_options(cls, options: Mapping[str, Any], secrets=None) -> KeyLedger:
        """The backend for validated ``options`` (see :func:`validate_ledger`)."""

    def close(self) -> None:  # noqa: B027 - an optional hook, not an abstract method
        """Release connections (optional)."""

    def transition(self, record: KeyRecord, state: str, **changes: Any) -> KeyRecord:
        """Conditionally move ``record`` to ``state``; :class:`StaleRecord` if someone was first."""
        return self.replace(record, next_version(record, state, **changes))


# -- configuration --------------------------------------------------------------------------------
def validate_ledger(key: str, raw: object, mode: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Validate the top-level ``ledger`` block at ``key``; returns the normalized options.

    ``$TVS_LEDGER_TABLE`` (set by the SAM template) supplies or overrides the DynamoDB table name.
    """
    env = os.environ if environ is None else environ
    if not isinstance(raw, Mapping):
        raise ConfigError(key, "must be an object")
    raw_backend = raw.get("backend")
    if raw_backend not in BACKENDS:
        raise ConfigError(f"{key}.backend", f"must be one of {', '.join(BACKENDS)}")
    allowed = {
        "sqlite": ("backend", "path"),
        "dynamodb": ("backend", "table", "region", "endpoint_url"),
        "azure-table": ("backend", "table", "account_url", "connection_string", "auth", "client_id", "ca_bundle"),
    }[raw_backend]
    s = Section(key, raw, allowed)
    out: dict[str, Any] = {"backend": raw_backend}
    if raw_backend == "sqlite":
        out["path"] = s.string("path")
        return out
    if raw_backend == "dynamodb":
        table = env.get(TABLE_ENV) or s.string("table")
        _check_name(s.path("table"), table, r"^[A-Za-z0-9_.-]{3,255}$")
        out.update(
            table=table,
            region=s.get("region", str, None),
            endpoint_url=s.url("endpoint_url", None, allow_http=mode == "local"),
        )
        return out
    table = s.string("table")
    _check_name(s.path("table"), table, r"^[A-Za-z][A-Za-z0-9]{2,62}$")
    auth = s.string(
        "auth", "managed-identity", choices=("managed-identity", "workload-identity", "default", "connection-string")
    )
    out.update(
        table=table,
        auth=auth,
        account_url=s.url("account_url", None, allow_http=mode == "local"),
        client_id=s.get("client_id", str, None),
        ca_bundle=s.get("ca_bundle", str, None),
    )
    if auth == "connection-string" or s.has("connection_string"):
        out["auth"] = "connection-string"
        out["connection_string"] = validate_ref(s.path("connection_string"), s.get("connection_string", object))
    elif not out["account_url"]:
        raise ConfigError(s.path("account_url"), f"is required with auth '{auth}'")
    return out


def _check_name(key: str, value: str, pattern: str) -> None:
    if not re.match(pattern, value):
        raise ConfigError(key, f"is not a valid table name (pattern {pattern})")


# The backends, imported when the ledger is first opened (each imports its own SDK only then).
BACKEND_CLASSES = {
    "sqlite": "shared.ledger.sqlite:SqliteLedger",
    "dynamodb": "shared.ledger.dynamodb:DynamoDbLedger",
    "azure-table": "shared.ledger.azure_table:AzureTableLedger",
}


def open_ledger(options: Mapping[str, Any], secrets=None) -> KeyLedger:
    """Build the backend named by validated ``options`` (see :func:`validate_ledger`)."""
    module, _, name = BACKEND_CLASSES[options["backend"]].partition(":")
    return getattr(importlib.import_module(module), name).from_options(options, secrets)


class LazyLedger:
    """The process's ledger, opened on first use (no SDK import, no connection before that)."""

    def __init__(self, options: Mapping[str, Any], secrets=None):
        self.options = options
        self._secrets = secrets
        self._ledger: KeyLedger | None = None
        self._lock = threading.Lock()

    def get(self) -> KeyLedger:
        with self._lock:
            if self._ledger is None:
                self._ledger = open_ledger(self.options, self._secrets)
            return self._ledger


def sorted_by_creation(records: Iterable[KeyRecord]) -> list[KeyRecord]:
    return sorted(records, key=lambda r: (r.created_at, r.credential_id))


__all__ = [
    "now_iso",
    "KeyLedger",
    "KeyRecord",
    "StaleRecord",
    "DuplicateRecord",
    "LedgerUnavailable",
    "LazyLedger",
    "open_ledger",
    "validate_ledger",
    "next_version",
    "STATES",
    "PENDING",
    "ACTIVE",
    "REVOKING",
    "REVOKED",
    "FAILED",
]
