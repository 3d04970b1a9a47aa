"""The local service end to end over real HTTP: the development IdP, the embedded default
configuration and Azurite, as the README's curl session uses them."""

from __future__ import annotations

import uuid

import pytest
import requests

from localdev.default_config import embedded_config
from localdev.devidp import DevIdentityProvider
from localdev.server import LocalServer
from shared.api import VendingService
from shared.config import parse_config


@pytest.fixture(scope="module")
def local(azurite):
    server = LocalServer(service=None, idp=None, port=0)
    issuer = f"{server.url}/dev-idp"
    server.idp = DevIdentityProvider(issuer)
    server.service = VendingService(parse_config(embedded_config({"azurite": azurite}, issuer), mode="local"))
    server.start_background()
    yield server
    server.stop()


def dev_token(local, sub="alice", groups=("demo-users",), **claims) -> str:
    resp = requests.post(
        f"{local.url}/dev-idp/token", json={"sub": sub, "groups": list(groups), "claims": claims}, timeout=5
    )
    assert resp.status_code == 200
    return resp.json()["access_token"]


def api(local, method, path, tok=None, **kw):
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    return requests.request(method, f"{local.url}/api/v1/{path}", headers=headers, timeout=10, **kw)


def test_the_discovery_document_names_the_jwks(local):
    meta = requests.get(f"{local.url}/dev-idp/.well-known/openid-configuration", timeout=5).json()
    assert meta["issuer"] == f"{local.url}/dev-idp"
    assert requests.get(meta["jwks_uri"], timeout=5).json()["keys"][0]["kty"] == "EC"


def test_the_readme_session_uploads_with_a_signed_url_and_reads_with_a_sas(local, azurite):
    alice = dev_token(local)
    obj = f"users/alice/{uuid.uuid4().hex}.txt"
    signed = api(
        local, "POST", "signed-urls", alice, json={"store": "demo-azure", "object": obj, "method": "PUT"}
    ).json()
    assert (
        requests.put(
            signed["url"], data=b"hello", headers=signed["headers"], verify=str(azurite.ca), timeout=10
        ).status_code
        == 201
    )
    cred = api(local, "POST", "credentials", alice, json={"store": "demo-azure", "access": "read"}).json()
    url = f"{cred['credentials']['container_url']}/{obj}?{cred['credentials']['sas_token']}"
    assert requests.get(url, verify=str(azurite.ca), timeout=10).content == b"hello"


def test_demo_users_cannot_write_outside_their_own_prefix(local):
    alice = dev_token(local)
    resp = api(
        local, "POST", "signed-urls", alice, json={"store": "demo-azure", "object": "users/bob/x", "method": "PUT"}
    )
    assert resp.status_code == 403 and resp.headers["Content-Type"] == "application/problem+json"


def test_demo_admins_may_delete_anywhere(local, azurite):
    admin = dev_token(local, "root", ("demo-admins",))
    resp = api(local, "POST", "credentials", admin, json={"store": "demo-azure", "access": "delete"})
    assert resp.status_code == 200 and "d" in resp.json()["credentials"]["sas_token"].split("sp=")[1].split("&")[0]


def test_someone_in_no_demo_group_gets_nothing(local):
    resp = api(
        local, "POST", "credentials", dev_token(local, "eve", ()), json={"store": "demo-azure", "access": "read"}
    )
    assert resp.status_code == 403


def test_an_expired_dev_token_is_refused(local):
    resp = api(local, "GET", "stores", dev_token(local, exp=1000, iat=900))
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_token_for_another_audience_is_refused(local):
    assert api(local, "GET", "stores", dev_token(local, aud="someone-else")).status_code == 401


def test_an_oversized_body_is_413_over_the_wire(local):
    alice = dev_token(local)
    resp = requests.post(
        f"{local.url}/api/v1/credentials",
        data=b"{" + b" " * 100_000 + b"}",
        timeout=10,
        headers={"Authorization": f"Bearer {alice}", "Content-Type": "application/json"},
    )
    assert resp.status_code == 413


def test_the_dev_idp_rejects_a_malformed_token_request(local):
    assert requests.post(f"{local.url}/dev-idp/token", data=b"nope", timeout=5).status_code == 400
