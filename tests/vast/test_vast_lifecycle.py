"""The VAST key lifecycle end to end, on each ledger backend: vend, expire, sweep, faults, crashes, the cap."""

from __future__ import annotations

import logging
import threading

import pytest

from shared.ledger import ACTIVE, FAILED, PENDING, REVOKED, REVOKING, LedgerUnavailable
from tests.vast.vastkit import Clock, add_users, all_revoked, ledger_of, live_keys, revoke, vast_service, vend


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(idp, sim, certs, ledger_config, clock):
    return vast_service(idp, sim, certs, ledger_config, clock)


def test_a_vended_key_is_live_then_expires_and_the_sweep_revokes_it(service, idp, sim, clock):
    resp = vend(service, idp, ttl_seconds=600)
    assert resp.status == 200
    body = resp.json()
    creds = body["credentials"]
    assert [(k["access_key"], k["secret_key"]) for k in sim.keys_of_local_user(1001)] == [
        (creds["access_key_id"], creds["secret_access_key"])
    ]
    assert ledger_of(service).get(body["credential_id"]).state == ACTIVE

    clock.advance(599)
    assert service.reclaim_expired(10)["revoked"] == 0
    assert creds["access_key_id"] in live_keys(sim)

    clock.advance(2)
    summary = service.reclaim_expired(10)
    assert (summary["revoked"], summary["failed"], summary["remaining"]) == (1, 0, 0)
    assert sim.keys_of_local_user(1001) == []
    record = ledger_of(service).get(body["credential_id"])
    assert (record.state, record.reason) == (REVOKED, "expired")


