"""The audit trail holds: every issue, denial, revocation and sweep leaves exactly one audit record
saying who, which scope, until when and which credential (docs/design.md, Audit).

Driven over HTTP against the local service on its embedded default (Azurite, moto server, a VMS
simulator), one kind of decision per test."""

from __future__ import annotations

import json
import logging
import threading
import uuid

import pytest
import requests

from tests.localstack import local_stack

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def stack(azurite, moto_server, certs, tmp_path_factory):
    with local_stack(azurite, moto_server, certs, tmp_path_factory.mktemp("audit-state")) as running:
        yield running


@pytest.fixture
def audit_log(caplog):
    caplog.set_level(logging.INFO, logger="tvs.audit")

    def records(**match) -> list[dict]:
        out = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tvs.audit"]
        return [r for r in out if all(r.get(k) == v for k, v in match.items())]

    return records


def send(stack, method, path, tok=None, request_id=None, **kw):
    headers = {"X-Request-Id": request_id or f"audit-{uuid.uuid4().hex}"}
    if tok:
        headers["Authorization"] = f"Bearer {tok}"
    return requests.request(method, f"{stack.url}{path}", headers=headers, timeout=30, **kw)


def assert_who_scope_expiry_and_id(record: dict, subject: str, credential_id: str):
    assert record["principal"]["subject"] == subject and record["principal"]["issuer"]
    assert record["scope"] and record["store"]
    assert record["expires_at"].endswith("Z") or "+00:00" in record["expires_at"]
    assert record["credential_id"] == credential_id


@pytest.mark.parametrize("store", ["demo-azure", "demo-s3", "demo-vast"])
def test_each_issue_leaves_exactly_one_record_with_who_scope_expiry_and_id(stack, audit_log, store):
    body = {"store": store, "access": "read", "path": ""}
    resp = send(stack, "POST", "/api/v1/credentials", stack.token("alice"), json=body)
    assert resp.status_code == 200, resp.text
    cid = resp.json()["credential_id"]
    [record] = audit_log(event="issue", credential_id=cid)
    assert_who_scope_expiry_and_id(record, "alice", cid)
    assert (record["outcome"], record["store"], record["access"]) == ("issued", store, "read")
    assert record["expires_at"] == resp.json()["expires_at"]


@pytest.mark.parametrize("store", ["demo-azure", "demo-s3"])
def test_each_signed_url_leaves_exactly_one_record(stack, audit_log, store):
    body = {"store": store, "object": "users/alice/report.csv", "method": "PUT"}
    resp = send(stack, "POST", "/api/v1/signed-urls", stack.token("alice"), json=body)
    assert resp.status_code == 200, resp.text
    cid = resp.json()["credential_id"]
    [record] = audit_log(event="sign-url", credential_id=cid)
    assert_who_scope_expiry_and_id(record, "alice", cid)
    assert record["scope"] == {"object": "users/alice/report.csv"} and record["method"] == "PUT"


def test_an_access_manager_sas_leaves_exactly_one_issue_record(stack, audit_log):
    tok = stack.token("alice", (), roles=("org_demo_access", "spc_main_user"))
    rid = f"audit-{uuid.uuid4().hex}"
    resp = send(stack, "POST", "/api/v2.0/accessmanager/read?organization=demo&space=main", tok, request_id=rid)
    assert resp.status_code == 200, resp.text
    [record] = audit_log(event="issue", request_id=rid)
    assert_who_scope_expiry_and_id(record, "alice", record["credential_id"])
    assert record["scope"]["space"] == "main" and record["credential_id"].startswith("sas-")


def test_a_denial_leaves_exactly_one_record_naming_the_caller_and_what_was_asked(stack, audit_log):
    rid = f"audit-{uuid.uuid4().hex}"
    body = {"store": "demo-s3", "access": "write", "path": "users/bob/"}
    resp = send(stack, "POST", "/api/v1/credentials", stack.token("alice"), request_id=rid, json=body)
    assert resp.status_code == 403
    [record] = audit_log(request_id=rid)
    assert (record["event"], record["outcome"], record["status"], record["reason"]) == (
        "request",
        "denied",
        403,
        "forbidden",
    )
    assert record["principal"]["subject"] == "alice"
    assert (record["store"], record["scope"], record["access"]) == ("demo-s3", {"path": "users/bob/"}, "write")


def test_a_refused_token_leaves_exactly_one_denial_record(stack, audit_log):
    rid = f"audit-{uuid.uuid4().hex}"
    resp = send(stack, "GET", "/api/v1/stores", stack.token("alice") + "x", request_id=rid)
    assert resp.status_code == 401
    [record] = audit_log(request_id=rid)
    assert (record["event"], record["outcome"], record["status"], record["reason"]) == (
        "request",
        "denied",
        401,
        "invalid-token",
    )
    assert "principal" not in record  # nobody was verified


def test_a_revocation_leaves_exactly_one_record_with_who_scope_expiry_and_id(stack, audit_log):
    tok = stack.token("bob")
    cid = send(stack, "POST", "/api/v1/credentials", tok, json={"store": "demo-vast", "access": "read"}).json()[
        "credential_id"
    ]
    resp = send(stack, "DELETE", f"/api/v1/credentials/{cid}", tok)
    assert resp.status_code == 204
    [record] = audit_log(event="revoke", credential_id=cid)
    assert_who_scope_expiry_and_id(record, "bob", cid)
    assert record["outcome"] == "revoked" and record["scope"]["vast_user"] == "local:1002"


def test_a_sweep_leaves_exactly_one_record_per_key_it_takes_back(stack, audit_log):
    body = {"store": "demo-vast", "access": "read", "ttl_seconds": 1}
    resp = send(stack, "POST", "/api/v1/credentials", stack.token("bob"), json=body)
    assert resp.status_code == 200, resp.text
    cid = resp.json()["credential_id"]
    threading.Event().wait(2)  # the key expires (a bounded wait, not a measurement)
    stack.service.reclaim_expired(10)
    [record] = audit_log(event="sweep", credential_id=cid)
    assert_who_scope_expiry_and_id(record, "bob", cid)
    assert record["outcome"] == "revoked" and record["scope"] == {"vast_user": "local:1002"}
    assert record["expires_at"] == resp.json()["expires_at"]
