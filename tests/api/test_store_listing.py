"""GET /api/v1/stores tells the truth: each grant says what it can produce on its store (one
credential for the prefix, per-object signed URLs, both or neither), as the store kind decides."""

from __future__ import annotations

import pytest

from tests.support import build_service, call, issuer_block, token

STORES = {
    "flat": {
        "kind": "azure-blob",
        "account_url": "https://a.blob.core.windows.net",
        "container": "c",
        "auth": {"method": "managed-identity"},
    },
    "lake": {
        "kind": "azure-blob",
        "account_url": "https://l.blob.core.windows.net",
        "container": "c",
        "hierarchical_namespace": True,
        "auth": {"method": "managed-identity"},
    },
    "s3": {
        "kind": "aws-s3",
        "bucket": "data",
        "region": "eu-west-3",
        "auth": {"method": "assume-role", "role_arn": "arn:aws:iam::111122223333:role/tvs"},
    },
    "cos": {
        "kind": "aws-s3",
        "bucket": "data",
        "region": "eu-de",
        "endpoint_url": "https://s3.cos.example",
        "auth": {"method": "presign-only", "access_key_id": {"env": "K"}, "secret_access_key": {"env": "S"}},
    },
    "vast": {
        "kind": "vast-s3",
        "vms_url": "https://vms.example",
        "s3_endpoint": "https://s3.example",
        "auth": {"method": "api-token", "token": {"env": "T"}},
        "key_access": "read",
        "mapping": {"users": {"alice": {"user_id": 1001}}},
    },
}


@pytest.fixture(scope="module")
def listing(idp):
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": STORES,
        "ledger": {"backend": "sqlite", "path": ":memory:"},
        "grants": [
            {"match": {"groups": ["u"]}, "stores": ["*"], "access": "read"},
            {"match": {"groups": ["u"]}, "stores": ["*"], "prefix": "users/{sub}/", "access": "write"},
            {"match": {"groups": ["u"]}, "stores": ["*"], "prefix": "logs/", "access": "list"},
        ],
    }
    resp = call(build_service(raw, idp), "GET", "/api/v1/stores", token=token(idp, "alice", ["u"]))
    assert resp.status == 200
    return {s["store"]: {g["prefix"]: g["produces"] for g in s["grants"]} for s in resp.json()["stores"]}


def test_a_flat_azure_account_offers_a_sas_for_the_container_and_signed_urls_under_a_prefix(listing):
    assert listing["flat"] == {"": ["credential", "signed-url"], "users/alice/": ["signed-url"], "logs/": []}


def test_a_hierarchical_azure_account_offers_a_directory_sas_under_a_prefix(listing):
    assert listing["lake"]["users/alice/"] == ["credential", "signed-url"]


def test_an_s3_store_with_sts_offers_both_and_a_list_grant_only_a_credential(listing):
    assert listing["s3"] == {
        "": ["credential", "signed-url"],
        "users/alice/": ["credential", "signed-url"],
        "logs/": ["credential"],
    }


def test_a_presign_only_store_offers_signed_urls_only(listing):
    assert listing["cos"]["users/alice/"] == ["signed-url"]


def test_a_vast_store_offers_a_key_only_for_the_whole_store_at_its_key_access(listing):
    assert listing["vast"] == {"": ["credential"], "users/alice/": [], "logs/": []}
