"""Azure AD and storage failing while a user-delegation SAS is made: the managed identity's token
endpoint failing (azure-identity's own request, to a fault proxy), and the delegation-key call failing
at storage (a TLS-terminating fault proxy in front of Azurite). The caller gets 503 with Retry-After,
no SAS is minted, the operator gets a log line naming the store; once the fault clears, vends work."""

from __future__ import annotations

import logging

import pytest

from tests.faultproxy import FaultProxy, tls_pair
from tests.support import build_service, call, issuer_block, token

GRANTS = [{"match": {"groups": ["readers"]}, "stores": ["demo"], "access": "read"}]


def service_for(idp, store: dict):
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {"demo": store},
        "grants": GRANTS,
        "limits": {"credential_cache": {"enabled": False}},
    }
    return build_service(raw, idp)


def vend(service, idp, caplog):
    with caplog.at_level(logging.INFO):
        return call(
            service,
            "POST",
            "/api/v1/credentials",
            token=token(idp, "alice", ["readers"]),
            body={"store": "demo", "access": "read"},
        )


def assert_unavailable_and_nothing_minted(resp, caplog):
    assert resp.status == 503, resp.body
    assert resp.json()["type"].endswith("/upstream-unavailable")
    assert int(resp.headers["Retry-After"]) >= 1
    assert "sig=" not in resp.body.decode()
    assert not [r for r in caplog.records if r.name == "tvs.audit" and '"event":"issue"' in r.getMessage()]
    assert any("store demo: no user delegation key" in r.getMessage() for r in caplog.records)


# -- the managed identity's token endpoint ---------------------------------------------------------------
@pytest.fixture
def token_endpoint(monkeypatch, azurite):
    """A managed identity (App Service style: IDENTITY_ENDPOINT and IDENTITY_HEADER) whose token endpoint
    is a fault proxy; nothing behind it answers a token."""
    with FaultProxy(azurite.blob_port) as proxy:
        monkeypatch.setenv("IDENTITY_ENDPOINT", f"{proxy.url}/msi/token")
        monkeypatch.setenv("IDENTITY_HEADER", "test-identity-header")
        for name in ("MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT"):
            monkeypatch.delenv(name, raising=False)
        yield proxy


def managed_identity_store(azurite) -> dict:
    return {
        "kind": "azure-blob",
        "container": "demo",
        "account_url": azurite.blob_url,
        "emulator": True,
        "ca_bundle": str(azurite.ca),
        "auth": {"method": "managed-identity"},
    }


@pytest.mark.parametrize(
    "fault",
    [
        {"action": "answer", "status": 500, "body": b'{"error": "unavailable"}'},
        {"action": "answer", "status": 200, "body": b"<html>Sign in</html>", "headers": {"Content-Type": "text/html"}},
        {"action": "drop"},
    ],
    ids=["500", "html", "dropped"],
)
def test_a_failing_managed_identity_token_endpoint_is_503_and_mints_nothing(
    token_endpoint, azurite, idp, caplog, fault
):
    token_endpoint.add(**fault)
    resp = vend(service_for(idp, managed_identity_store(azurite)), idp, caplog)
    assert_unavailable_and_nothing_minted(resp, caplog)
    assert token_endpoint.seen and all(r.path.startswith("/msi/token") for r in token_endpoint.seen)


# -- the delegation-key call at storage --------------------------------------------------------------------
@pytest.fixture
def storage(azurite, certs):
    with FaultProxy(azurite.blob_port, tls=tls_pair(*certs)) as proxy:
        yield proxy


def proxied_store(storage, azurite) -> dict:
    return {
        "kind": "azure-blob",
        "container": "demo",
        "account_url": f"{storage.url}/devstoreaccount1",
        "emulator": True,
        "ca_bundle": str(azurite.ca),
        "auth": {"method": "emulator-token"},
    }


def delegation_key_call(request) -> bool:
    return "comp=userdelegationkey" in request.path


STORAGE_FAULTS = {
    "503": {"action": "answer", "status": 503, "body": b"<?xml version='1.0'?><Error><Code>ServerBusy</Code></Error>"},
    "403": {
        "action": "answer",
        "status": 403,
        "body": b"<?xml version='1.0'?><Error><Code>AuthorizationPermissionMismatch</Code></Error>",
    },
    "html": {
        "action": "answer",
        "status": 502,
        "body": b"<html>Bad gateway</html>",
        "headers": {"Content-Type": "text/html"},
    },
    "dropped": {"action": "drop"},
}


@pytest.mark.parametrize("fault", STORAGE_FAULTS.values(), ids=STORAGE_FAULTS.keys())
def test_a_failing_delegation_key_call_is_503_and_mints_nothing(storage, azurite, idp, caplog, fault):
    storage.add(when=delegation_key_call, **fault)
    resp = vend(service_for(idp, proxied_store(storage, azurite)), idp, caplog)
    assert_unavailable_and_nothing_minted(resp, caplog)
    attempts = [r for r in storage.seen if delegation_key_call(r)]
    assert 1 <= len(attempts) <= 3  # the storage client's bounded retries (retry_total=2)


def test_once_storage_answers_again_the_next_vend_gets_a_working_sas(storage, azurite, idp, caplog):
    from azure.storage.blob import ContainerClient

    storage.add(when=delegation_key_call, times=3, **STORAGE_FAULTS["503"])
    service = service_for(idp, proxied_store(storage, azurite))
    assert vend(service, idp, caplog).status == 503
    resp = vend(service, idp, caplog)
    assert resp.status == 200, resp.body
    creds = resp.json()["credentials"]
    sas_url = f"{azurite.blob_url}/demo?{creds['sas_token']}"
    assert isinstance(
        list(ContainerClient.from_container_url(sas_url, connection_verify=str(azurite.ca)).list_blobs()), list
    )
