"""The SQLite ledger: local service and tests.

One file, WAL journal, one connection per ledger object guarded by a lock. Claims are
``UPDATE ... WHERE credential_id=? AND state=? AND version=?`` in a transaction: SQLite's file
lock serializes writers, so two processes (or threads) sharing the file never both win.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from . import HOLDER_ATTRIBUTE, DuplicateRecord, KeyLedger, KeyRecord, LedgerUnavailable, StaleRecord

COLUMNS = (
    "credential_id",
    "store",
    "owner",
    "user_key",
    HOLDER_ATTRIBUTE,
    "state",
    "created_at",
    "expires_at",
    "due_at",
    "version",
    "access_key",
    "prior_keys",
    "attempts",
    "last_error",
    "reason",
    "closed_at",
    "purge_at",
    "sweep_bucket",
    "lease_until",
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS vast_keys (
    credential_id TEXT PRIMARY KEY,
    store TEXT NOT NULL,
    owner TEXT NOT NULL,
    user_key TEXT NOT NULL,
    vast_user TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    due_at INTEGER,
    version INTEGER NOT NULL,
    access_key TEXT,
    prior_keys TEXT NOT NULL DEFAULT '[]',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    reason TEXT,
    closed_at INTEGER,
    purge_at INTEGER,
    sweep_bucket TEXT,
    lease_until INTEGER
);
CREATE INDEX IF NOT EXISTS vast_keys_by_due ON vast_keys (sweep_bucket, due_at, credential_id);
CREATE INDEX IF NOT EXISTS vast_keys_by_user ON vast_keys (user_key, created_at);
"""


class SqliteLedger(KeyLedger):
    backend = "sqlite"

    @classmethod
    def sdk_errors(cls):
        return (sqlite3.Error, OSError)

    @classmethod
    def from_options(cls, options, secrets=None) -> SqliteLedger:
        return cls(options["path"])

    def __init__(self, path: str | Path):
        path = Path(path)
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN ourselves; the timeout lets concurrent processes queue.
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._add_missing_columns()
        except (sqlite3.Error, OSError) as exc:
            raise LedgerUnavailable(f"the sqlite ledger cannot be opened ({type(exc).__name__})") from None

    def _add_missing_columns(self) -> None:
        """A ledger file made before a column existed gets it (a concurrent opener may add it first)."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(vast_keys)")}
        for column in ("lease_until",):
            if column not in have:
                try:
                    self._db.execute(f"ALTER TABLE vast_keys ADD COLUMN {column} INTEGER")
                except sqlite3.OperationalError as exc:
                    if "duplicate column" not in str(exc):
                        raise

    # -- rows -------------------------------------------------------------------------------------
    @staticmethod
    def _row(record: KeyRecord) -> tuple:
        item = record.to_item()
        item[HOLDER_ATTRIBUTE] = json.dumps(item[HOLDER_ATTRIBUTE], sort_keys=True)
        item["prior_keys"] = json.dumps(list(record.prior_keys))
        return tuple(item.get(c) for c in COLUMNS)

    @staticmethod
    def _record(row: tuple) -> KeyRecord:
        item = dict(zip(COLUMNS, row, strict=True))
        item[HOLDER_ATTRIBUTE] = json.loads(item[HOLDER_ATTRIBUTE])
        item["prior_keys"] = json.loads(item["prior_keys"] or "[]")
        return KeyRecord.from_item({k: v for k, v in item.items() if v is not None})

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- interface --------------------------------------------------------------------------------
    def create(self, record: KeyRecord) -> KeyRecord:
        marks = ",".join("?" * len(COLUMNS))
        try:
            with self._lock:
                self._db.execute(f"INSERT INTO vast_keys ({','.join(COLUMNS)}) VALUES ({marks})", self._row(record))
        except sqlite3.IntegrityError:
            raise DuplicateRecord(record.credential_id) from None
        return record

    def get(self, credential_id: str) -> KeyRecord | None:
        rows = self._query(f"SELECT {','.join(COLUMNS)} FROM vast_keys WHERE credential_id=?", (credential_id,))
        return self._record(rows[0]) if rows else None

    def replace(self, current: KeyRecord, new: KeyRecord) -> KeyRecord:
        sets = ",".join(f"{c}=?" for c in COLUMNS[1:])
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.execute(
                    f"UPDATE vast_keys SET {sets} WHERE credential_id=? AND state=? AND version=?",
                    self._row(new)[1:] + (current.credential_id, current.state, current.version),
                )
                won = cur.rowcount == 1
                self._db.execute("COMMIT" if won else "ROLLBACK")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        if not won:
            raise StaleRecord(current.credential_id)
        return new

    def for_user(self, user_key: str) -> list[KeyRecord]:
        rows = self._query(
            f"SELECT {','.join(COLUMNS)} FROM vast_keys WHERE user_key=? ORDER BY created_at, credential_id",
            (user_key,),
        )
        return [self._record(r) for r in rows]

    def due(self, now: int, limit: int, cursor: Any = None) -> tuple[list[KeyRecord], Any]:
        # Keyset paging on (due_at, credential_id): stable while the sweep moves records out of the set.
        after_due, after_id = cursor if cursor else (-1, "")
        rows = self._query(
            f"SELECT {','.join(COLUMNS)} FROM vast_keys WHERE sweep_bucket='due' AND due_at<=? "
            "AND (due_at>? OR (due_at=? AND credential_id>?)) ORDER BY due_at, credential_id LIMIT ?",
            (now, after_due, after_due, after_id, limit),
        )
        records = [self._record(r) for r in rows]
        nxt = (records[-1].due_at, records[-1].credential_id) if len(records) == limit else None
        return records, nxt

    def live(self, *, owner=None, store=None, states=(), limit=50, cursor=None) -> tuple[list[KeyRecord], Any]:
        after_due, after_id = _keyset(cursor)
        where, args = (
            ["sweep_bucket='due'", "(due_at>? OR (due_at=? AND credential_id>?))"],
            [after_due, after_due, after_id],
        )
        if states:
            where.append(f"state IN ({','.join('?' * len(states))})")
            args.extend(states)
        for column, value in (("owner", owner), ("store", store)):
            if value is not None:
                where.append(f"{column}=?")
                args.append(value)
        rows = self._query(
            f"SELECT {','.join(COLUMNS)} FROM vast_keys WHERE {' AND '.join(where)} "
            "ORDER BY due_at, credential_id LIMIT ?",
            (*args, limit),
        )
        records = [self._record(r) for r in rows]
        nxt = [records[-1].due_at, records[-1].credential_id] if len(records) == limit else None
        return records, nxt

    def count_due(self, now: int) -> int:
        return self._query("SELECT COUNT(*) FROM vast_keys WHERE sweep_bucket='due' AND due_at<=?", (now,))[0][0]

    def purge(self, now: int, limit: int) -> int:
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM vast_keys WHERE credential_id IN (SELECT credential_id FROM vast_keys "
                "WHERE sweep_bucket IS NULL AND purge_at IS NOT NULL AND purge_at<=? LIMIT ?)",
                (now, limit),
            )
            return cur.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _keyset(cursor: Any) -> tuple[int, str]:
    """The (due_at, credential_id) a page of :meth:`SqliteLedger.live` starts after."""
    if cursor is None:
        return -1, ""
    if (
        isinstance(cursor, list)
        and len(cursor) == 2
        and isinstance(cursor[0], int)
        and not isinstance(cursor[0], bool)
        and isinstance(cursor[1], str)
    ):
        return cursor[0], cursor[1]
    raise ValueError("not a cursor of this ledger")
