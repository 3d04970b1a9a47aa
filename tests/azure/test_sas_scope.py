"""A SAS is never broader than its grant: checked field by field with account-key signing (no emulator)."""

from __future__ import annotations

import base64

from shared.secrets import SecretResolver
from tests.support import build_service, call, issuer_block, token

KEY = base64.b64encode(b"k" * 64).decode()


def service(idp):
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {
            "flat": {
                "kind": "azure-blob",
                "account_url": "https://acct.blob.core.windows.net",
                "account_name": "acct",
                "container": "c",
                "auth": {"method": "account-key", "account_key": {"env": "KEY"}},
            }
        },
        "grants": [{"match": {"groups": ["listers"]}, "stores": ["flat"], "prefix": "data/", "access": "list"}],
        "limits": {"credential_cache": {"enabled": False}},
    }
    return build_service(raw, idp, secrets=SecretResolver({"KEY": KEY}))


def test_list_access_to_one_blob_is_refused_rather_than_signed_as_read(idp):
    resp = call(
        service(idp),
        "POST",
        "/api/v1/credentials",
        token=token(idp, "bob", ["listers"]),
        body={"store": "flat", "path": "data/report.csv", "access": "list"},
    )
    assert resp.status == 400, resp.json()
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert "sas_token" not in resp.body.decode()
