"""Hostile organization, space and rootDir values, and organizations the caller's tenant does not own:
always a 4xx, before any storage call."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceExistsError

from tests.accessmanager.support import am_call, am_config, am_service, demo_organization, roles_token
from tests.support import build_service, call, issuer_block

ADMIN = ("SDK_ADMIN",)
BAD_NAMES = [
    "../demo",
    "demo/..",
    "dem*",
    "de?o",
    "Demo",
    "DEMO",
    "\uff44\uff45\uff4d\uff4f",  # fullwidth "demo"
    "de\u0301mo",  # a combining accent
    "de%6do",
    "demo%00",
    "demo\x00",
    " demo",
    "",
    "de",
    "a" * 25,
]
BAD_SPACES = ["../main", "main/", "Main", "m\u0430in", "ma*n", "*", "main\n", "%2e%2e", "", "ma"]
BAD_ROOT_DIRS = [
    "../x",
    "a/../b",
    "./a",
    "a/./b",
    "*",
    "run-*",
    "run?",
    "[a]",
    "/abs",
    "a/",
    "a//b",
    "x%2f..",
    "e\u0301t\u00e9",  # NFD, not NFC
    "a\\b",
    "a\tb",
    "",
    "x" * 1025,
]


@pytest.fixture(scope="module")
def service(am_azurite, idp):
    return am_service(am_azurite, idp)


def answer(service, idp, route="read", roles=ADMIN, **query):
    return am_call(service, route, roles_token(idp, *roles), **query)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_hostile_organization_name_is_a_400(service, idp, name):
    resp = answer(service, idp, organization=name, space="main")
    assert resp.status == 400 and resp.json()["type"].endswith("/bad-name")


@pytest.mark.parametrize("name", BAD_SPACES)
def test_a_hostile_space_name_is_a_400(service, idp, name):
    resp = answer(service, idp, organization="demo", space=name)
    assert resp.status == 400 and resp.json()["type"].endswith("/bad-name")


@pytest.mark.parametrize("root", BAD_ROOT_DIRS)
def test_a_hostile_root_dir_is_a_400(service, idp, root):
    resp = answer(service, idp, "commit", organization="demo", space="main", rootDir=root)
    assert resp.status == 400 and resp.json()["type"].endswith("/bad-path")


def test_a_refused_name_is_not_echoed_with_its_control_characters(service, idp):
    resp = answer(service, idp, organization="ev\x1b[31mil", space="main")
    assert "\x1b" not in resp.json()["detail"]


def test_an_unknown_query_parameter_is_a_400(service, idp):
    resp = answer(service, idp, organization="demo", space="main", container="main")
    assert resp.status == 400 and resp.json()["type"].endswith("/unknown-field")


@pytest.mark.parametrize("query", [{"space": "main"}, {"organization": "demo"}, {}])
def test_a_missing_organization_or_space_is_a_400(service, idp, query):
    resp = answer(service, idp, **query)
    assert resp.status == 400 and resp.json()["type"].endswith("/missing-field")


def test_an_unknown_organization_is_a_404(service, idp):
    assert answer(service, idp, organization="nowhere", space="main").status == 404


def test_an_unknown_space_is_a_404(service, idp):
    assert answer(service, idp, organization="demo", space="nowhere").status == 404


def test_no_token_is_a_401(service):
    resp = call(service, "POST", "/api/v2.0/accessmanager/read", query={"organization": "demo", "space": "main"})
    assert resp.status == 401


def test_a_service_without_organizations_answers_404(idp, am_azurite):
    config = am_config(am_azurite, idp)
    del config["accessmanager"]
    service = build_service(config, idp)
    query = {"organization": "demo", "space": "main"}
    resp = call(service, "POST", "/api/v2.0/accessmanager/read", token=roles_token(idp, *ADMIN), query=query)
    assert resp.status == 404


# -- an organization of another tenant -------------------------------------------------------------
@pytest.fixture(scope="module")
def tenants_service(am_azurite, idp):
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(
        am_azurite.connection_string, connection_verify=str(am_azurite.ca)
    )
    for name in ("acme-loadingzone", "acme-main"):
        try:
            client.create_container(name)
        except ResourceExistsError:
            pass
    acme = demo_organization(
        id=2,
        tenants=["tenant-a"],
        spaces={
            "loadingzone": {"container": "acme-loadingzone", "confidentiality": "internal"},
            "main": {"container": "acme-main", "confidentiality": "private"},
        },
    )
    config = am_config(am_azurite, idp, organizations={"demo": demo_organization(), "acme": acme})
    config["issuers"] = [issuer_block(idp)]
    return am_service(am_azurite, idp, config=config)


ACME_TRUSTEE = ("org_acme_access", "spc_main_trustee")


def test_an_organization_of_another_tenant_does_not_exist_for_the_caller(tenants_service, idp):
    resp = am_call(
        tenants_service, "read", roles_token(idp, *ACME_TRUSTEE, tid="tenant-b"), organization="acme", space="main"
    )
    assert resp.status == 404


def test_sdk_admin_of_another_tenant_does_not_reach_the_organization_either(tenants_service, idp):
    resp = am_call(
        tenants_service, "delete", roles_token(idp, "SDK_ADMIN", tid="tenant-b"), organization="acme", space="main"
    )
    assert resp.status == 404


def test_the_organizations_own_tenant_reaches_it(tenants_service, idp):
    resp = am_call(
        tenants_service, "read", roles_token(idp, *ACME_TRUSTEE, tid="tenant-a"), organization="acme", space="main"
    )
    assert resp.status == 200


def test_another_tenants_organization_is_not_listed(tenants_service, idp):
    resp = call(tenants_service, "GET", "/api/v1.0/organization", token=roles_token(idp, "SDK_ADMIN", tid="tenant-b"))
    assert [o["name"] for o in resp.json()] == ["demo"]
