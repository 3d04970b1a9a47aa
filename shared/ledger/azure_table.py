"""The Azure Table Storage ledger (Azure).

One entity per credential: ``PartitionKey`` = credential id, ``RowKey`` = ``"rec"``, so a point
read is the common case and no partition is hot. Transitions replace the entity with
``If-Match: <ETag>`` (optimistic concurrency): a concurrent writer makes the loser's update fail
with 412, reported as :class:`StaleRecord`.

Table Storage has no secondary index and no TTL: the due list and a user's records are
server-side filtered scans (``sweep_bucket eq 'due' and due_at le N``), paged by continuation
token; terminal records past ``purge_at`` are deleted by :meth:`purge`, which the sweep calls.
Times are stored as Edm.Int64. ``azure.data.tables`` is imported on first use.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from . import HOLDER_ATTRIBUTE, DuplicateRecord, KeyLedger, KeyRecord, StaleRecord, sorted_by_creation

ROW_KEY = "rec"
INT_FIELDS = ("expires_at", "due_at", "version", "attempts", "closed_at", "purge_at", "lease_until")


class AzureTableLedger(KeyLedger):
    backend = "azure-table"

    @classmethod
    def sdk_errors(cls):
        from azure.core.exceptions import AzureError

        return (AzureError, OSError)

    def __init__(
        self,
        table: str,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: Any = None,
        ca_bundle: str | None = None,
    ):
        self.table = table
        self._conn, self._url, self._credential, self._ca = connection_string, account_url, credential, ca_bundle
        self._client = None
        self._lock = threading.Lock()

    @classmethod
    def from_options(cls, options: Mapping[str, Any], secrets=None) -> AzureTableLedger:
        """Build from validated ``ledger`` options; the credential is made on first use."""
        if options["auth"] == "connection-string":
            return cls(
                options["table"],
                connection_string=secrets.resolve(options["connection_string"]),
                ca_bundle=options.get("ca_bundle"),
            )
        return cls(
            options["table"],
            account_url=options["account_url"],
            ca_bundle=options.get("ca_bundle"),
            credential=("lazy", options["auth"], options.get("client_id")),
        )

    def _c(self):
        with self._lock:
            if self._client is None:
                from azure.data.tables import TableClient

                kwargs: dict[str, Any] = {"connection_timeout": 3, "read_timeout": 10, "retry_total": 2}
                if self._ca:
                    kwargs["connection_verify"] = self._ca
                if self._conn:
                    self._client = TableClient.from_connection_string(self._conn, self.table, **kwargs)
                else:
                    self._client = TableClient(
                        self._url, self.table, credential=_credential(self._credential), **kwargs
                    )
            return self._client

    def ensure_table(self) -> None:
        """Create the table if it does not exist (local set-ups and tests; deployments provision it)."""
        from azure.core.exceptions import ResourceExistsError

        try:
            self._c().create_table()
        except ResourceExistsError:
            pass

    # -- entities ---------------------------------------------------------------------------------
    @staticmethod
    def _entity(record: KeyRecord) -> dict:
        from azure.data.tables import EdmType, EntityProperty

        item = record.to_item()
        entity: dict[str, Any] = {"PartitionKey": record.credential_id, "RowKey": ROW_KEY}
        for k, v in item.items():
            if k in INT_FIELDS:
                entity[k] = EntityProperty(int(v), EdmType.INT64)
            elif k in (HOLDER_ATTRIBUTE, "prior_keys"):
                entity[k] = json.dumps(v, sort_keys=True)
            else:
                entity[k] = v
        return entity

    @staticmethod
    def _record(entity) -> KeyRecord:
        item = {k: getattr(v, "value", v) for k, v in entity.items() if k not in ("PartitionKey", "RowKey")}
        for k in (HOLDER_ATTRIBUTE, "prior_keys"):
            if k in item:
                item[k] = json.loads(item[k])
        return KeyRecord.from_item(item, etag=entity.metadata.get("etag"))

    # -- interface --------------------------------------------------------------------------------
    def create(self, record: KeyRecord) -> KeyRecord:
        from azure.core.exceptions import ResourceExistsError

        try:
            meta = self._c().create_entity(self._entity(record))
        except ResourceExistsError:
            raise DuplicateRecord(record.credential_id) from None
        return _with_etag(record, meta)

    def get(self, credential_id: str) -> KeyRecord | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self._record(self._c().get_entity(credential_id, ROW_KEY))
        except ResourceNotFoundError:
            return None

    def replace(self, current: KeyRecord, new: KeyRecord) -> KeyRecord:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode

        etag = current.etag
        if etag is None:  # a record not read from this backend: read it to learn its ETag
            stored = self.get(current.credential_id)
            if stored is None or stored.version != current.version or stored.state != current.state:
                raise StaleRecord(current.credential_id)
            etag = stored.etag
        try:
            meta = self._c().update_entity(
                self._entity(new), mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            raise StaleRecord(current.credential_id) from None
        return _with_etag(new, meta)

    def _scan(self, query: str, limit: int | None = None, cursor: Any = None):
        pages = self._c().query_entities(query, results_per_page=limit).by_page(continuation_token=cursor)
        return pages

    def for_user(self, user_key: str) -> list[KeyRecord]:
        query = "user_key eq '" + user_key.replace("'", "''") + "'"
        return sorted_by_creation(self._record(e) for e in self._c().query_entities(query))

    @staticmethod
    def _due_filter(now: int) -> str:
        return f"sweep_bucket eq 'due' and due_at le {int(now)}L"

    def due(self, now: int, limit: int, cursor: Any = None) -> tuple[list[KeyRecord], Any]:
        pages = self._scan(self._due_filter(now), limit, cursor)
        try:
            page = next(pages)
        except StopIteration:
            return [], None
        records = [self._record(e) for e in page]
        return records, pages.continuation_token

    def live(self, *, owner=None, store=None, states=(), limit=50, cursor=None) -> tuple[list[KeyRecord], Any]:
        if cursor is not None and not (
            isinstance(cursor, dict)
            and all(isinstance(v, str) for v in cursor.values())
            and set(cursor) <= {"PartitionKey", "RowKey"}
        ):
            raise ValueError("not a cursor of this ledger")
        clauses = ["sweep_bucket eq 'due'"]
        if states:
            clauses.append("(" + " or ".join(f"state eq '{s}'" for s in states) + ")")
        for field, value in (("owner", owner), ("store", store)):
            if value is not None:
                clauses.append(f"{field} eq '" + value.replace("'", "''") + "'")
        pages = self._scan(" and ".join(clauses), limit, cursor)
        try:
            page = next(pages)
        except StopIteration:
            return [], None
        return [self._record(e) for e in page], pages.continuation_token

    def count_due(self, now: int) -> int:
        return sum(1 for _ in self._c().query_entities(self._due_filter(now), select=["PartitionKey"]))

    def purge(self, now: int, limit: int) -> int:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        query = f"purge_at le {int(now)}L"
        done = 0
        for entity in self._c().query_entities(query, results_per_page=limit):
            if done >= limit:
                break
            if "sweep_bucket" in entity:  # never drop a record the sweep still has to visit
                continue
            try:
                self._c().delete_entity(
                    entity["PartitionKey"],
                    entity["RowKey"],
                    etag=entity.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
                done += 1
            except (ResourceModifiedError, ResourceNotFoundError):
                pass
        return done

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _with_etag(record: KeyRecord, meta: Mapping | None) -> KeyRecord:
    import dataclasses

    return dataclasses.replace(record, etag=(meta or {}).get("etag"))


def _credential(spec):
    """The token credential for ``("lazy", auth, client_id)``; azure-identity imported here."""
    if not (isinstance(spec, tuple) and spec and spec[0] == "lazy"):
        return spec
    import azure.identity as identity

    _, auth, client_id = spec
    if auth == "managed-identity":
        return identity.ManagedIdentityCredential(client_id=client_id)
    if auth == "workload-identity":
        return (
            identity.WorkloadIdentityCredential(client_id=client_id)
            if client_id
            else identity.WorkloadIdentityCredential()
        )
    return identity.DefaultAzureCredential(exclude_interactive_browser_credential=True)
