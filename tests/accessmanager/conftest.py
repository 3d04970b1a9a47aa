"""Azurite with the containers of organization ``demo``: loadingzone, main and open."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient

from tests.accessmanager.support import SPACES


@pytest.fixture(scope="session")
def am_azurite(azurite):
    client = BlobServiceClient.from_connection_string(azurite.connection_string, connection_verify=str(azurite.ca))
    for name in SPACES:
        try:
            client.create_container(name)
        except ResourceExistsError:
            pass
    return azurite
