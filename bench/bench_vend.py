"""Benchmark: one warm in-process vend against its floor, and the handler's import time.

    .venv/bin/python -m bench.bench_vend

Vend = token check + authorization + account-key container SAS + response JSON + audit line,
through ``VendingService.handle`` with the credential cache off. Floor = bare ``jwt.decode`` with
the same key and checks + bare ``generate_container_sas`` with the same arguments. Both are
measured in this run, twice: every request with a token not seen before (the signature is
verified each time), and a burst with one token (the verified-token cache answers).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt

from bench.harness import cold_import_seconds, per_call_seconds, table
from localdev.devidp import DevIdentityProvider
from shared.api import HttpRequest
from shared.secrets import SecretResolver
from tests.support import TEST_ISSUER, build_service, issuer_block

KEY = base64.b64encode(b"benchmark-key-" * 5).decode()


def main() -> None:
    idp = DevIdentityProvider(TEST_ISSUER)
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {
            "s": {
                "kind": "azure-blob",
                "account_url": "https://acct.blob.core.windows.net",
                "account_name": "acct",
                "container": "data",
                "auth": {"method": "account-key", "account_key": {"env": "KEY"}},
            }
        },
        "grants": [{"match": {"groups": ["g"]}, "stores": ["s"], "access": "read"}],
        "limits": {"credential_cache": {"enabled": False}},
    }
    service = build_service(raw, idp, secrets=SecretResolver({"KEY": KEY}))
    body = json.dumps({"store": "s", "access": "read", "ttl_seconds": 900}).encode()
    runs = 50 + 200 * 15 + 1
    fresh = [idp.mint("alice", ["g"])["access_token"] for _ in range(runs)]  # distinct jti: never seen before
    floor_tokens = iter(list(fresh))
    ours_tokens = iter(fresh)
    tok = fresh[0]

    def vend(token_source=None):
        token = next(token_source) if token_source else tok
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        resp = service.handle(HttpRequest("POST", "/api/v1/credentials", headers=headers, body=body))
        assert resp.status == 200

    from azure.storage.blob import generate_container_sas

    public = jwt.PyJWK(idp.jwks()["keys"][0])

    def floor(token_source=None):
        jwt.decode(
            next(token_source) if token_source else tok,
            public,
            algorithms=["ES256"],
            audience=idp.audience,
            issuer=idp.issuer,
            options={"require": ["exp", "iat", "sub"]},
        )
        now = datetime.now(UTC)
        generate_container_sas(
            "acct",
            "data",
            account_key=KEY,
            permission="rl",
            start=now - timedelta(minutes=5),
            expiry=now + timedelta(seconds=900),
            protocol="https",
        )

    ours_fresh = per_call_seconds(lambda: vend(ours_tokens))
    base_fresh = per_call_seconds(lambda: floor(floor_tokens))
    vend()
    ours, base = per_call_seconds(vend), per_call_seconds(floor)
    imp_ours = cold_import_seconds("import shared.api.routes")
    imp_jwt = cold_import_seconds("import jwt")
    table(
        "Warm in-process vend (account-key SAS), median per call",
        [
            ("a new token each request: floor (jwt.decode + generate_container_sas)", f"{base_fresh * 1e6:8.1f} µs"),
            ("a new token each request: ours (POST /api/v1/credentials via handle())", f"{ours_fresh * 1e6:8.1f} µs"),
            ("a new token each request: ratio ours / floor (aim <= 1.5x)", f"{ours_fresh / base_fresh:8.2f} x"),
            ("one token, a burst: floor (jwt.decode + generate_container_sas)", f"{base * 1e6:8.1f} µs"),
            ("one token, a burst: ours (verified-token cache)", f"{ours * 1e6:8.1f} µs"),
            ("one token, a burst: ratio ours / floor", f"{ours / base:8.2f} x"),
        ],
    )
    table(
        "Cold import, median of fresh interpreters",
        [
            ("import jwt", f"{imp_jwt * 1e3:8.1f} ms"),
            ("import shared.api.routes (request handler)", f"{imp_ours * 1e3:8.1f} ms"),
            ("ratio handler / jwt", f"{imp_ours / imp_jwt:8.2f} x"),
        ],
    )


if __name__ == "__main__":
    main()
