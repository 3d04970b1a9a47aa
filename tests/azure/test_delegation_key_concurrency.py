"""Renewing the user-delegation key never holds up a request the current key still covers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from shared.azure.vendor import AzureBlobVendor
from shared.config import parse_config
from shared.kinds.contract import VendorContext
from shared.secrets import SecretResolver

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


class SlowService:
    def __init__(self):
        self.entered, self.release = threading.Event(), threading.Event()

    def get_user_delegation_key(self, start, expiry):
        self.entered.set()
        self.release.wait(5)
        return f"key-until-{expiry.isoformat()}"


def vendor():
    config = parse_config(
        {
            "issuers": [{"issuer": "https://idp.example", "audiences": ["a"]}],
            "stores": {
                "s": {
                    "kind": "azure-blob",
                    "account_url": "https://a.blob.core.windows.net",
                    "container": "c",
                    "auth": {"method": "managed-identity"},
                }
            },
        }
    )
    v = AzureBlobVendor(config.stores["s"], VendorContext(SecretResolver({}), local_mode=False, clock=lambda: NOW))
    v._service_client = SlowService()
    v._delegation_key, v._delegation_key_expiry = "current", NOW + timedelta(hours=2)
    return v


def test_a_covered_request_does_not_wait_for_a_renewal_in_flight():
    v = vendor()
    renewal = threading.Thread(target=v._user_delegation_key, args=(NOW + timedelta(hours=3),))
    renewal.start()
    assert v._service_client.entered.wait(5)
    started = time.monotonic()
    assert v._user_delegation_key(NOW + timedelta(hours=1)) == "current"
    assert time.monotonic() - started < 0.5
    v._service_client.release.set()
    renewal.join(5)
    assert v._delegation_key.startswith("key-until-")


def test_requests_the_current_key_does_not_cover_share_one_renewal():
    v = vendor()
    v._service_client.release.set()
    calls = []
    original = v._service_client.get_user_delegation_key
    v._service_client.get_user_delegation_key = lambda s, e: calls.append(1) or original(s, e)
    threads = [threading.Thread(target=v._user_delegation_key, args=(NOW + timedelta(hours=3),)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(calls) == 1
