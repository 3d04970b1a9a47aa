"""Listing by permission: the organization manager's routes, so a client offers only what the caller
may use (GET /api/v1.0/organization, /organization/name/{name}, /api/v2.0/organization/{orgaId}/space,
/api/v1.0/space/{orgaId})."""

from __future__ import annotations

import pytest

from tests.accessmanager.support import am_config, am_service, demo_organization, roles_token
from tests.support import call


@pytest.fixture(scope="module")
def service(am_azurite, idp):
    internal = demo_organization(
        id=7,
        confidentiality="internal",
        spaces={
            "loadingzone": {"container": "intern-lz", "confidentiality": "internal"},
            "lab": {"id": 70, "container": "intern-lab", "confidentiality": "public"},
        },
    )
    config = am_config(am_azurite, idp, organizations={"demo": demo_organization(), "intern": internal})
    return am_service(am_azurite, idp, config=config)


def names(resp) -> list[str]:
    assert resp.status == 200, resp.json()
    return [item["name"] for item in resp.json()]


def orgs(service, idp, roles, permissions=None):
    query = {} if permissions is None else {"permissions": permissions}
    return call(service, "GET", "/api/v1.0/organization", token=roles_token(idp, *roles), query=query)


def spaces(service, idp, roles, org_id=1, permissions=None, path="/api/v2.0/organization/{}/space"):
    query = {} if permissions is None else {"permissions": permissions}
    return call(service, "GET", path.format(org_id), token=roles_token(idp, *roles), query=query)


def test_organizations_with_write_rights_are_those_with_a_supplier_role(service, idp):
    roles = ("org_demo_access", "org_intern_access", "spc_main_supplier")
    assert names(orgs(service, idp, roles, "WRITE")) == ["demo"]


def test_organizations_without_a_filter_are_those_the_caller_may_use(service, idp):
    assert names(orgs(service, idp, ("org_intern_access",))) == ["intern"]
    assert names(orgs(service, idp, ("org_all_public",))) == ["demo"]


def test_public_roles_list_public_organizations_for_read_but_never_for_write(service, idp):
    assert names(orgs(service, idp, ("org_all_public", "spc_all_public"), "READ")) == ["demo"]
    assert names(orgs(service, idp, ("org_all_public", "spc_all_public"), "WRITE")) == []


def test_sdk_admin_lists_every_organization(service, idp):
    assert names(orgs(service, idp, ("SDK_ADMIN",), "DELETE")) == ["demo", "intern"]


def test_the_permission_filter_takes_any_letter_case(service, idp):
    assert names(orgs(service, idp, ("SDK_ADMIN",), "write")) == ["demo", "intern"]


def test_an_unknown_permission_is_a_400(service, idp):
    resp = orgs(service, idp, ("SDK_ADMIN",), "ADMIN")
    assert resp.status == 400 and resp.json()["type"].endswith("/bad-access")


def test_an_organization_reads_as_that_services_clients_expect(service, idp):
    [org] = orgs(service, idp, ("org_demo_access",)).json()
    assert {k: org[k] for k in ("id", "name", "confidentiality")} == {
        "id": 1,
        "name": "demo",
        "confidentiality": "PUBLIC",
    }


def test_spaces_with_delete_rights_are_those_of_a_trustee_role(service, idp):
    roles = ("org_demo_access", "spc_main_trustee", "spc_open_supplier")
    assert names(spaces(service, idp, roles, permissions="DELETE")) == ["main"]
    assert names(spaces(service, idp, roles, permissions="WRITE")) == ["main", "open"]


def test_spaces_for_read_include_public_ones_through_spc_all_public(service, idp):
    assert names(spaces(service, idp, ("org_demo_access", "spc_all_public"), permissions="READ")) == ["open"]


def test_the_loadingzone_is_never_listed(service, idp):
    assert "loadingzone" not in names(spaces(service, idp, ("SDK_ADMIN",)))


def test_the_older_space_path_answers_the_same(service, idp):
    roles = ("org_demo_access", "spc_main_user")
    old = spaces(service, idp, roles, permissions="READ", path="/api/v1.0/space/{}")
    assert names(old) == names(spaces(service, idp, roles, permissions="READ")) == ["main"]


def test_a_space_reads_as_that_services_clients_expect(service, idp):
    [space] = spaces(service, idp, ("org_intern_access", "spc_lab_user"), org_id=7).json()
    assert {k: space[k] for k in ("id", "name", "organizationId", "confidentiality", "identifier")} == {
        "id": 70,
        "name": "lab",
        "organizationId": 7,
        "confidentiality": "PUBLIC",
        "identifier": "intern-lab",
    }


def test_spaces_of_an_organization_the_caller_may_not_use_are_a_403(service, idp):
    assert spaces(service, idp, ("org_demo_access",), org_id=7).status == 403


def test_spaces_of_an_unknown_organization_id_are_a_404(service, idp):
    assert spaces(service, idp, ("SDK_ADMIN",), org_id=99).status == 404


@pytest.mark.parametrize("org_id", ["x", "0", "-1", "1.0", "١", "99999999999999999999"])
def test_an_organization_id_that_is_not_a_positive_integer_is_a_400(service, idp, org_id):
    assert spaces(service, idp, ("SDK_ADMIN",), org_id=org_id).status == 400


def test_an_organization_by_name(service, idp):
    resp = call(service, "GET", "/api/v1.0/organization/name/intern", token=roles_token(idp, "org_intern_access"))
    assert resp.status == 200 and resp.json()["id"] == 7


def test_an_organization_by_name_the_caller_may_not_use_is_a_403(service, idp):
    resp = call(service, "GET", "/api/v1.0/organization/name/intern", token=roles_token(idp, "org_all_public"))
    assert resp.status == 403


def test_an_organization_by_a_hostile_name_is_a_400(service, idp):
    resp = call(service, "GET", "/api/v1.0/organization/name/Intern", token=roles_token(idp, "SDK_ADMIN"))
    assert resp.status == 400
