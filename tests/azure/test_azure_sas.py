"""Azure Blob SAS vended through POST /api/v1/credentials and /signed-urls, proven against Azurite.

Every behaviour runs for both signing methods: user delegation (Azurite with OAuth) and account key.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobClient, ContainerClient

from shared.secrets import SecretResolver
from tests.support import build_service, call, issuer_block, token

METHODS = ["user-delegation", "account-key"]


def store_block(azurite, method: str, container: str = "demo", **over) -> dict:
    block = {
        "kind": "azure-blob",
        "container": container,
        "emulator": True,
        "ca_bundle": str(azurite.ca),
        "ttl": {"default": 600, "max": 3600},
    }
    if method == "user-delegation":
        block.update(account_url=azurite.blob_url, auth={"method": "emulator-token"})
    else:
        block.update(auth={"method": "account-key", "connection_string": {"env": "AZURITE_CONNECTION_STRING"}})
    block.update(over)
    return block


def config_for(azurite, idp, method: str) -> dict:
    return {
        "issuers": [issuer_block(idp)],
        "stores": {"demo": store_block(azurite, method), "other": store_block(azurite, method, container="other")},
        "grants": [
            {"match": {"groups": ["readers"]}, "stores": ["demo"], "access": "read"},
            {"match": {"groups": ["listers"]}, "stores": ["demo"], "access": "list"},
            {"match": {"groups": ["writers"]}, "stores": ["demo"], "access": "write"},
            {"match": {"groups": ["deleters"]}, "stores": ["demo"], "access": "delete"},
            {"match": {"groups": ["users"]}, "stores": ["demo"], "prefix": "users/{sub}/", "access": "write"},
        ],
        "limits": {"credential_cache": {"enabled": False}},
    }


@pytest.fixture(scope="module", params=METHODS)
def service_for(request, azurite, idp):
    method = request.param

    def make(clock=None):
        kw = {"secrets": SecretResolver({"AZURITE_CONNECTION_STRING": azurite.connection_string})}
        if clock is not None:
            kw["clock"] = clock
        return build_service(config_for(azurite, idp, method), idp, **kw)

    make.method = method
    return make


@pytest.fixture(scope="module")
def service(service_for):
    return service_for()


@pytest.fixture(scope="module")
def seeded(azurite):
    """A blob in each container, written with the account key (the test's own admin access)."""
    name = f"seed/{uuid.uuid4().hex}.txt"
    for container in ("demo", "other"):
        ContainerClient.from_connection_string(
            azurite.connection_string, container, connection_verify=str(azurite.ca)
        ).upload_blob(name, b"seed")
    return name


def vend(service, idp, groups, **body):
    resp = call(service, "POST", "/api/v1/credentials", token=token(idp, "alice", groups), body=body)
    assert resp.status == 200, resp.json()
    return resp.json()


def container(cred, azurite, name=None) -> ContainerClient:
    c = cred["credentials"]
    url = f"{c['account_url']}/{name or c['container']}?{c['sas_token']}"
    return ContainerClient.from_container_url(url, connection_verify=str(azurite.ca))


def refused(fn) -> int:
    with pytest.raises(HttpResponseError) as err:
        fn()
    return err.value.status_code


def test_a_read_sas_lists_and_reads_the_container(service, idp, azurite, seeded):
    c = container(vend(service, idp, ["readers"], store="demo", access="read"), azurite)
    assert seeded in [b.name for b in c.list_blobs(name_starts_with="seed/")]
    assert c.download_blob(seeded).readall() == b"seed"


def test_a_read_sas_cannot_write(service, idp, azurite):
    c = container(vend(service, idp, ["readers"], store="demo", access="read"), azurite)
    assert refused(lambda: c.upload_blob(f"x/{uuid.uuid4().hex}", b"no")) == 403


def test_a_list_sas_cannot_read(service, idp, azurite, seeded):
    c = container(vend(service, idp, ["listers"], store="demo", access="list"), azurite)
    assert list(c.list_blobs(name_starts_with="seed/"))
    assert refused(lambda: c.download_blob(seeded).readall()) == 403


def test_a_write_sas_uploads_and_reads_back_but_cannot_delete(service, idp, azurite):
    c = container(vend(service, idp, ["writers"], store="demo", access="write"), azurite)
    name = f"w/{uuid.uuid4().hex}.txt"
    c.upload_blob(name, b"hello")
    assert c.download_blob(name).readall() == b"hello"
    assert refused(lambda: c.delete_blob(name)) == 403


def test_a_delete_sas_deletes(service, idp, azurite):
    c = container(vend(service, idp, ["deleters"], store="demo", access="delete"), azurite)
    name = f"d/{uuid.uuid4().hex}.txt"
    c.upload_blob(name, b"bye")
    c.delete_blob(name)
    assert name not in [b.name for b in c.list_blobs(name_starts_with="d/")]


def test_a_sas_for_one_container_is_refused_on_another(service, idp, azurite, seeded):
    cred = vend(service, idp, ["readers"], store="demo", access="read")
    assert refused(lambda: container(cred, azurite, "other").download_blob(seeded).readall()) == 403


def test_a_blob_sas_reads_its_blob_and_no_other(service, idp, azurite, seeded):
    admin = ContainerClient.from_connection_string(azurite.connection_string, "demo", connection_verify=str(azurite.ca))
    sibling = f"seed/{uuid.uuid4().hex}.txt"
    admin.upload_blob(sibling, b"sibling")
    cred = vend(service, idp, ["readers"], store="demo", access="read", path=seeded)
    assert cred["scope"]["resource"] == "blob"
    blob = BlobClient.from_blob_url(cred["credentials"]["sas_url"], connection_verify=str(azurite.ca))
    assert blob.download_blob().readall() == b"seed"
    other = BlobClient.from_blob_url(
        cred["credentials"]["sas_url"].replace(seeded, sibling), connection_verify=str(azurite.ca)
    )
    assert refused(lambda: other.download_blob().readall()) == 403


def test_an_expired_sas_is_refused(service_for, idp, azurite, seeded):
    past = lambda: datetime.now(UTC) - timedelta(hours=2)  # noqa: E731 - a clock two hours behind
    cred = vend(service_for(clock=past), idp, ["readers"], store="demo", access="read", ttl_seconds=600)
    assert refused(lambda: container(cred, azurite).download_blob(seeded).readall()) == 403


def test_the_sas_is_https_only_and_back_dated_for_clock_skew(service, idp):
    cred = vend(service, idp, ["readers"], store="demo", access="read", ttl_seconds=600)
    q = parse_qs(cred["credentials"]["sas_token"])
    start, expiry = (datetime.strptime(q[k][0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) for k in ("st", "se"))
    issued = datetime.strptime(cred["issued_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert q["spr"] == ["https"]
    assert issued - start == timedelta(minutes=5)
    assert expiry - issued == timedelta(seconds=600)


def test_the_ttl_is_clamped_to_the_store_maximum(service, idp):
    cred = vend(service, idp, ["readers"], store="demo", access="read", ttl_seconds=99_999)
    issued, expires = (datetime.strptime(cred[k], "%Y-%m-%dT%H:%M:%SZ") for k in ("issued_at", "expires_at"))
    assert expires - issued == timedelta(seconds=3600)


def test_a_prefix_on_a_flat_namespace_account_is_refused_with_a_pointer_to_signed_urls(service, idp):
    resp = call(
        service,
        "POST",
        "/api/v1/credentials",
        token=token(idp, "alice", ["users"]),
        body={"store": "demo", "path": "users/alice/", "access": "write"},
    )
    assert resp.status == 400
    assert resp.json()["type"].endswith("/prefix-scope-unsupported") and "signed-urls" in resp.json()["detail"]


def test_a_signed_put_url_uploads_its_object_only(service, idp, azurite):
    alice = token(idp, "alice", ["users"])
    obj = f"users/alice/{uuid.uuid4().hex}.csv"
    resp = call(
        service,
        "POST",
        "/api/v1/signed-urls",
        token=alice,
        body={"store": "demo", "object": obj, "method": "PUT", "content_type": "text/csv"},
    )
    assert resp.status == 200, resp.json()
    signed = resp.json()
    put = requests.put(signed["url"], data=b"a,b\n", headers=signed["headers"], verify=str(azurite.ca), timeout=10)
    assert put.status_code == 201
    elsewhere = requests.put(
        signed["url"].replace(obj, "users/alice/other.csv"),
        data=b"x",
        headers=signed["headers"],
        verify=str(azurite.ca),
        timeout=10,
    )
    assert elsewhere.status_code == 403


def test_a_signed_get_url_reads_and_cannot_write(service, idp, azurite, seeded):
    resp = call(
        service,
        "POST",
        "/api/v1/signed-urls",
        token=token(idp, "alice", ["readers"]),
        body={"store": "demo", "object": seeded, "method": "GET"},
    )
    url = resp.json()["url"]
    assert requests.get(url, verify=str(azurite.ca), timeout=10).content == b"seed"
    assert (
        requests.put(
            url, data=b"x", headers={"x-ms-blob-type": "BlockBlob"}, verify=str(azurite.ca), timeout=10
        ).status_code
        == 403
    )


def test_a_signed_url_outside_the_callers_prefix_is_forbidden(service, idp):
    resp = call(
        service,
        "POST",
        "/api/v1/signed-urls",
        token=token(idp, "alice", ["users"]),
        body={"store": "demo", "object": "users/bob/x.csv", "method": "PUT"},
    )
    assert resp.status == 403


def test_the_user_delegation_key_is_fetched_once_and_reused(azurite, idp, monkeypatch):
    from azure.storage.blob import BlobServiceClient

    calls = []
    original = BlobServiceClient.get_user_delegation_key

    def counting(self, *a, **kw):
        calls.append(1)
        return original(self, *a, **kw)

    monkeypatch.setattr(BlobServiceClient, "get_user_delegation_key", counting)
    svc = build_service(config_for(azurite, idp, "user-delegation"), idp)
    for access in ("read", "write", "read", "list"):
        vend(svc, idp, ["readers", "writers", "listers"], store="demo", access=access)
    assert len(calls) == 1


def test_an_identical_request_reuses_the_cached_sas_and_another_caller_does_not(azurite, idp):
    raw = config_for(azurite, idp, "account-key")
    raw.pop("limits")
    svc = build_service(raw, idp, secrets=SecretResolver({"AZURITE_CONNECTION_STRING": azurite.connection_string}))
    first = vend(svc, idp, ["readers"], store="demo", access="read", ttl_seconds=900)
    again = vend(svc, idp, ["readers"], store="demo", access="read", ttl_seconds=900)
    call(
        svc,
        "POST",
        "/api/v1/credentials",
        token=token(idp, "bob", ["readers"]),
        body={"store": "demo", "access": "read", "ttl_seconds": 900},
    )
    assert again == first
    assert (svc.credential_cache.hits, svc.credential_cache.misses) == (1, 2)


def test_the_iceberg_format_carries_the_sas_and_its_expiry_inside_config(service, idp):
    resp = call(
        service,
        "POST",
        "/api/v1/credentials",
        token=token(idp, "alice", ["readers"]),
        body={"store": "demo", "access": "read", "format": "iceberg"},
    )
    body = resp.json()
    [entry] = body["storage-credentials"]
    host = entry["prefix"].split("@", 1)[1].split("/", 1)[0]
    assert entry["prefix"].startswith("abfss://demo@")
    assert entry["config"][f"adls.sas-token.{host}"].count("sig=") == 1
    expires_ms = int(entry["config"][f"adls.sas-token-expires-at-ms.{host}"])
    assert datetime.fromtimestamp(expires_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") == body["expires_at"]


def test_storage_options_are_ready_for_adlfs(service, idp):
    cred = vend(service, idp, ["readers"], store="demo", access="read")
    assert set(cred["storage_options"]) == {"account_name", "sas_token", "account_host"}
    assert cred["storage_options"]["sas_token"] == cred["credentials"]["sas_token"]


def test_two_callers_with_identical_requests_in_one_second_get_distinct_credential_ids(service_for, idp):
    now = datetime.now(UTC).replace(microsecond=0)
    same_second = service_for(clock=lambda: now)
    ids = {
        call(
            same_second,
            "POST",
            "/api/v1/credentials",
            token=token(idp, sub, ["readers"]),
            body={"store": "demo", "access": "read"},
        ).json()["credential_id"]
        for sub in ("alice", "bob")
    }
    assert len(ids) == 2


def test_no_sas_on_azurite_carries_a_correlation_id_which_azurite_cannot_verify(service, idp):
    body = vend(service, idp, ["readers"], store="demo", access="read")
    assert "scid" not in parse_qs(body["credentials"]["sas_token"])
