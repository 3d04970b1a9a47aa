"""Reconciling PENDING records: which unknown keys are ours, and which must never be touched."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shared.ledger import ACTIVE, FAILED, PENDING, REVOKED, KeyRecord, now_iso
from shared.ledger.sqlite import SqliteLedger
from shared.vast.lifecycle import AMBIGUOUS, RECONCILED, REVOKED_NOW, STILL_PENDING, KeyLifecycle, LifecyclePolicy
from shared.vast.mapping import VastUser
from shared.vast.vms_client import VmsClient
from tests.vast.conftest import SIM_PASSWORD
from tests.vast.vastkit import Clock

ALICE = VastUser(user_id=1001)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def life(sim, certs, tmp_path, clock):
    vms = VmsClient(sim.url, auth=("basic", "admin", SIM_PASSWORD), ca_bundle=str(certs[0]), timeout=1, backoff=0.01)
    return KeyLifecycle("vast", SqliteLedger(tmp_path / "l.db"), vms, LifecyclePolicy(create_timeout_seconds=1), clock)


def pending(life, clock, prior=(), seconds_ago=0) -> KeyRecord:
    """A PENDING record of alice as the vend writes it, created ``seconds_ago``."""
    created = clock() - timedelta(seconds=seconds_ago)
    epoch = int(created.timestamp())
    return life.ledger.create(
        KeyRecord(
            credential_id=f"vast.vast.{uuid.uuid4()}",
            store="vast",
            owner="https://idp|alice",
            user_key="vast|local:1001",
            holder=ALICE.as_ref(),
            state=PENDING,
            created_at=now_iso(created),
            expires_at=epoch + 900,
            due_at=epoch + 120,
            prior_keys=tuple(prior),
        )
    )


def test_a_key_that_appeared_after_the_listing_is_ours_and_is_revoked(life, sim, clock):
    own = sim.add_key(1001)["access_key"]
    record = pending(life, clock, prior=[own])
    sim.add_key(1001)  # what the lost create made
    outcome = life.reconcile(record)
    assert {RECONCILED, REVOKED_NOW} <= outcome.tags
    assert [k["access_key"] for k in sim.keys_of_local_user(1001)] == [own]
    assert life.ledger.get(record.credential_id).state == REVOKED


def test_no_new_key_after_the_grace_means_the_create_never_happened(life, sim, clock):
    own = sim.add_key(1001)["access_key"]
    record = pending(life, clock, prior=[own], seconds_ago=200)
    assert RECONCILED in life.reconcile(record).tags
    assert life.ledger.get(record.credential_id).state == FAILED
    assert sim.delete_calls == 0


def test_right_after_a_lost_answer_no_new_key_is_not_yet_a_conclusion(life, sim, clock):
    record = pending(life, clock)
    assert STILL_PENDING in life.reconcile(record, final=False).tags
    stored = life.ledger.get(record.credential_id)
    assert stored.state == PENDING and stored.due_at == record.due_at


def test_a_key_created_outside_the_records_time_window_is_never_taken(life, sim, clock):
    record = pending(life, clock, seconds_ago=3600)  # our create was an hour ago
    sim.add_key(1001)  # a key the user makes now is not the one our create made
    assert RECONCILED in life.reconcile(record).tags
    assert len(sim.keys_of_local_user(1001)) == 1 and sim.delete_calls == 0


def test_a_key_another_record_knows_is_never_taken(life, sim, clock):
    ours = sim.add_key(1001)["access_key"]
    other = pending(life, clock, seconds_ago=300)
    life.ledger.transition(other, ACTIVE, access_key=ours, due_at=other.expires_at)
    record = pending(life, clock, seconds_ago=150)
    life.reconcile(record)
    assert [k["access_key"] for k in sim.keys_of_local_user(1001)] == [ours]


def test_more_unknown_keys_than_lost_creates_is_ambiguous_and_touches_nothing(life, sim, clock):
    record = pending(life, clock, seconds_ago=150)
    sim.add_key(1001)
    sim.add_key(1001)
    outcome = life.reconcile(record)
    assert AMBIGUOUS in outcome.tags and sim.delete_calls == 0
    stored = life.ledger.get(record.credential_id)
    assert stored.state == PENDING and stored.attempts == 1 and "ambiguous" in stored.last_error


def test_a_lost_create_waits_while_another_create_for_the_user_is_in_flight(life, sim, clock):
    in_flight = pending(life, clock)
    theirs = sim.add_key(1001)["access_key"]  # made by the in-flight create, not yet recorded
    lost = pending(life, clock)
    mine = sim.add_key(1001)["access_key"]
    assert STILL_PENDING in life.reconcile(lost, final=False).tags
    assert sim.delete_calls == 0

    life.ledger.transition(in_flight, ACTIVE, access_key=theirs, due_at=in_flight.expires_at)
    assert REVOKED_NOW in life.reconcile(life.ledger.get(lost.credential_id), final=False).tags
    assert [k["access_key"] for k in sim.keys_of_local_user(1001)] == [theirs]
    assert mine != theirs


def test_vms_unreachable_during_reconciliation_keeps_the_record_and_backs_off(life, sim, clock):
    record = pending(life, clock, seconds_ago=150)
    sim.fail_next(10, status=503, ops=("list",))
    life.reconcile(record)
    stored = life.ledger.get(record.credential_id)
    assert stored.state == PENDING and stored.attempts == 1 and stored.due_at > int(clock().timestamp())


def test_a_creation_time_without_a_zone_is_read_as_utc(life, sim, clock):
    record = pending(life, clock)
    key = sim.add_key(1001)["access_key"]  # what the lost create made, stamped without a zone
    sim.store._keys[key].creation_time = clock().replace(tzinfo=None).isoformat()
    outcome = life.reconcile(record)
    assert {RECONCILED, REVOKED_NOW} <= outcome.tags
    assert sim.keys_of_local_user(1001) == []
