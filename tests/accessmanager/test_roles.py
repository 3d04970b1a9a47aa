"""The role model on its own (pure): how role names are read, and the permission table."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from shared.accessmanager.directory import AccessManagerConfig, Organization, SasSettings, Space
from shared.accessmanager.roles import allowed, parse_roles, roles_of
from shared.identity.principal import Principal

SPACES = {
    "loadingzone": Space("loadingzone", "loadingzone", "internal"),
    "main": Space("main", "main", "private"),
    "open": Space("open", "open", "public"),
}
DEMO = Organization("demo", 1, "s", "azure-blob", "public", MappingProxyType(SPACES))
INTERNAL = Organization("intern", 2, "s", "azure-blob", "internal", MappingProxyType(SPACES))


def may(roles, space, permission, org=DEMO) -> bool:
    return allowed(parse_roles(roles), org, org.spaces[space], permission)


@pytest.mark.parametrize(
    "roles,space,permission",
    [
        (("org_demo_access", "spc_main_user"), "main", "READ"),
        (("org_demo_admin", "spc_main_user"), "main", "READ"),
        (("org_demo_access", "spc_main_supplier"), "main", "WRITE"),
        (("org_demo_access", "spc_main_trustee"), "main", "DELETE"),
        (("org_demo_access", "spc_main_supplier"), "loadingzone", "DELETE"),
        (("org_demo_access", "spc_main_supplier"), "loadingzone", "READ"),
        (("org_all_public", "spc_open_user"), "open", "READ"),
        (("org_demo_access", "spc_all_public"), "open", "READ"),
        (("org_all_public", "spc_all_public"), "open", "READ"),
        (("sdk_admin",), "main", "DELETE"),
    ],
)
def test_allowed(roles, space, permission):
    assert may(roles, space, permission)


@pytest.mark.parametrize(
    "roles,space,permission",
    [
        (("org_demo_access", "spc_main_user"), "main", "WRITE"),
        (("org_demo_access", "spc_main_supplier"), "main", "DELETE"),
        (("org_demo_access", "spc_main_user"), "loadingzone", "READ"),
        (("org_all_public", "spc_all_public"), "open", "WRITE"),
        (("org_all_public", "spc_all_public"), "main", "READ"),
        (("org_all_public", "spc_open_supplier"), "open", "WRITE"),
        (("spc_main_trustee",), "main", "READ"),
        (("org_demo_access", "spc_main_user", "CreateContainer"), "main", "WRITE"),
        (("ORG_DEMO_ACCESS", "SPC_MAIN_USER"), "main", "READ"),
    ],
)
def test_denied(roles, space, permission):
    assert not may(roles, space, permission)


def test_org_all_public_never_reaches_an_internal_organization():
    assert not may(("org_all_public", "spc_all_public"), "open", "READ", org=INTERNAL)


def test_the_organization_managers_role_form_is_bound_to_its_organization():
    roles = ("org_demo_access", "org_intern_access", "demo_main_trustee")
    assert may(roles, "main", "DELETE") and not may(roles, "main", "READ", org=INTERNAL)


def test_a_space_role_of_the_spc_form_applies_in_every_organization_the_caller_may_use():
    roles = ("org_demo_access", "org_intern_access", "spc_main_user")
    assert may(roles, "main", "READ") and may(roles, "main", "READ", org=INTERNAL)


@pytest.mark.parametrize("source,field", [("roles", "roles"), ("groups", "groups")])
def test_roles_are_read_from_the_configured_claim_set(source, field):
    config = AccessManagerConfig(MappingProxyType({}), SasSettings(), MappingProxyType({}), roles_from=source)
    principal = Principal("dev", "iss", "alice", **{field: ("SDK_ADMIN",)})
    other = Principal("dev", "iss", "alice", **{"groups" if field == "roles" else "roles": ("SDK_ADMIN",)})
    assert roles_of(config, principal).superuser and not roles_of(config, other).superuser
