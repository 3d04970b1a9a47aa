"""Dependency faults of a VAST store: VMS failing during a vend and during the sweep (the simulator's
fault injection), and the key ledger failing or throttling mid-write (a fault proxy in front of
DynamoDB on moto server and of Azure Table Storage on Azurite).

Whatever fails: the caller gets 503 with Retry-After and no key, no ledger record is lost (a key VMS
made is always on record, and the sweep takes it back), retries are bounded, and the operator gets a
log line naming the store and the cause."""

from __future__ import annotations

import logging

import pytest

from shared.ledger import FAILED, PENDING, REVOKED, REVOKING
from tests.faultproxy import FaultProxy, tls_pair
from tests.vast.conftest import ledger_options
from tests.vast.vastkit import Clock, ledger_of, live_keys, vast_service, vend


@pytest.fixture
def clock():
    return Clock()


def issued(caplog) -> list:
    return [r for r in caplog.records if r.name == "tvs.audit" and '"event":"issue"' in r.getMessage()]


def records_of(service, user_key="vast|local:1001"):
    return ledger_of(service).for_user(user_key)


# -- VMS during a vend ------------------------------------------------------------------------------------
@pytest.fixture
def service(idp, sim, certs, tmp_path, clock):
    return vast_service(idp, sim, certs, ({"backend": "sqlite", "path": str(tmp_path / "ledger.sqlite3")}, {}), clock)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_vms_failing_the_create_is_503_no_key_handed_out_and_the_record_kept(service, idp, sim, caplog, status):
    sim.fail_next(1, status=status, ops=("create",))
    with caplog.at_level(logging.INFO):
        resp = vend(service, idp)
    assert resp.status == 503 and int(resp.headers["Retry-After"]) >= 1
    assert "secret" not in resp.body.decode() and not issued(caplog)
    assert live_keys(sim) == set()  # the simulator made nothing
    [record] = records_of(service)
    assert record.state in (PENDING, FAILED)  # on record until the sweep settles it
    assert any(f"store vast: VMS answered {status} to the create" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_vms_failing_the_listing_before_a_create_is_503_and_creates_nothing(service, idp, sim, caplog, status):
    sim.fail_next(10, status=status, ops=("list",))
    with caplog.at_level(logging.INFO):
        resp = vend(service, idp)
    assert resp.status == 503 and resp.json()["type"].endswith("/upstream-unavailable")
    assert sim.create_calls == 0 and records_of(service) == [] and not issued(caplog)
    assert sim.calls["list"] == 2  # the call and its one retry (retries: 1): bounded
    assert any(f"store vast: VMS answered {status}" in r.getMessage() for r in caplog.records)


def test_a_create_whose_answer_is_lost_is_never_sent_again_and_the_sweep_takes_the_key_back(
    service, idp, sim, clock, caplog
):
    sim.timeout_after_create(1, mode="close")
    with caplog.at_level(logging.INFO):
        resp = vend(service, idp)
    assert resp.status == 503 and not issued(caplog)
    assert sim.create_calls == 1
    clock.advance(121)  # past pending_grace_seconds
    service.reclaim_expired(10)
    assert live_keys(sim) == set()
    assert all(r.state in (REVOKED, FAILED) for r in records_of(service))


# -- VMS during the sweep ------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 503, 429])
def test_vms_failing_deletes_in_the_sweep_keeps_each_record_due_with_a_jittered_backoff(
    service, idp, sim, clock, caplog, status
):
    ids = [vend(service, idp, sub).json()["credential_id"] for sub in ("alice", "bob")]
    keys = live_keys(sim)
    clock.advance(3600)
    sim.fail_next(1000, status=status, ops=("delete",))
    with caplog.at_level(logging.INFO):
        summary = service.reclaim_expired(10)
    assert (summary["revoked"], summary["failed"]) == (0, 2)
    assert live_keys(sim) == keys  # nothing was lost: both keys still there, both records due again
    now = clock().timestamp()
    for cid in ids:
        record = ledger_of(service).get(cid)
        assert record.state == REVOKING and record.attempts == 1 and str(status) in (record.last_error or "")
        assert now + 15 <= record.due_at <= now + 31  # backoff_base 30 s, jittered over its upper half
    swept = [r.getMessage() for r in caplog.records if r.name == "tvs.audit" and '"event":"sweep"' in r.getMessage()]
    assert sum('"outcome":"failed"' in line for line in swept) == 2
    sim.clear_faults()
    clock.advance(31)
    assert service.reclaim_expired(10)["revoked"] == 2 and live_keys(sim) == set()


# -- the ledger failing mid-write ------------------------------------------------------------------------------
def dynamodb_put_of(state: str):
    return lambda r: r.header("x-amz-target").endswith(".PutItem") and f'"{state}"'.encode() in r.body


def azure_table_replace(request) -> bool:
    return request.method == "PUT" and bool(request.header("if-match"))


THROTTLED = b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds"}'
AMZ_JSON = "application/x-amz-json-1.0"
LEDGER_FAULTS = {
    "dynamodb-throttled": ("dynamodb", {"status": 400, "body": THROTTLED, "content_type": AMZ_JSON}),
    "dynamodb-500": ("dynamodb", {"status": 500, "body": b'{"__type":"InternalServerError"}'}),
    "azure-table-503": ("azure-table", {"status": 503, "body": b'{"odata.error":{"code":"ServerBusy"}}'}),
}


@pytest.fixture
def ledger_behind_proxy(request, tmp_path, certs):
    """A fresh ledger on ``request.param``'s backend, reached through a fault proxy; (options, env, proxy)."""
    backend = request.param
    options, env = ledger_options(backend, request, tmp_path)
    if backend == "dynamodb":
        upstream = int(options["endpoint_url"].rsplit(":", 1)[1])
        proxy = FaultProxy(upstream).start()
        options = {**options, "endpoint_url": proxy.url}
    else:
        azurite = request.getfixturevalue("azurite")
        proxy = FaultProxy(azurite.table_port, tls=tls_pair(*certs)).start()
        env = {"LEDGER_CONN": env["LEDGER_CONN"].replace(azurite.table_url, f"{proxy.url}/devstoreaccount1")}
    yield options, env, proxy
    proxy.stop()


@pytest.mark.parametrize(
    "ledger_behind_proxy,fault",
    [(backend, fault) for backend, fault in LEDGER_FAULTS.values()],
    ids=LEDGER_FAULTS.keys(),
    indirect=["ledger_behind_proxy"],
)
def test_a_ledger_failing_after_the_key_was_made_hands_out_nothing_and_the_sweep_takes_it_back(
    ledger_behind_proxy, fault, idp, sim, certs, clock, caplog
):
    options, env, proxy = ledger_behind_proxy
    service = vast_service(idp, sim, certs, (options, env), clock)
    is_activation = dynamodb_put_of("ACTIVE") if options["backend"] == "dynamodb" else azure_table_replace
    proxy.answer(when=is_activation, **fault)
    with caplog.at_level(logging.INFO):
        resp = vend(service, idp)
    assert resp.status == 503 and int(resp.headers["Retry-After"]) >= 1
    assert "secret" not in resp.body.decode() and not issued(caplog)
    assert 1 <= len([r for r in proxy.seen if is_activation(r)]) <= 3  # bounded retries
    made = live_keys(sim)
    assert len(made) == 1  # VMS made the key; the caller never got it
    [record] = records_of(service)
    assert record.state == PENDING  # the write-ahead record is still there
    assert any("ledger update after a VMS create failed; left for the sweep" in r.getMessage() for r in caplog.records)

    proxy.clear()  # the ledger is back
    clock.advance(121)  # past pending_grace_seconds
    service.reclaim_expired(10)
    assert live_keys(sim) == set()
    assert ledger_of(service).get(record.credential_id).state == REVOKED


@pytest.mark.parametrize("ledger_behind_proxy", ["dynamodb", "azure-table"], indirect=True)
def test_a_ledger_failing_before_the_key_is_made_creates_nothing(ledger_behind_proxy, idp, sim, certs, clock, caplog):
    options, env, proxy = ledger_behind_proxy
    service = vast_service(idp, sim, certs, (options, env), clock)
    proxy.answer(503, b"{}")
    with caplog.at_level(logging.INFO):
        resp = vend(service, idp)
    assert resp.status == 503 and resp.json()["type"].endswith("/upstream-unavailable")
    assert sim.create_calls == 0 and live_keys(sim) == set() and not issued(caplog)


@pytest.mark.parametrize("ledger_behind_proxy", ["dynamodb", "azure-table"], indirect=True)
def test_a_ledger_failing_during_the_sweep_loses_nothing_and_the_next_sweep_finishes(
    ledger_behind_proxy, idp, sim, certs, clock, caplog
):
    options, env, proxy = ledger_behind_proxy
    service = vast_service(idp, sim, certs, (options, env), clock)
    cid = vend(service, idp).json()["credential_id"]
    clock.advance(3600)
    proxy.answer(503, b"{}")
    with caplog.at_level(logging.INFO):
        summary = service.reclaim_expired(10)
    assert summary["revoked"] == 0 and summary.get("errors")
    assert len(live_keys(sim)) == 1
    assert any("store vast: sweep stopped" in r.getMessage() for r in caplog.records)
    proxy.clear()
    assert service.reclaim_expired(10)["revoked"] == 1
    assert live_keys(sim) == set() and ledger_of(service).get(cid).state == REVOKED
