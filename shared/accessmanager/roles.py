"""The role model of organizations and spaces (docs/accessmanager.md, Roles). Pure: no I/O, no clock.

Roles come from the token (the configured claim set: roles or groups):

- ``org_<organization>_access`` (or ``_admin``): may use that organization; ``org_all_public``: may
  read the public spaces of every public organization;
- ``spc_<space>_user`` (list + read), ``spc_<space>_supplier`` (user + upload, and delete in the
  loadingzone), ``spc_<space>_trustee`` (supplier + delete); the organization manager's own form
  ``<organization>_<space>_<role>`` names the organization too; ``spc_all_public``: user rights on
  every public space;
- an ``*_all_public`` role never grants upload or delete, and never reaches an internal or private
  space or organization;
- ``SDK_ADMIN`` passes every check except container creation; ``CreateContainer`` may create a
  missing space container (when the configuration allows it).

Permissions: ``READ`` needs organization access and a space role (or the public roles on public
ones); the loadingzone is readable by anyone who may write to a space of its organization.
``WRITE`` needs organization access and supplier or trustee. ``DELETE`` needs organization access
and trustee, or, in the loadingzone, write rights on any space of the organization.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..identity.principal import Principal
from .directory import LOADINGZONE, AccessManagerConfig, Organization, Space

PERMISSIONS = ("READ", "WRITE", "DELETE")
SUPERUSER = "SDK_ADMIN"
CREATE_CONTAINER = "CreateContainer"
ORG_ALL_PUBLIC = "org_all_public"
SPC_ALL_PUBLIC = "spc_all_public"
SPACE_ROLES = {"READ": ("user", "supplier", "trustee"), "WRITE": ("supplier", "trustee"), "DELETE": ("trustee",)}

_ORG_ROLE = re.compile(r"^org_([a-z0-9]{3,24})_(access|admin)\Z", re.ASCII)
_SPC_ROLE = re.compile(r"^spc_([a-z0-9-]{3,63})_(user|supplier|trustee)\Z", re.ASCII)
_ORG_SPACE_ROLE = re.compile(r"^([a-z0-9]{3,24})_([a-z0-9-]{3,63})_(user|supplier|trustee)\Z", re.ASCII)


@dataclass(frozen=True)
class Roles:
    """What a caller's role names say, parsed once."""

    superuser: bool = False
    create_container: bool = False
    org_all_public: bool = False
    spc_all_public: bool = False
    organizations: frozenset[str] = frozenset()  # org_<o>_access / org_<o>_admin
    spaces: frozenset[tuple[str | None, str, str]] = frozenset()  # (organization or None, space, role)


def parse_roles(values: Iterable[str]) -> Roles:
    orgs: set[str] = set()
    spaces: set[tuple[str | None, str, str]] = set()
    flags = {"superuser": False, "create_container": False, "org_all_public": False, "spc_all_public": False}
    for value in values:
        if value.upper() == SUPERUSER:  # that service compares this one role without regard to case
            flags["superuser"] = True
        elif value == CREATE_CONTAINER:
            flags["create_container"] = True
        elif value == ORG_ALL_PUBLIC:
            flags["org_all_public"] = True
        elif value == SPC_ALL_PUBLIC:
            flags["spc_all_public"] = True
        elif m := _ORG_ROLE.match(value):
            orgs.add(m.group(1))
        elif m := _SPC_ROLE.match(value):
            spaces.add((None, m.group(1), m.group(2)))
        elif m := _ORG_SPACE_ROLE.match(value):
            spaces.add((m.group(1), m.group(2), m.group(3)))
    return Roles(organizations=frozenset(orgs), spaces=frozenset(spaces), **flags)


def roles_of(config: AccessManagerConfig, principal: Principal) -> Roles:
    return parse_roles(principal.groups if config.roles_from == "groups" else principal.roles)


def reaches(org: Organization, principal: Principal) -> bool:
    """Whether the caller's identity provider (and tenant) is one the organization trusts. An
    organization it does not reach does not exist for the caller: not even SDK_ADMIN sees it."""
    if org.issuers and principal.issuer_name not in org.issuers:
        return False
    return not org.tenants or principal.tenant_id in org.tenants


def _has_space_role(roles: Roles, org: Organization, space: Space, permission: str) -> bool:
    wanted = SPACE_ROLES[permission]
    return any((o is None or o == org.name) and s == space.name and r in wanted for o, s, r in roles.spaces)


def _member(roles: Roles, org: Organization) -> bool:
    return org.name in roles.organizations


def writes_in(roles: Roles, org: Organization) -> bool:
    """Write rights on any space of the organization (what opens its loadingzone)."""
    return _member(roles, org) and any(_has_space_role(roles, org, s, "WRITE") for s in org.spaces.values())


def allowed(roles: Roles, org: Organization, space: Space, permission: str) -> bool:
    """May the caller use ``space`` of ``org`` with ``permission`` (READ, WRITE or DELETE)?"""
    if roles.superuser:
        return True
    if permission == "READ":
        if space.name == LOADINGZONE and writes_in(roles, org):
            return True
        if _member(roles, org):
            return _has_space_role(roles, org, space, "READ") or (space.public and roles.spc_all_public)
        if org.public and space.public and roles.org_all_public:
            return _has_space_role(roles, org, space, "READ") or roles.spc_all_public
        return False
    if not _member(roles, org):
        return False
    if permission == "WRITE":
        return _has_space_role(roles, org, space, "WRITE")
    return _has_space_role(roles, org, space, "DELETE") or (space.name == LOADINGZONE and writes_in(roles, org))


def may_use_organization(roles: Roles, org: Organization) -> bool:
    """Listing without a permission filter: the organizations the caller may use at all."""
    return roles.superuser or _member(roles, org) or (org.public and roles.org_all_public)


def listed_spaces(roles: Roles, org: Organization, permission: str) -> list[Space]:
    """The spaces of ``org`` the caller holds ``permission`` on. The loadingzone is not listed (it is
    no target of its own: uploads reach it through ``upload``), as in that service."""
    return [s for s in org.spaces.values() if s.name != LOADINGZONE and allowed(roles, org, s, permission)]


__all__ = [
    "PERMISSIONS",
    "Roles",
    "allowed",
    "listed_spaces",
    "may_use_organization",
    "parse_roles",
    "reaches",
    "roles_of",
    "writes_in",
]
