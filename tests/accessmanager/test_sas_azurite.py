"""The v2.0 SAS routes for every example of that service's role model, each SAS used against Azurite
and refused for what it does not cover. Every behaviour runs for both signing methods."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs

import pytest
from azure.core.exceptions import HttpResponseError

from tests.accessmanager.support import (
    METHODS,
    admin_container,
    am_call,
    am_config,
    am_service,
    demo_organization,
    roles_token,
    sas_container,
)


@pytest.fixture(scope="module", params=METHODS)
def method(request):
    return request.param


@pytest.fixture(scope="module")
def service(am_azurite, idp, method):
    return am_service(am_azurite, idp, method)


def sas(service, idp, route: str, roles: tuple[str, ...], space: str) -> str:
    resp = am_call(service, route, roles_token(idp, *roles), organization="demo", space=space)
    assert resp.status == 200, resp.json()
    return resp.body.decode()


def denied(service, idp, route: str, roles: tuple[str, ...], space: str) -> bool:
    resp = am_call(service, route, roles_token(idp, *roles), organization="demo", space=space)
    assert resp.status in (200, 403), resp.json()
    return resp.status == 403 and resp.json()["type"].endswith("/forbidden")


def refused(fn) -> int:
    with pytest.raises(HttpResponseError) as err:
        fn()
    return err.value.status_code


def blob() -> str:
    return f"t/{uuid.uuid4().hex}.txt"


def seeded(azurite, container: str) -> str:
    name = blob()
    admin_container(azurite, container).upload_blob(name, b"seed")
    return name


SUPPLIER = ("org_demo_access", "spc_main_supplier")
TRUSTEE = ("org_demo_access", "spc_main_trustee")
ONLY_PUBLIC = ("org_all_public", "spc_all_public")


def test_the_answer_is_the_bare_container_sas_as_text(service, idp):
    resp = am_call(
        service, "read", roles_token(idp, "org_demo_access", "spc_main_user"), organization="demo", space="main"
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    q = parse_qs(resp.body.decode(), strict_parsing=True)
    assert (q["sr"], q["sp"]) == (["c"], ["rl"])


def test_a_supplier_of_main_uploads_into_the_internal_loadingzone(service, idp, am_azurite):
    token = sas(service, idp, "upload", SUPPLIER, "main")
    assert parse_qs(token)["sp"] == ["racwl"]
    zone = sas_container(am_azurite, "loadingzone", token)
    name = blob()
    zone.upload_blob(name, b"data")
    assert zone.download_blob(name).readall() == b"data"
    assert name in [b.name for b in zone.list_blobs(name_starts_with="t/")]


def test_an_upload_sas_is_refused_in_the_private_space_itself_and_cannot_delete(service, idp, am_azurite):
    token = sas(service, idp, "upload", SUPPLIER, "main")
    assert refused(lambda: sas_container(am_azurite, "main", token).upload_blob(blob(), b"x")) == 403
    name = seeded(am_azurite, "loadingzone")
    assert refused(lambda: sas_container(am_azurite, "loadingzone", token).delete_blob(name)) == 403


def test_a_trustee_of_main_uploads_into_the_loadingzone(service, idp, am_azurite):
    token = sas(service, idp, "upload", TRUSTEE, "main")
    sas_container(am_azurite, "loadingzone", token).upload_blob(blob(), b"data")


def test_org_all_public_and_a_user_role_read_a_public_space(service, idp, am_azurite):
    name = seeded(am_azurite, "open")
    c = sas_container(am_azurite, "open", sas(service, idp, "read", ("org_all_public", "spc_open_user"), "open"))
    assert c.download_blob(name).readall() == b"seed"
    assert refused(lambda: c.upload_blob(blob(), b"x")) == 403


def test_organization_access_and_spc_all_public_read_a_public_space(service, idp, am_azurite):
    name = seeded(am_azurite, "open")
    c = sas_container(am_azurite, "open", sas(service, idp, "read", ("org_demo_access", "spc_all_public"), "open"))
    assert name in [b.name for b in c.list_blobs(name_starts_with="t/")]
    assert refused(lambda: c.delete_blob(name)) == 403


def test_a_read_sas_of_one_space_is_refused_in_another(service, idp, am_azurite):
    token = sas(service, idp, "read", ("org_demo_access", "spc_open_user"), "open")
    name = seeded(am_azurite, "main")
    assert refused(lambda: sas_container(am_azurite, "main", token).download_blob(name).readall()) == 403


@pytest.mark.parametrize("route", ["upload", "upload/main", "delete"])
def test_only_all_public_roles_never_upload_or_delete_in_a_public_space(service, idp, route):
    assert denied(service, idp, route, ONLY_PUBLIC, "open")


def test_only_all_public_roles_cannot_read_a_private_space(service, idp):
    assert denied(service, idp, "read", ONLY_PUBLIC, "main")


def test_org_all_public_never_reaches_a_private_space_even_with_its_role(service, idp):
    assert denied(service, idp, "read", ("org_all_public", "spc_main_trustee"), "main")


@pytest.mark.parametrize("route", ["read", "upload", "upload/main", "delete"])
def test_a_space_role_without_organization_access_is_refused(service, idp, route):
    assert denied(service, idp, route, ("spc_main_trustee",), "main")


def test_a_supplier_deletes_in_the_loadingzone(service, idp, am_azurite):
    token = sas(service, idp, "delete", SUPPLIER, "loadingzone")
    assert parse_qs(token)["sp"] == ["racwdl"]
    name = seeded(am_azurite, "loadingzone")
    zone = sas_container(am_azurite, "loadingzone", token)
    zone.delete_blob(name)
    assert name not in [b.name for b in zone.list_blobs(name_starts_with="t/")]
    assert refused(lambda: sas_container(am_azurite, "main", token).delete_blob(seeded(am_azurite, "main"))) == 403


def test_a_supplier_cannot_delete_in_main(service, idp):
    assert denied(service, idp, "delete", SUPPLIER, "main")


def test_a_trustee_deletes_in_main(service, idp, am_azurite):
    name = seeded(am_azurite, "main")
    sas_container(am_azurite, "main", sas(service, idp, "delete", TRUSTEE, "main")).delete_blob(name)


def test_upload_to_main_storage_as_supplier_is_refused(service, idp):
    assert denied(service, idp, "upload/main", SUPPLIER, "main")


def test_upload_to_main_storage_as_trustee_writes_the_space_itself_but_cannot_delete(service, idp, am_azurite):
    token = sas(service, idp, "upload/main", TRUSTEE, "main")
    assert parse_qs(token)["sp"] == ["racwl"]
    main = sas_container(am_azurite, "main", token)
    name = blob()
    main.upload_blob(name, b"direct")
    assert refused(lambda: main.delete_blob(name)) == 403
    assert refused(lambda: sas_container(am_azurite, "loadingzone", token).upload_blob(blob(), b"x")) == 403


def test_the_loadingzone_is_readable_by_anyone_who_writes_a_space_of_the_organization(service, idp, am_azurite):
    name = seeded(am_azurite, "loadingzone")
    token = sas(service, idp, "read", SUPPLIER, "loadingzone")
    assert sas_container(am_azurite, "loadingzone", token).download_blob(name).readall() == b"seed"


def test_a_mere_user_of_main_cannot_read_the_loadingzone(service, idp):
    assert denied(service, idp, "read", ("org_demo_access", "spc_main_user"), "loadingzone")


def test_the_organization_managers_own_role_form_names_the_organization(service, idp, am_azurite):
    token = sas(service, idp, "upload", ("org_demo_access", "demo_main_supplier"), "main")
    sas_container(am_azurite, "loadingzone", token).upload_blob(blob(), b"data")


def test_a_role_of_another_organization_gives_nothing_here(service, idp):
    assert denied(service, idp, "upload", ("org_demo_access", "acme_main_supplier"), "main")


@pytest.mark.parametrize("route,space", [("upload", "main"), ("upload/main", "open"), ("delete", "main")])
def test_sdk_admin_passes_every_check_to_write(service, idp, am_azurite, route, space):
    token = sas(service, idp, route, ("SDK_ADMIN",), space)
    sas_container(am_azurite, "loadingzone" if route == "upload" else space, token).upload_blob(blob(), b"admin")


def test_sdk_admin_passes_every_check_to_read(service, idp, am_azurite):
    name = seeded(am_azurite, "main")
    token = sas(service, idp, "read", ("SDK_ADMIN",), "main")
    assert sas_container(am_azurite, "main", token).download_blob(name).readall() == b"seed"


# -- CreateContainer -----------------------------------------------------------------------------
def fresh_space_service(am_azurite, idp, method: str, create: bool):
    space = f"fresh-{uuid.uuid4().hex[:12]}"
    org = demo_organization()
    org["spaces"] = {**org["spaces"], space: {"confidentiality": "private"}}
    config = am_config(am_azurite, idp, method, organizations={"demo": org}, create_containers=create)
    return am_service(am_azurite, idp, method, config=config), space


def test_create_container_creates_a_missing_space_container_when_the_configuration_allows_it(am_azurite, idp, method):
    service, space = fresh_space_service(am_azurite, idp, method, create=True)
    tok = roles_token(idp, "org_demo_access", f"spc_{space}_user", "CreateContainer")
    resp = am_call(service, "read", tok, organization="demo", space=space)
    assert resp.status == 200, resp.json()
    assert admin_container(am_azurite, space).exists()
    assert list(sas_container(am_azurite, space, resp.body.decode()).list_blobs()) == []


def test_create_container_creates_nothing_when_the_configuration_forbids_it(am_azurite, idp, method):
    service, space = fresh_space_service(am_azurite, idp, method, create=False)
    tok = roles_token(idp, "org_demo_access", f"spc_{space}_user", "CreateContainer")
    resp = am_call(service, "read", tok, organization="demo", space=space)
    assert resp.status == 409 and resp.json()["type"].endswith("/container-missing")
    assert not admin_container(am_azurite, space).exists()


def test_sdk_admin_without_create_container_creates_no_container(am_azurite, idp, method):
    service, space = fresh_space_service(am_azurite, idp, method, create=True)
    resp = am_call(service, "read", roles_token(idp, "SDK_ADMIN"), organization="demo", space=space)
    assert resp.status == 409 and resp.json()["type"].endswith("/container-missing")
    assert not admin_container(am_azurite, space).exists()
