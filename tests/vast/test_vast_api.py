"""The VAST store through the HTTP contract: vending, formats, revocation and refusals (SQLite ledger)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from localdev.default_config import demo_stores
from shared.ledger import ACTIVE, PENDING, REVOKED
from shared.secrets import SecretResolver
from tests.support import build_service, call, token
from tests.vast.conftest import SIM_PASSWORD
from tests.vast.vastkit import Clock, ledger_of, live_keys, revoke, vast_config, vend

CAROL_SID = "S-1-5-21-1004336348-1177238915-682003330-1101"


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def raw(idp, sim, certs, tmp_path):
    """A vast store plus an Azure Blob store (for a non-revocable id); nothing reaches Azure here."""
    raw = vast_config(idp, sim, certs[0], {"backend": "sqlite", "path": str(tmp_path / "ledger.sqlite3")})
    raw["stores"]["blob"] = {
        "kind": "azure-blob",
        "account_url": "https://acct.blob.core.windows.net",
        "container": "c",
        "auth": {"method": "managed-identity"},
    }
    raw["stores"]["s3"] = demo_stores({"moto": SimpleNamespace(url="http://127.0.0.1:9")})["demo-s3"]
    return raw


@pytest.fixture
def service(raw, idp, clock):
    return build_service(raw, idp, secrets=SecretResolver({"VMS_PASSWORD": SIM_PASSWORD}), clock=clock)


def test_a_vended_key_has_the_s3_shape_and_works_in_vms(service, idp, sim, clock):
    resp = vend(service, idp, ttl_seconds=600)
    assert resp.status == 200
    body = resp.json()
    assert body["provider"] == "vast-s3" and body["store"] == "vast" and body["access"] == "read"
    assert body["credential_id"].startswith("vast.vast.")
    creds = body["credentials"]
    assert set(creds) == {"access_key_id", "secret_access_key", "endpoint_url", "region"}
    assert creds["endpoint_url"] == "https://s3.vast.test"
    assert body["storage_options"]["key"] == creds["access_key_id"]
    assert body["storage_options"]["secret"] == creds["secret_access_key"]
    assert body["scope"] == {
        "endpoint": "https://s3.vast.test",
        "vast_user": "local:1001",
        "key_access": "read",
        "prefix": "",
    }
    issued = datetime.fromisoformat(body["issued_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires - issued == timedelta(seconds=600)
    [key] = sim.keys_of_local_user(1001)
    assert (key["access_key"], key["secret_key"], key["enabled"]) == (
        creds["access_key_id"],
        creds["secret_access_key"],
        True,
    )


def test_the_ttl_is_clamped_to_the_store_maximum(service, idp):
    body = vend(service, idp, ttl_seconds=86_400).json()
    issued = datetime.fromisoformat(body["issued_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")) - issued == timedelta(seconds=3600)


def test_the_secret_is_never_stored_in_the_ledger_nor_logged(service, idp, caplog):
    caplog.set_level(logging.DEBUG)
    body = vend(service, idp).json()
    secret = body["credentials"]["secret_access_key"]
    record = ledger_of(service).get(body["credential_id"])
    assert secret not in repr(record.to_item())
    assert revoke(service, idp, body["credential_id"]).status == 204
    assert all(secret not in r.getMessage() for r in caplog.records)


def test_the_iceberg_format_carries_the_key_and_its_expiry_in_config(service, idp):
    body = vend(service, idp, format="iceberg").json()
    [entry] = body["storage-credentials"]
    config = entry["config"]
    assert entry["prefix"] == "s3://"
    assert {"s3.access-key-id", "s3.secret-access-key", "s3.endpoint", "s3.session-token-expires-at-ms"} <= set(config)
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert int(config["s3.session-token-expires-at-ms"]) == int(expires.timestamp() * 1000)


def test_the_credential_process_format_is_the_aws_shape(service, idp, sim):
    body = vend(service, idp, format="credential_process").json()
    assert set(body) == {"Version", "AccessKeyId", "SecretAccessKey", "Expiration"} and body["Version"] == 1
    assert body["AccessKeyId"] in live_keys(sim)


def test_a_directory_user_is_mapped_from_a_verified_sid_claim(service, idp, sim):
    resp = call(
        service,
        "POST",
        "/api/v1/credentials",
        body={"store": "vast", "access": "read"},
        token=token(idp, "carol@corp", ["demo-users"], onprem_sid=CAROL_SID),
    )
    assert resp.status == 200
    assert [k["access_key"] for k in sim.keys_of_non_local(sid=CAROL_SID)] == [
        resp.json()["credentials"]["access_key_id"]
    ]


def test_a_caller_with_no_mapping_is_refused_with_403(service, idp, sim):
    resp = vend(service, idp, "mallory")
    assert resp.status == 403 and resp.json()["type"].endswith("/vast-user-unmapped")
    assert sim.create_calls == 0


def test_a_malformed_mapping_claim_is_refused_with_403(service, idp, sim):
    resp = call(
        service,
        "POST",
        "/api/v1/credentials",
        body={"store": "vast", "access": "read"},
        token=token(idp, "carol@corp", ["demo-users"], onprem_sid="S-1-5-*"),
    )
    assert resp.status == 403 and sim.create_calls == 0


def test_a_mapped_user_unknown_to_vms_is_refused_with_403(service, idp, sim):
    resp = call(
        service,
        "POST",
        "/api/v1/credentials",
        body={"store": "vast", "access": "read"},
        token=token(idp, "ghost", ["demo-users"], uid_number=77777),
    )
    assert resp.status == 403 and resp.json()["type"].endswith("/vast-user-unknown")


def test_a_prefix_is_refused_because_a_key_cannot_be_narrowed(service, idp, sim):
    resp = vend(service, idp, path="users/alice/")
    assert resp.status == 400 and resp.json()["type"].endswith("/prefix-scope-unsupported")
    assert sim.create_calls == 0


def test_less_access_than_the_key_carries_is_refused(service, idp, sim):
    resp = vend(service, idp, access="list")
    assert resp.status == 400 and resp.json()["type"].endswith("/access-not-offered")
    assert sim.create_calls == 0


def test_more_access_than_granted_is_refused_with_403(service, idp, sim):
    assert vend(service, idp, access="write").status == 403
    assert sim.create_calls == 0


def test_vms_down_at_vend_time_is_503_with_retry_after_and_no_active_record(service, idp, sim):
    sim.fail_next(10, status=503, ops=("list",))
    resp = vend(service, idp)
    assert resp.status == 503 and int(resp.headers["Retry-After"]) > 0
    assert ledger_of(service).for_user("vast|local:1001") == []


def test_the_owner_revokes_and_the_key_is_gone(service, idp, sim):
    body = vend(service, idp).json()
    resp = revoke(service, idp, body["credential_id"])
    assert resp.status == 204 and resp.body == b""
    assert sim.all_keys() == []
    record = ledger_of(service).get(body["credential_id"])
    assert (record.state, record.reason) == (REVOKED, "owner")


def test_an_admin_revokes_someone_elses_key(service, idp, sim):
    body = vend(service, idp).json()
    assert revoke(service, idp, body["credential_id"], "root", ("demo-admins",)).status == 204
    assert sim.all_keys() == []
    assert ledger_of(service).get(body["credential_id"]).reason == "admin"


def test_another_user_is_told_the_credential_does_not_exist(service, idp, sim):
    body = vend(service, idp).json()
    resp = revoke(service, idp, body["credential_id"], "bob")
    assert resp.status == 404
    assert body["credentials"]["access_key_id"] in live_keys(sim)
    assert ledger_of(service).get(body["credential_id"]).state == ACTIVE


def test_revoking_twice_is_204_both_times(service, idp, sim):
    cid = vend(service, idp).json()["credential_id"]
    assert revoke(service, idp, cid).status == 204
    assert revoke(service, idp, cid).status == 204
    assert sim.delete_calls == 1


@pytest.mark.parametrize(
    "cid", ["vast.vast.00000000-0000-0000-0000-000000000000", "vast.nostore.abc", "garbage", "x" * 300]
)
def test_an_unknown_credential_is_404(service, idp, cid):
    resp = revoke(service, idp, cid)
    assert resp.status == 404 and resp.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "cid,provider", [("sas-0123456789abcdef01234567", "azure-blob"), ("ASIAZ7EXAMPLE0000001", "aws-s3")]
)
def test_a_non_revocable_kind_is_409_not_revocable(service, idp, cid, provider):
    resp = revoke(service, idp, cid)
    assert resp.status == 409 and resp.json()["type"].endswith("/not-revocable")
    assert provider in resp.json()["detail"]


def test_revoking_needs_a_token(service):
    assert call(service, "DELETE", "/api/v1/credentials/vast.vast.x").status == 401


def test_a_revocation_vms_does_not_confirm_is_503_and_the_sweep_finishes_it(service, idp, sim, clock):
    body = vend(service, idp).json()
    sim.fail_next(10, status=500, ops=("delete",))
    resp = revoke(service, idp, body["credential_id"])
    assert resp.status == 503 and "sweep" in resp.json()["detail"]
    sim.clear_faults()
    clock.advance(61)
    assert service.reclaim_expired(10)["revoked"] == 1 and sim.all_keys() == []


def test_the_openapi_document_now_publishes_the_delete_route(service):
    doc = call(service, "GET", "/api/v1/openapi.json").json()
    assert "delete" in doc["paths"]["/api/v1/credentials/{credential_id}"]


def test_the_container_credentials_route_is_not_offered_for_vast_keys(service, idp, sim):
    resp = call(
        service,
        "GET",
        "/api/v1/aws/container-credentials/vast",
        token=token(idp, "alice", ["demo-users"]),
        query={"access": "read"},
    )
    assert resp.status == 400 and resp.json()["type"].endswith("/bad-format")
    assert sim.create_calls == 0


@pytest.fixture
def slow_service(raw, idp, clock):
    raw["stores"]["vast"].update(timeout_seconds=1, retries=2, request_deadline_seconds=1)
    return build_service(raw, idp, secrets=SecretResolver({"VMS_PASSWORD": SIM_PASSWORD}), clock=clock)


def test_a_vend_against_a_slow_vms_is_503_within_the_deadline_and_reconciled_later(slow_service, idp, sim, clock):
    sim.latency(0.6)  # the listing answers; the create is made but its answer comes after the deadline
    started = time.monotonic()
    resp = vend(slow_service, idp)
    assert resp.status == 503 and int(resp.headers["Retry-After"]) > 0
    assert time.monotonic() - started < 1.5
    sim.clear_faults()
    [record] = ledger_of(slow_service).for_user("vast|local:1001")
    assert record.state == PENDING and len(sim.keys_of_local_user(1001)) == 1
    clock.advance(121)
    assert slow_service.reclaim_expired(10)["reconciled"] == 1
    assert sim.all_keys() == [] and ledger_of(slow_service).get(record.credential_id).state == REVOKED


def test_a_revoke_against_a_slow_vms_is_503_within_the_deadline_and_the_sweep_finishes_it(
    slow_service, idp, sim, clock
):
    cid = vend(slow_service, idp).json()["credential_id"]
    sim.latency(1.5)  # each delete answers after the timeout; three attempts would take over 3 s
    started = time.monotonic()
    resp = revoke(slow_service, idp, cid)
    assert resp.status == 503 and int(resp.headers["Retry-After"]) > 0
    assert time.monotonic() - started < 1.5
    sim.clear_faults()
    clock.advance(3600)
    assert slow_service.reclaim_expired(10)["revoked"] == 1
    assert sim.all_keys() == [] and ledger_of(slow_service).get(cid).state == REVOKED
