"""A SAS credential for azure-storage-blob and adlfs that renews itself; the GCS design stub."""
from __future__ import annotations

import time

import pytest
from azure.core.credentials import AzureSasCredential
from azure.core.exceptions import HttpResponseError
from fakeservers import _Server

from tvs_client import Client, sdk
from tvs_client.errors import TvsError


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


class Storage(_Server):
    """Blob storage that refuses everything, and records each request's query."""

    def route(self, r):
        return 404, b"", {"x-ms-error-code": "ContainerNotFound"}


@pytest.fixture
def client(service, signed_in):
    return Client(service.url, signed_in)


def test_the_credential_is_an_azure_sas_credential_holding_the_services_sas(client):
    credential = sdk.sas_credential(client, "demo-azure")
    assert isinstance(credential, AzureSasCredential) and credential.signature.endswith("sig=SASSIG0001")


def test_the_sas_is_renewed_when_read_after_half_its_life(client, service):
    clock = Clock()
    service.clock = clock
    credential = sdk.sas_credential(client, "demo-azure", renewer=sdk.credential_renewer(
        client, "demo-azure", ttl=900, kind="azure", clock=clock))
    clock.now += 449 * 0.9  # before the earliest renewal point (45 % of 900 s with the largest jitter)
    assert credential.signature.endswith("SASSIG0001")
    clock.now += 100
    assert credential.signature.endswith("SASSIG0002")


def test_a_background_credential_renews_without_being_read(client, service):
    service.lifetime["demo-azure"] = 4  # renewed about 2 s after it is handed out
    credential = sdk.sas_credential(client, "demo-azure", background=True)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and credential._signature.endswith("SASSIG0001"):
            time.sleep(0.05)
        assert credential._signature.endswith("SASSIG0002")
    finally:
        credential.close()


def test_a_container_client_sends_the_current_sas_with_each_request(client, service):
    storage = Storage()
    try:
        clock = Clock()
        service.clock = clock
        service.azure_account_url = storage.url
        renewer = sdk.credential_renewer(client, "demo-azure", ttl=900, kind="azure", clock=clock)
        credential = sdk.sas_credential(client, "demo-azure", renewer=renewer)
        from azure.storage.blob import ContainerClient

        container = ContainerClient(storage.url, "demo", credential=credential, retry_total=0)
        for _ in range(2):
            with pytest.raises(HttpResponseError):
                container.get_container_properties()
            clock.now += 500
        assert [r.query.get("sig") for r in storage.requests] == ["SASSIG0001", "SASSIG0002"]
    finally:
        storage.close()


def test_container_client_opens_the_stores_container(client):
    container = sdk.container_client(client, "demo-azure")
    assert container.container_name == "demo" and container.account_name == "acct"


def test_adlfs_options_name_the_account_and_hold_a_renewing_credential(client):
    options = sdk.adlfs_storage_options(client, "demo-azure")
    try:
        assert options["account_name"] == "acct" and options["account_host"] == "acct.blob.core.windows.net"
        assert isinstance(options["credential"], AzureSasCredential)
    finally:
        options["credential"].close()


def test_adlfs_options_keep_the_account_segment_of_an_emulator_url(client, service):
    service.azure_account_url = "https://127.0.0.1:10000/devstoreaccount1"
    options = sdk.adlfs_storage_options(client, "demo-azure")
    options["credential"].close()
    assert options["account_host"] == "127.0.0.1:10000/devstoreaccount1"


def test_adlfs_options_refuse_a_store_on_plain_http(client, service):
    service.azure_account_url = "http://127.0.0.1:10000/devstoreaccount1"
    with pytest.raises(TvsError, match="https only"):
        sdk.adlfs_storage_options(client, "demo-azure")


def test_an_s3_store_is_refused_for_a_sas_credential(client):
    with pytest.raises(TvsError, match="not an Azure SAS"):
        sdk.sas_credential(client, "demo-s3")


def test_the_credential_never_shows_its_sas(client):
    credential = sdk.sas_credential(client, "demo-azure")
    assert "SASSIG" not in repr(credential)