def test_two_overlapping_sweeps_delete_each_key_once(idp, sim, certs, ledger_config, clock):
    add_users(sim)
    # A VMS timeout long enough that a slow machine never makes the client retry a delete (a retry is
    # a second call to VMS for the same key, which this test counts).
    first = vast_service(idp, sim, certs, ledger_config, clock, timeout_seconds=5)
    second = vast_service(idp, sim, certs, ledger_config, clock, timeout_seconds=5)  # another process
    ids = [vend(first, idp, f"u{i}").json()["credential_id"] for i in range(1, 11) for _ in range(2)]
    assert len(sim.all_keys()) == 20
    clock.advance(3600)
    sim.latency(0.02)  # each delete takes a while, so the two sweeps really run side by side
    results, barrier = [], threading.Barrier(2)

    def sweep(svc):
        barrier.wait()
        results.append(svc.reclaim_expired(30))

    threads = [threading.Thread(target=sweep, args=(svc,)) for svc in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sim.delete_calls == 20
    assert sum(r["revoked"] for r in results) == 20 and all(r["revoked"] > 0 for r in results)
    assert sim.all_keys() == [] and all_revoked(first, ids)


def test_vms_down_during_a_sweep_loses_nothing_and_the_next_sweep_finishes(service, idp, sim, clock):
    ids = [vend(service, idp, sub).json()["credential_id"] for sub in ("alice", "bob", "admin")]
    keys = live_keys(sim)
    clock.advance(3600)
    sim.fail_next(1000, status=503, ops=("delete",))
    summary = service.reclaim_expired(10)
    assert summary["revoked"] == 0 and summary["failed"] == 3
    assert live_keys(sim) == keys
    records = [ledger_of(service).get(cid) for cid in ids]
    assert all(r.state == REVOKING and r.attempts == 1 and r.due_at > clock().timestamp() for r in records)

    sim.clear_faults()
    assert service.reclaim_expired(10)["revoked"] == 0  # the retry waits for its backoff
    clock.advance(31)
    assert service.reclaim_expired(10)["revoked"] == 3
    assert sim.all_keys() == [] and all_revoked(service, ids)


def test_a_failing_vms_trips_the_breaker_and_the_rest_stays_due(idp, sim, certs, ledger_config, clock):
    add_users(sim)
    service = vast_service(idp, sim, certs, ledger_config, clock, sweep={"breaker": 2, "concurrency": 1})
    for i in range(1, 7):
        vend(service, idp, f"u{i}")
    clock.advance(3600)
    sim.fail_next(1000, status=500, ops=("delete",))
    summary = service.reclaim_expired(10)
    assert summary["failed"] == 2 and summary["remaining"] == 4
    sim.clear_faults()
    clock.advance(61)
    assert service.reclaim_expired(10)["revoked"] == 6


def test_a_crash_between_create_and_ledger_update_is_reconciled(service, idp, sim, clock, monkeypatch):
    own = sim.add_key(1001)["access_key"]  # the user's own key, made outside the service
    ledger = ledger_of(service)
    real_replace = ledger.replace

    def crash_on_activation(current, new):
        if new.state == ACTIVE:
            raise LedgerUnavailable("the process died here")
        return real_replace(current, new)

    monkeypatch.setattr(ledger, "replace", crash_on_activation)
    resp = vend(service, idp)
    assert resp.status == 503
    orphan = live_keys(sim) - {own}
    assert len(orphan) == 1  # VMS made the key; the ledger never learnt its access key
    monkeypatch.undo()

    clock.advance(60)
    assert service.reclaim_expired(10)["reconciled"] == 0  # still inside the grace period of the create
    clock.advance(61)
    summary = service.reclaim_expired(10)
    assert (summary["reconciled"], summary["revoked"]) == (1, 1)
    assert live_keys(sim) == {own}
    [record] = ledger.for_user("vast|local:1001")
    assert (record.state, record.reason, record.access_key) == (REVOKED, "reconciled", orphan.pop())


def test_a_lost_create_answer_is_reconciled_at_once_and_never_retried(service, idp, sim):
    own = sim.add_key(1001)["access_key"]
    sim.timeout_after_create(1, mode="close")
    resp = vend(service, idp)
    assert resp.status == 503 and resp.headers["Retry-After"]
    assert sim.create_calls == 1
    assert live_keys(sim) == {own}
    [record] = ledger_of(service).for_user("vast|local:1001")
    assert (record.state, record.reason) == (REVOKED, "reconciled")


def test_a_create_that_never_happened_leaves_a_failed_record_after_the_grace(service, idp, sim, clock):
    sim.fail_next(1, status=500, ops=("create",))
    assert vend(service, idp).status == 503
    [record] = ledger_of(service).for_user("vast|local:1001")
    assert record.state == PENDING  # the create may still be under way in VMS
    clock.advance(121)
    assert service.reclaim_expired(10)["reconciled"] == 1
    assert ledger_of(service).get(record.credential_id).state == FAILED
    assert sim.delete_calls == 0


def test_keys_the_ledger_does_not_know_are_never_touched(service, idp, sim, clock):
    own = sim.add_key(1001)["access_key"]
    bobs = {sim.add_key(1002)["access_key"] for _ in range(2)}
    ours = vend(service, idp).json()["credentials"]["access_key_id"]
    clock.advance(3600)
    assert service.reclaim_expired(10)["revoked"] == 1
    assert live_keys(sim) == {own} | bobs
    assert ours not in live_keys(sim)
    assert sim.delete_calls == 1


def test_at_the_cap_our_own_oldest_key_is_rotated_out(service, idp, sim, clock):
    first = vend(service, idp).json()
    clock.advance(1)
    second = vend(service, idp).json()
    clock.advance(1)
    third = vend(service, idp)
    assert third.status == 200
    assert live_keys(sim) == {second["credentials"]["access_key_id"], third.json()["credentials"]["access_key_id"]}
    record = ledger_of(service).get(first["credential_id"])
    assert (record.state, record.reason) == (REVOKED, "rotated")


def test_at_the_cap_only_our_key_is_rotated_never_the_users_own(service, idp, sim, clock):
    own = sim.add_key(1001)["access_key"]
    ours = vend(service, idp).json()["credentials"]["access_key_id"]
    clock.advance(1)
    newer = vend(service, idp).json()["credentials"]["access_key_id"]
    assert live_keys(sim) == {own, newer} and ours != newer


def test_at_the_cap_with_only_the_users_own_keys_the_answer_is_409(service, idp, sim):
    own = {sim.add_key(1001)["access_key"] for _ in range(2)}
    resp = vend(service, idp)
    assert resp.status == 409
    problem = resp.json()
    assert problem["type"].endswith("/vast-key-cap") and "delete one of them in VMS" in problem["detail"]
    assert live_keys(sim) == own and sim.create_calls == 0 and sim.delete_calls == 0
    assert ledger_of(service).for_user("vast|local:1001") == []


def test_the_sweep_stops_at_its_budget_and_the_next_run_resumes(service, idp, sim, clock):
    for sub in ("alice", "bob", "admin"):
        vend(service, idp, sub)
    clock.advance(3600)
    assert service.vendor("vast").reclaim_expired(0) == {"revoked": 0, "failed": 0, "reconciled": 0, "remaining": 3}
    assert service.reclaim_expired(10)["revoked"] == 3 and sim.all_keys() == []


def test_the_sweep_writes_one_audit_record_per_key(service, idp, sim, clock, caplog):
    ids = {vend(service, idp, sub).json()["credential_id"] for sub in ("alice", "bob")}
    clock.advance(3600)
    caplog.set_level(logging.INFO, logger="tvs.audit")
    service.reclaim_expired(10)
    per_key = [
        r.getMessage()
        for r in caplog.records
        if '"event":"sweep"' in r.getMessage() and "credential_id" in r.getMessage()
    ]
    assert len(per_key) == 2 and all(any(cid in line for line in per_key) for cid in ids)
    assert all('"outcome":"revoked"' in line for line in per_key)


def test_an_unexpected_error_on_one_record_does_not_stop_the_sweep(service, idp, sim, clock, monkeypatch):
    broken = vend(service, idp, "alice").json()["credential_id"]
    fine = vend(service, idp, "bob").json()["credential_id"]
    clock.advance(3600)
    life = service.vendor("vast").lifecycle()
    revoke = life.revoke

    def flaky(record, reason):
        if record.credential_id == broken:
            raise RuntimeError("a bug in one record's processing")
        return revoke(record, reason)

    monkeypatch.setattr(life, "revoke", flaky)
    summary = service.reclaim_expired(10)
    assert (summary["revoked"], summary["failed"]) == (1, 1)
    assert ledger_of(service).get(fine).state == REVOKED
    assert ledger_of(service).get(broken).state == ACTIVE  # still due: the next run tries again
    monkeypatch.setattr(life, "revoke", revoke)
    assert service.reclaim_expired(10)["revoked"] == 1 and sim.all_keys() == []


def test_the_sweep_reserves_a_reconciles_whole_vms_call_chain(idp, sim, certs, ledger_config, monkeypatch):
    # Defaults: timeout 10 s, 2 retries, 3 s to connect. A reconcile lists then deletes: each call may
    # take (retries + 1) x (connect + read timeout) plus the backoff between attempts.
    service = vast_service(idp, sim, certs, ledger_config, timeout_seconds=10, retries=2)
    seen = {}
    from shared.vast import vendor as vast_vendor

    monkeypatch.setattr(
        vast_vendor, "reclaim_store", lambda life, budget, settings: seen.setdefault("s", settings) and {}
    )
    service.vendor("vast").reclaim_expired(290)
    assert seen["s"].reserve_seconds >= 2 * 3 * (3 + 10)


def _during_the_sweeps_delete(service, monkeypatch, action):
    """Run ``action`` once, while a sweep holds a record and is about to delete its key in VMS."""
    vms = service.vendor("vast").lifecycle().vms
    real, results = vms.delete_key, []

    def delete(user, access_key):
        if not results:
            results.append(None)
            results[0] = action()
        return real(user, access_key)

    monkeypatch.setattr(vms, "delete_key", delete)
    return results


def _failed_revoke(service, idp, sim, cid):
    sim.fail_next(10, status=500, ops=("delete",))
    assert revoke(service, idp, cid).status == 503
    sim.clear_faults()
    assert ledger_of(service).get(cid).attempts > 0


def test_an_api_revoke_does_not_take_a_record_the_sweep_is_deleting(service, idp, sim, clock, monkeypatch):
    cid = vend(service, idp).json()["credential_id"]
    _failed_revoke(service, idp, sim, cid)
    clock.advance(3600)
    results = _during_the_sweeps_delete(service, monkeypatch, lambda: revoke(service, idp, cid).status)
    before = sim.delete_calls
    assert service.reclaim_expired(10)["revoked"] == 1
    assert results == [503] and sim.delete_calls - before == 1
    assert ledger_of(service).get(cid).state == REVOKED and sim.all_keys() == []


def test_a_rotation_does_not_take_a_record_the_sweep_is_deleting(service, idp, sim, clock, monkeypatch):
    first = vend(service, idp).json()
    clock.advance(1)
    second = vend(service, idp).json()
    _failed_revoke(service, idp, sim, first["credential_id"])
    clock.advance(120)  # the failed delete's retry is due; the second key is not expired
    results = _during_the_sweeps_delete(service, monkeypatch, lambda: vend(service, idp))
    service.reclaim_expired(10)
    [third] = results
    assert third.status == 200
    assert live_keys(sim) == {third.json()["credentials"]["access_key_id"]}
    rotated = ledger_of(service).get(second["credential_id"])
    assert (rotated.state, rotated.reason) == (REVOKED, "rotated")
    assert ledger_of(service).get(first["credential_id"]).state == REVOKED


def test_at_the_cap_a_vend_never_rotates_out_a_key_of_another_principal_of_the_same_user(
    idp, sim, certs, ledger_config, clock
):
    from tests.vast.vastkit import USERS

    shared_user = vast_service(
        idp, sim, certs, ledger_config, clock, mapping={"users": {**USERS, "mallory": {"user_id": 1001}}}
    )
    alices = {vend(shared_user, idp, "alice").json()["credentials"]["access_key_id"] for _ in range(2)}
    clock.advance(1)
    resp = vend(shared_user, idp, "mallory")
    assert resp.status == 409 and resp.json()["type"].endswith("/vast-key-cap")
    assert live_keys(sim) == alices and sim.delete_calls == 0
    assert {r.state for r in ledger_of(shared_user).for_user("vast|local:1001")} == {ACTIVE}


def test_the_embedded_default_maps_no_demo_subject_to_a_privileged_vast_user():
    from localdev.default_config import DEMO_VAST_USERS
    from shared.vast.mapping import VastUser, is_protected

    assert not any(is_protected(VastUser(**entry), {}) for entry in DEMO_VAST_USERS.values())
