"""Session fixtures: the real emulators, started once per test run by the tests themselves."""

from __future__ import annotations

import logging

import pytest

from localdev.certs import ensure_local_certs
from localdev.devidp import DevIdentityProvider
from localdev.emulators import Azurite
from tests.support import TEST_ISSUER


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """(ca, cert, key) for emulators that speak https."""
    return ensure_local_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def idp():
    return DevIdentityProvider(TEST_ISSUER)


@pytest.fixture(scope="session")
def azurite(certs):
    """Azurite over https with OAuth, containers 'demo' and 'other' created."""
    from azure.storage.blob import BlobServiceClient

    ca, cert, key = certs
    emulator = Azurite(cert, key, ca).start()
    client = BlobServiceClient.from_connection_string(emulator.connection_string, connection_verify=str(ca))
    for name in ("demo", "other"):
        client.create_container(name)
    yield emulator
    emulator.cleanup()


@pytest.fixture(autouse=True)
def _quiet_sdk_logs():
    logging.getLogger("azure").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def moto_server():
    """moto server on a free port (S3, STS, IAM, DynamoDB); tests create what they need."""
    from localdev.emulators import MotoServer

    emulator = MotoServer().start()
    yield emulator
    emulator.cleanup()


@pytest.fixture(scope="session")
def fake_gcs():
    """fake-gcs-server on a free port; tests create the buckets they need."""
    from localdev.emulators import FakeGcsServer

    emulator = FakeGcsServer().start()
    yield emulator
    emulator.cleanup()
