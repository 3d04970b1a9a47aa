"""The README's access-manager session against the local service: the embedded default's organization
``demo`` on Azurite and roles put in a token by the development identity provider, over real HTTP."""

from __future__ import annotations

import uuid

import pytest
import requests
from azure.storage.blob import ContainerClient

from localdev.default_config import embedded_config
from localdev.devidp import DevIdentityProvider
from localdev.server import LocalServer
from shared.api import VendingService
from shared.config import parse_config


@pytest.fixture(scope="module")
def local(am_azurite):
    server = LocalServer(service=None, idp=None, port=0)
    issuer = f"{server.url}/dev-idp"
    server.idp = DevIdentityProvider(issuer)
    server.service = VendingService(parse_config(embedded_config({"azurite": am_azurite}, issuer), mode="local"))
    server.start_background()
    yield server
    server.stop()


def dev_token(local, *roles: str) -> str:
    resp = requests.post(f"{local.url}/dev-idp/token", json={"sub": "alice", "roles": list(roles)}, timeout=5)
    assert resp.status_code == 200
    return resp.json()["access_token"]


def post(local, route, tok, **query):
    return requests.post(
        f"{local.url}/api/v2.0/accessmanager/{route}",
        params=query,
        headers={"Authorization": f"Bearer {tok}"},
        timeout=10,
    )


def test_the_embedded_default_has_organization_demo_with_its_three_spaces(am_azurite):
    am = parse_config(embedded_config({"azurite": am_azurite}), mode="local").accessmanager
    spaces = am.organizations["demo"].spaces
    assert {n: s.confidentiality for n, s in spaces.items()} == {
        "loadingzone": "internal",
        "main": "private",
        "open": "public",
    }


def test_the_dev_idp_refuses_roles_that_are_not_strings(local):
    resp = requests.post(f"{local.url}/dev-idp/token", json={"sub": "alice", "roles": [1]}, timeout=5)
    assert resp.status_code == 400


def test_the_readme_session_uploads_through_the_loadingzone_and_commits(local, am_azurite):
    tok = dev_token(local, "org_demo_access", "spc_main_supplier")
    sas = post(local, "upload", tok, organization="demo", space="main")
    assert sas.status_code == 200 and sas.headers["Content-Type"].startswith("text/plain")
    root = f"upload-{uuid.uuid4().hex[:8]}"
    zone = ContainerClient.from_container_url(
        f"{am_azurite.blob_url}/loadingzone?{sas.text}", connection_verify=str(am_azurite.ca)
    )
    zone.upload_blob(f"{root}/hello.txt", b"hello")
    commit = post(local, "commit", tok, organization="demo", space="main", rootDir=root)
    assert commit.status_code == 200 and commit.json() == [f"{root}/hello.txt"]


def test_the_readme_session_lists_where_the_caller_may_upload(local):
    tok = dev_token(local, "org_demo_access", "spc_main_supplier")
    headers = {"Authorization": f"Bearer {tok}"}
    orgs = requests.get(
        f"{local.url}/api/v1.0/organization", params={"permissions": "WRITE"}, headers=headers, timeout=5
    )
    [org] = orgs.json()
    spaces = requests.get(
        f"{local.url}/api/v2.0/organization/{org['id']}/space",
        params={"permissions": "WRITE"},
        headers=headers,
        timeout=5,
    )
    assert [s["name"] for s in spaces.json()] == ["main"]
