"""Test support: build a service from a configuration dict and call it like an adapter would."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from localdev.devidp import DevIdentityProvider
from shared.api import HttpRequest, HttpResponse, VendingService
from shared.config import parse_config
from shared.identity.tokens import TokenValidator

TEST_ISSUER = "http://127.0.0.1:7071/dev-idp"


def idp_fetch(idp: DevIdentityProvider, counter: dict | None = None):
    """A JWKS fetcher that answers from ``idp`` in process (``counter`` counts calls per URL)."""

    def fetch(url: str, timeout: float) -> dict:
        if counter is not None:
            counter[url] = counter.get(url, 0) + 1
        sub = urlsplit(url).path.split("/dev-idp/", 1)[-1]
        status, body = idp.handle("GET", sub, b"")
        if status != 200:
            raise OSError(f"HTTP {status}")
        return body

    return fetch


def issuer_block(idp: DevIdentityProvider, **over) -> dict:
    block = {
        "name": "dev",
        "issuer": idp.issuer,
        "audiences": [idp.audience],
        "algorithms": ["ES256"],
        "jwks_uri": f"{idp.issuer}/jwks",
        "dev": True,
    }
    block.update(over)
    return block


def build_service(raw: dict, idp: DevIdentityProvider, **kw) -> VendingService:
    config = parse_config(raw, mode="local")
    return VendingService(config, validator=TokenValidator(config, fetch=idp_fetch(idp)), **kw)


def call(
    service: VendingService,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body=None,
    headers: dict | None = None,
    raw_body: bytes | None = None,
    query: dict | None = None,
) -> HttpResponse:
    h = dict(headers or {})
    if token is not None:
        h.setdefault("Authorization", f"Bearer {token}")
    data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else b"")
    if body is not None:
        h.setdefault("Content-Type", "application/json")
    return service.handle(HttpRequest(method=method, path=path, headers=h, body=data, query=query or {}))


def token(idp: DevIdentityProvider, sub: str = "alice", groups=("demo-users",), **claims) -> str:
    return idp.mint(sub, list(groups), claims)["access_token"]
