"""A user-delegation SAS carries its credential id as the signed correlation id (scid) that storage logs
record. Azurite does not know scid, so the token is checked field by field and its signature recomputed
independently of the SDK, from the REST reference's string-to-sign."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from shared.azure.vendor import AzureBlobVendor
from tests.support import build_service, call, issuer_block, token

KEY_VALUE = base64.b64encode(b"d" * 32).decode()


class FixedDelegationKey:
    signed_oid, signed_tid = "11111111-0000-0000-0000-000000000001", "22222222-0000-0000-0000-000000000002"
    signed_start, signed_expiry = "2026-12-01T00:00:00Z", "2026-12-08T00:00:00Z"
    signed_service, signed_version, value = "b", "2025-11-05", KEY_VALUE
    signed_delegated_user_tid = None


@pytest.fixture
def service(idp, monkeypatch):
    monkeypatch.setattr(AzureBlobVendor, "_user_delegation_key", lambda self, needed_until: FixedDelegationKey())
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {
            "lake": {
                "kind": "azure-blob",
                "account_url": "https://lake.blob.core.windows.net",
                "container": "raw",
                "auth": {"method": "managed-identity"},
            }
        },
        "grants": [{"match": {"groups": ["readers"]}, "stores": ["lake"], "access": "read"}],
        "limits": {"credential_cache": {"enabled": False}},
    }
    return build_service(raw, idp, clock=lambda: datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC))


def vend(service, idp, sub):
    resp = call(
        service,
        "POST",
        "/api/v1/credentials",
        token=token(idp, sub, ["readers"]),
        body={"store": "lake", "access": "read"},
    )
    assert resp.status == 200, resp.json()
    return resp.json()


def test_two_callers_in_one_second_get_distinct_tokens_each_naming_its_credential_id(service, idp):
    alice, bob = vend(service, idp, "alice"), vend(service, idp, "bob")
    assert alice["credentials"]["sas_token"] != bob["credentials"]["sas_token"]
    for body in (alice, bob):
        assert body["credential_id"] == "sas-" + parse_qs(body["credentials"]["sas_token"])["scid"][0]


def test_the_correlation_id_is_covered_by_the_signature(service, idp):
    q = {k: v[0] for k, v in parse_qs(vend(service, idp, "alice")["credentials"]["sas_token"]).items()}
    # User delegation SAS string-to-sign of the version the token names (sv 2026-x), from the REST reference:
    # sp, st, se, canonicalized resource, skoid, sktid, skt, ske, sks, skv, saoid, suoid, scid, skdutid, sduoid,
    # sip, spr, sv, sr, snapshot time, encryption scope, signed request headers, signed request query
    # parameters, rscc, rscd, rsce, rscl, rsct.
    assert q["sv"] >= "2026"
    fields = [
        q["sp"],
        q["st"],
        q["se"],
        "/blob/lake/raw",
        q["skoid"],
        q["sktid"],
        q["skt"],
        q["ske"],
        q["sks"],
        q["skv"],
        "",
        "",
        q["scid"],
        "",
        "",
        "",
        q["spr"],
        q["sv"],
        q["sr"],
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]
    signature = hmac.new(base64.b64decode(KEY_VALUE), "\n".join(fields).encode(), hashlib.sha256).digest()
    assert q["sig"] == base64.b64encode(signature).decode()
    tampered = fields[:12] + ["sas-of-someone-else"] + fields[13:]
    assert (
        q["sig"]
        != base64.b64encode(
            hmac.new(base64.b64decode(KEY_VALUE), "\n".join(tampered).encode(), hashlib.sha256).digest()
        ).decode()
    )
