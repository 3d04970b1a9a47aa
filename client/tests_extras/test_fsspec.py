"""s3fs, aiobotocore and adlfs wired to renewing credentials (needs the [fsspec] extra and moto[server])."""
from __future__ import annotations

import asyncio
import time

import pytest
from azure.core.exceptions import HttpResponseError
from fakeservers import _Server

from tvs_client import Client, sdk


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


@pytest.fixture
def client(service, signed_in):
    return Client(service.url, signed_in)


@pytest.fixture
def moto(service):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    service.s3_endpoint = f"http://{host}:{port}"
    yield service.s3_endpoint
    server.stop()


def vends(service):
    return len(service.seen("POST", "/api/v1/credentials"))


def test_filesystem_of_an_s3_store_is_s3fs_reading_and_writing_through_the_endpoint(client, service, moto):
    import s3fs

    sdk.s3_client(client, "demo-s3", access="write").create_bucket(Bucket="demo")
    fs = sdk.filesystem(client, "demo-s3", access="write")
    assert isinstance(fs, s3fs.S3FileSystem)
    fs.pipe("demo/users/alice/hello.txt", b"hello")
    assert fs.cat("demo/users/alice/hello.txt") == b"hello"


def test_s3fs_renews_through_the_renewer_once_the_renewal_is_due(client, service, moto):
    import s3fs

    sdk.s3_client(client, "demo-s3", access="write").create_bucket(Bucket="demo")
    clock = Clock()
    service.clock = clock
    renewer = sdk.credential_renewer(client, "demo-s3", ttl=900, access="write", kind="s3", clock=clock)
    session = sdk.aiobotocore_session(client, "demo-s3", renewer=renewer)
    fs = s3fs.S3FileSystem(session=session, client_kwargs={"endpoint_url": moto, "region_name": "us-east-1"})
    before = vends(service)
    for _ in range(20):
        fs.pipe("demo/users/alice/x", b"x")
    assert vends(service) == before
    clock.now += 600
    fs.pipe("demo/users/alice/x", b"y")
    fs.pipe("demo/users/alice/x", b"z")
    assert vends(service) == before + 1


def test_filesystem_of_an_azure_store_is_adlfs_with_the_renewing_credential(client):
    import adlfs

    fs = sdk.filesystem(client, "demo-azure")
    try:
        assert isinstance(fs, adlfs.AzureBlobFileSystem)
        assert fs.account_url == "https://acct.blob.core.windows.net"
        assert fs.credential.signature.endswith("SASSIG0001")
    finally:
        fs.credential.close()


def test_the_async_blob_client_adlfs_uses_sends_the_renewed_sas(client, service):
    """adlfs hands the credential to azure-storage-blob's async client: its SAS policy reads it per request."""
    from azure.storage.blob.aio import ContainerClient

    class Storage(_Server):
        def route(self, r):
            return 404, b"", {"x-ms-error-code": "ContainerNotFound"}

    storage = Storage()
    clock = Clock()
    service.clock = clock
    service.azure_account_url = storage.url
    credential = sdk.sas_credential(client, "demo-azure", renewer=sdk.credential_renewer(
        client, "demo-azure", ttl=900, kind="azure", clock=clock))

    async def twice():
        async with ContainerClient(storage.url, "demo", credential=credential, retry_total=0) as container:
            for _ in range(2):
                with pytest.raises(HttpResponseError):
                    await container.get_container_properties()
                clock.now += 500
    try:
        asyncio.run(twice())
        assert [r.query.get("sig") for r in storage.requests] == ["SASSIG0001", "SASSIG0002"]
    finally:
        storage.close()
