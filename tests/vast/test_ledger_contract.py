"""The KeyLedger contract: the same behaviour on SQLite, DynamoDB (moto server) and Azure Tables (Azurite)."""

from __future__ import annotations

import threading
import uuid

import pytest

from shared.ledger import (
    ACTIVE,
    FAILED,
    PENDING,
    RETENTION_SECONDS,
    REVOKED,
    REVOKING,
    DuplicateRecord,
    KeyRecord,
    LedgerUnavailable,
    StaleRecord,
    open_ledger,
)
from shared.secrets import SecretResolver

NOW = 1_800_000_000


def record(
    user: str = "local:1001", state: str = ACTIVE, due_at: int | None = NOW - 10, created: str | None = None, **over
) -> KeyRecord:
    cid = f"vast.s1.{uuid.uuid4()}"
    values = dict(
        credential_id=cid,
        store="s1",
        owner="https://idp|alice",
        user_key=f"s1|{user}",
        holder={"user_id": 1001},
        state=state,
        created_at=created or "2027-01-15T08:00:00.000000Z",
        expires_at=NOW - 10,
        due_at=due_at,
        access_key="AK/+=" + cid[-6:] if state != PENDING else None,
    )
    values.update(over)
    return KeyRecord(**values)


def test_a_created_record_reads_back_equal(ledger):
    rec = record(state=PENDING, prior_keys=("K1/+==",), holder={"sid": "S-1-5-21-1"})
    ledger.create(rec)
    assert ledger.get(rec.credential_id) == rec


def test_an_unknown_id_reads_as_none(ledger):
    assert ledger.get("vast.s1.nothing-here") is None


def test_creating_the_same_id_twice_is_refused(ledger):
    rec = record()
    ledger.create(rec)
    with pytest.raises(DuplicateRecord):
        ledger.create(rec)


def test_a_transition_bumps_the_version_and_is_stored(ledger):
    rec = ledger.create(record(state=PENDING))
    active = ledger.transition(rec, ACTIVE, access_key="AK1", due_at=NOW + 900)
    assert active.version == rec.version + 1
    stored = ledger.get(rec.credential_id)
    assert (stored.state, stored.access_key, stored.due_at, stored.version) == (ACTIVE, "AK1", NOW + 900, 2)


def test_a_transition_from_a_stale_copy_is_refused(ledger):
    rec = ledger.create(record())
    ledger.transition(ledger.get(rec.credential_id), REVOKING, due_at=NOW + 60)
    with pytest.raises(StaleRecord):
        ledger.transition(rec, REVOKING, due_at=NOW + 60)


def test_of_concurrent_claims_on_one_record_exactly_one_wins(ledger):
    rec = ledger.create(record())
    copies = [ledger.get(rec.credential_id) for _ in range(6)]
    wins, barrier = [], threading.Barrier(len(copies))

    def claim(copy):
        barrier.wait()
        try:
            ledger.transition(copy, REVOKING, due_at=NOW + 60)
            wins.append(1)
        except StaleRecord:
            pass

    threads = [threading.Thread(target=claim, args=(c,)) for c in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert ledger.get(rec.credential_id).version == 2


def test_due_lists_only_records_due_now(ledger):
    due = ledger.create(record(due_at=NOW - 1))
    ledger.create(record(due_at=NOW + 100))
    page, cursor = ledger.due(NOW, 10)
    assert [r.credential_id for r in page] == [due.credential_id]
    assert cursor is None or ledger.due(NOW, 10, cursor)[0] == []


def test_terminal_records_leave_the_due_index_and_get_a_purge_time(ledger):
    rec = ledger.create(record(state=REVOKING))
    ledger.transition(rec, REVOKED, closed_at=NOW)
    stored = ledger.get(rec.credential_id)
    assert stored.due_at is None and stored.sweep_bucket is None
    assert stored.purge_at == NOW + RETENTION_SECONDS
    assert ledger.due(NOW + 10**6, 10)[0] == []


def test_paging_through_due_records_visits_each_exactly_once(ledger):
    ids = {ledger.create(record(due_at=NOW - i % 3)).credential_id for i in range(7)}
    seen, cursor = [], None
    while True:
        page, cursor = ledger.due(NOW, 3, cursor)
        seen += [r.credential_id for r in page]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)


def test_paging_survives_records_leaving_the_due_set_between_pages(ledger):
    ids = {ledger.create(record()).credential_id for _ in range(5)}
    seen, cursor = [], None
    while True:
        page, cursor = ledger.due(NOW, 2, cursor)
        for r in page:
            seen.append(r.credential_id)
            ledger.transition(r, REVOKING, due_at=NOW + 3600)
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)


def test_count_due_counts_due_records(ledger):
    for due_at in (NOW - 5, NOW, NOW + 5):
        ledger.create(record(due_at=due_at))
    assert ledger.count_due(NOW) == 2


def test_records_of_a_user_come_back_oldest_first_and_only_theirs(ledger):
    b = ledger.create(record(created="2027-01-15T08:00:02.000000Z"))
    a = ledger.create(record(created="2027-01-15T08:00:01.000000Z"))
    ledger.create(record(user="uid:50001"))
    assert [r.credential_id for r in ledger.for_user("s1|local:1001")] == [a.credential_id, b.credential_id]


