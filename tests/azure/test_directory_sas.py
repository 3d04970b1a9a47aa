"""Directory SAS (sr=d) for hierarchical-namespace accounts. Azurite has no hierarchical namespace, so
the token is checked field by field and its signature recomputed independently of the SDK."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, unquote

from shared.secrets import SecretResolver
from tests.support import build_service, call, issuer_block, token

KEY = base64.b64encode(b"k" * 64).decode()


def service(idp):
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {
            "lake": {
                "kind": "azure-blob",
                "account_url": "https://lake.blob.core.windows.net",
                "account_name": "lake",
                "container": "raw",
                "hierarchical_namespace": True,
                "auth": {"method": "account-key", "account_key": {"env": "LAKE_KEY"}},
            }
        },
        "grants": [{"match": {"groups": ["team"]}, "stores": ["lake"], "prefix": "team-a/", "access": "write"}],
    }
    return build_service(raw, idp, secrets=SecretResolver({"LAKE_KEY": KEY}))


def test_a_prefix_on_a_hierarchical_account_is_a_directory_sas_of_the_right_depth(idp):
    resp = call(
        service(idp),
        "POST",
        "/api/v1/credentials",
        token=token(idp, "alice", ["team"]),
        body={"store": "lake", "path": "team-a/2026/", "access": "write"},
    )
    assert resp.status == 200, resp.json()
    q = {k: v[0] for k, v in parse_qs(resp.json()["credentials"]["sas_token"]).items()}
    assert (q["sr"], q["sdd"], q["sp"], q["spr"]) == ("d", "2", "racwl", "https")
    assert resp.json()["scope"] == {
        "account": "lake",
        "container": "raw",
        "prefix": "team-a/2026/",
        "resource": "directory",
    }


def test_the_directory_sas_signature_covers_exactly_that_directory(idp):
    resp = call(
        service(idp),
        "POST",
        "/api/v1/credentials",
        token=token(idp, "alice", ["team"]),
        body={"store": "lake", "path": "team-a/2026/", "access": "read"},
    )
    q = {k: v[0] for k, v in parse_qs(resp.json()["credentials"]["sas_token"]).items()}
    # Service SAS string-to-sign (version 2020-12-06 and later), from the REST reference: sp, st, se,
    # canonicalized resource, si, sip, spr, sv, sr, snapshot time, encryption scope, rscc, rscd, rsce, rscl, rsct.
    fields = [
        q["sp"],
        q["st"],
        q["se"],
        "/blob/lake/raw/team-a/2026",
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
    ]
    sts = "\n".join(fields)
    expected = base64.b64encode(hmac.new(base64.b64decode(KEY), sts.encode(), hashlib.sha256).digest()).decode()
    assert unquote(q["sig"]) == expected
