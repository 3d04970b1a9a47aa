"""The process-wide service the adapters call, installed for one test and removed after it."""

from __future__ import annotations

import pytest

from shared.api import reset_service
from tests.support import build_service, issuer_block


@pytest.fixture
def service(idp):
    svc = build_service(
        {
            "issuers": [issuer_block(idp)],
            "stores": {
                "s": {
                    "kind": "azure-blob",
                    "container": "c",
                    "account_url": "https://acct.blob.core.windows.net",
                    "auth": {"method": "managed-identity"},
                }
            },
        },
        idp,
    )
    reset_service(svc)
    yield svc
    reset_service(None)