def test_purge_drops_only_terminal_records_past_their_purge_time(ledger):
    old = ledger.transition(ledger.create(record(state=PENDING)), FAILED, closed_at=NOW - RETENTION_SECONDS - 1)
    young = ledger.transition(ledger.create(record(state=REVOKING)), REVOKED, closed_at=NOW)
    live = ledger.create(record(due_at=NOW - RETENTION_SECONDS * 2))
    ledger.purge(NOW, 100)
    if ledger.backend != "dynamodb":  # DynamoDB leaves it to the table's TTL attribute
        assert ledger.get(old.credential_id) is None
    assert ledger.get(young.credential_id) is not None
    assert ledger.get(live.credential_id) is not None


def test_the_state_machine_refuses_a_jump_backwards(ledger):
    rec = ledger.create(record())
    with pytest.raises(ValueError):
        ledger.transition(rec, PENDING)


def test_a_terminal_transition_needs_its_close_time(ledger):
    rec = ledger.create(record(state=REVOKING))
    with pytest.raises(ValueError):
        ledger.transition(rec, REVOKED)


def test_the_stored_record_holds_no_secret_field(ledger):
    rec = ledger.create(record())
    assert not any("secret" in name for name in rec.to_item())


def test_a_store_that_is_not_there_is_ledger_unavailable(broken_ledger_options):
    options, env = broken_ledger_options
    with pytest.raises(LedgerUnavailable):
        open_ledger(options, SecretResolver(env)).create(record())


def test_a_lease_is_stored_and_ended_by_the_holders_next_transition(ledger):
    rec = ledger.create(record())
    claimed = ledger.transition(rec, REVOKING, due_at=NOW + 90, lease_until=NOW + 90)
    assert ledger.get(rec.credential_id).lease_until == NOW + 90
    ledger.transition(claimed, REVOKING, attempts=1, due_at=NOW + 30)
    stored = ledger.get(rec.credential_id)
    assert (stored.lease_until, stored.attempts, stored.due_at) == (None, 1, NOW + 30)


def test_a_sqlite_ledger_file_from_before_leases_gets_the_column(tmp_path):
    import sqlite3

    from shared.ledger.sqlite import SCHEMA, SqliteLedger

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(str(path))
    old.executescript(SCHEMA.replace(",\n    lease_until INTEGER", ""))
    old.close()
    ledger = SqliteLedger(path)
    rec = ledger.create(record())
    ledger.transition(rec, REVOKING, due_at=NOW + 90, lease_until=NOW + 90)
    assert ledger.get(rec.credential_id).lease_until == NOW + 90
    assert SqliteLedger(path).get(rec.credential_id).lease_until == NOW + 90


def _all_live(ledger, limit=3, **filters) -> list[KeyRecord]:
    seen, cursor = [], None
    while True:
        query = {"owner": None, "store": None, "states": (), **filters}
        page, cursor = ledger.live(limit=limit, cursor=cursor, **query)
        assert len(page) <= limit
        seen += page
        if cursor is None:
            return seen


def test_live_records_are_listed_once_each_across_pages_and_never_terminal_ones(ledger):
    live = {ledger.create(record(due_at=NOW + i)).credential_id for i in range(7)}
    done = ledger.create(record())
    ledger.transition(ledger.transition(done, REVOKING), REVOKED, closed_at=NOW)
    seen = [r.credential_id for r in _all_live(ledger)]
    assert sorted(seen) == sorted(live)


def test_live_records_are_filtered_by_owner_store_and_state(ledger):
    mine = ledger.create(record(owner="https://idp|bob", due_at=NOW + 5))
    ledger.create(record(owner="https://idp|alice"))
    ledger.create(record(owner="https://idp|bob", store="s2", credential_id=f"vast.s2.{uuid.uuid4()}"))
    pending = ledger.create(record(owner="https://idp|bob", state=PENDING))
    assert [r.credential_id for r in _all_live(ledger, owner="https://idp|bob", store="s1", states=(ACTIVE,))] == [
        mine.credential_id
    ]
    assert {r.credential_id for r in _all_live(ledger, owner="https://idp|bob", store="s1")} == {
        mine.credential_id,
        pending.credential_id,
    }


def test_an_owner_with_quotes_and_separators_is_matched_literally(ledger):
    odd = ledger.create(record(owner="https://idp|o'brien\" or 1=1"))
    ledger.create(record(owner="https://idp|o"))
    assert [r.credential_id for r in _all_live(ledger, owner="https://idp|o'brien\" or 1=1")] == [odd.credential_id]


@pytest.mark.parametrize("cursor", ["x", 42, ["a", "b", "c"], {"PartitionKey": 1}, {"credential_id": "x"}])
def test_a_cursor_the_ledger_did_not_make_is_refused(ledger, cursor):
    with pytest.raises(ValueError):
        ledger.live(owner=None, store=None, states=(), limit=3, cursor=cursor)
