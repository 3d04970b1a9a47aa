"""The ``accessmanager`` section of the configuration (docs/accessmanager.md, Configuration).

The directory of organizations and spaces and the settings of that service (SAS lifetimes per
permission, the SAS cache and its safety buffer, container creation, the commit notifier).
:func:`parse_accessmanager` is called by ``shared/config.py``; every error names its key, e.g.
``accessmanager.organizations.demo.spaces.main.confidentiality``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..errors import ConfigError
from ..sections import Section
from .notifiers import validate_notifier

LOADINGZONE = "loadingzone"
CONFIDENTIALITY = ("public", "internal", "private")
# That service's name rules: an organization is a storage account name, a space a container name.
ORGANIZATION_NAME = re.compile(r"^[a-z0-9]{3,24}\Z", re.ASCII)
SPACE_NAME = re.compile(r"^[a-z0-9-]{3,63}\Z", re.ASCII)
# Azure's own rule for a container (and ours for an S3 prefix of a space): no leading, trailing or double '-'.
CONTAINER_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}\Z", re.ASCII)
# "spc_<space>_user" and "org_<organization>_access" would also read as space roles of an organization
# named "spc" or "org": those two names are refused, so every role means one thing.
RESERVED_ORGANIZATIONS = ("spc", "org")
PROVIDERS = ("azure-blob", "aws-s3")
ROLE_SOURCES = ("roles", "groups")
MAX_MINUTES = 7 * 24 * 60  # a user-delegation SAS lives at most 7 days


@dataclass(frozen=True)
class Space:
    name: str
    container: str  # the container (Azure) or the top-level prefix (S3) of the space
    confidentiality: str
    id: int | None = None
    description: str = ""

    @property
    def public(self) -> bool:
        return self.confidentiality == "public"


@dataclass(frozen=True)
class Organization:
    name: str
    id: int
    store: str  # the store block whose account (or bucket) and credentials the organization uses
    provider: str  # that store's kind: azure-blob or aws-s3
    confidentiality: str
    spaces: Mapping[str, Space]
    issuers: tuple[str, ...] = ()  # issuer names whose tokens may reach it (empty: the only issuer)
    tenants: tuple[str, ...] = ()  # tenant ids whose tokens may reach it (empty: any the issuer accepts)
    description: str = ""

    @property
    def public(self) -> bool:
        return self.confidentiality == "public"

    @property
    def loadingzone(self) -> Space:
        return self.spaces[LOADINGZONE]


@dataclass(frozen=True)
class SasSettings:
    """That service's ``sas.token.expiration.*`` (minutes) and ``sas.token.cache.buffer`` (minutes)."""

    read_minutes: int = 60
    write_minutes: int = 60
    delete_minutes: int = 60
    cache_enabled: bool = True
    buffer_minutes: int = 2
    cache_max_entries: int = 10_000

    def minutes(self, permission: str) -> int:
        return {"READ": self.read_minutes, "WRITE": self.write_minutes, "DELETE": self.delete_minutes}[permission]


@dataclass(frozen=True)
class AccessManagerConfig:
    organizations: Mapping[str, Organization]
    sas: SasSettings
    notifier: Mapping[str, Any]
    roles_from: str = "roles"  # which claim set of the token carries the role names: roles or groups
    create_containers: bool = False  # whether CreateContainer may create a missing space container

    def by_id(self, organization_id: int) -> Organization | None:
        return next((o for o in self.organizations.values() if o.id == organization_id), None)


FIELDS = ("roles_from", "create_containers", "sas", "notifier", "organizations")


def parse_accessmanager(
    raw: object, mode: str, stores: Mapping[str, Any], issuers: Sequence[Any], max_ttl_seconds: int
) -> AccessManagerConfig:
    """Validate the section. ``stores`` maps store ids to their validated blocks (``.kind``, ``.options``);
    ``issuers`` are the validated issuer blocks (``.name``, ``.any_tenant``)."""
    s = Section("accessmanager", raw, FIELDS)
    sas = _parse_sas(s.section("sas", ("expiration", "cache"), {}), max_ttl_seconds)
    organizations: dict[str, Organization] = {}
    raw_orgs = s.get("organizations", dict)
    if not raw_orgs:
        raise ConfigError(s.path("organizations"), "must define at least one organization")
    containers: dict[tuple[str, str], str] = {}
    ids: dict[int, str] = {}
    space_ids: dict[int, str] = {}
    for name, body in raw_orgs.items():
        org = _parse_organization(
            Section(f"{s.path('organizations')}.{name}", body, _ORG_FIELDS), name, stores, issuers
        )
        if org.id in ids:
            raise ConfigError(f"{s.path('organizations')}.{name}.id", f"duplicate id {org.id} (also '{ids[org.id]}')")
        ids[org.id] = name
        for space in org.spaces.values():
            key = f"{s.path('organizations')}.{name}.spaces.{space.name}"
            where = (org.store, space.container)
            if where in containers:
                raise ConfigError(
                    f"{key}.container",
                    f"container '{space.container}' of store '{org.store}' already belongs to {containers[where]}: "
                    "two spaces never share a container",
                )
            containers[where] = f"{name}/{space.name}"
            if space.id is not None:
                if space.id in space_ids:
                    raise ConfigError(f"{key}.id", f"duplicate space id {space.id} (also {space_ids[space.id]})")
                space_ids[space.id] = f"{name}/{space.name}"
        organizations[name] = org
    return AccessManagerConfig(
        organizations=MappingProxyType(organizations),
        sas=sas,
        notifier=MappingProxyType(validate_notifier(s.section("notifier", ("kind",) + _NOTIFIER_FIELDS, {}), mode)),
        roles_from=s.string("roles_from", "roles", choices=ROLE_SOURCES),
        create_containers=s.get("create_containers", bool, False),
    )


# Every field any notifier kind knows; validate_notifier narrows them to its kind's.
_NOTIFIER_FIELDS = (
    "fully_qualified_namespace",
    "eventhub",
    "auth",
    "client_id",
    "connection_string",
    "event_bus",
    "region",
    "source",
    "detail_type",
    "endpoint_url",
    "ca_bundle",
    "emulator",
    "keys",
)
_ORG_FIELDS = ("id", "store", "confidentiality", "description", "issuers", "tenants", "spaces")
_SPACE_FIELDS = ("id", "container", "confidentiality", "description")


def _parse_sas(s: Section, max_ttl_seconds: int) -> SasSettings:
    ceiling = min(MAX_MINUTES, max_ttl_seconds // 60)
    e = s.section("expiration", ("read", "write", "delete"), {})
    c = s.section("cache", ("enabled", "buffer", "max_entries"), {})
    read, write, delete = (e.integer(p, min(60, ceiling), 1, ceiling) for p in ("read", "write", "delete"))
    buffer = c.integer("buffer", 2, 0, MAX_MINUTES)
    shortest = min(read, write, delete)
    if buffer >= shortest:
        raise ConfigError(
            c.path("buffer"),
            f"must be shorter than the shortest SAS lifetime ({shortest} minutes): a token is reused only "
            "while more than the buffer remains",
        )
    return SasSettings(
        read_minutes=read,
        write_minutes=write,
        delete_minutes=delete,
        cache_enabled=c.get("enabled", bool, True),
        buffer_minutes=buffer,
        cache_max_entries=c.integer("max_entries", 10_000, 1, 1_000_000),
    )


def _positive_id(s: Section, default: Any = ...) -> int | None:
    return s.integer("id", default, 1, 2**63 - 1)


def _parse_organization(s: Section, name: str, stores: Mapping[str, Any], issuers: Sequence[Any]) -> Organization:
    if not ORGANIZATION_NAME.match(name):
        raise ConfigError(s.key, "organization names are 3-24 characters of a-z and 0-9 (a storage account name)")
    if name in RESERVED_ORGANIZATIONS:
        raise ConfigError(s.key, f"'{name}' is reserved: the roles spc_… and org_… would name it")
    store_id = s.string("store")
    store = stores.get(store_id)
    if store is None:
        raise ConfigError(s.path("store"), f"unknown store {store_id!r}")
    if store.kind not in PROVIDERS:
        raise ConfigError(s.path("store"), f"must be an azure-blob or aws-s3 store, not {store.kind}")
    org_issuers, tenants = _audience(s, issuers)
    raw_spaces = s.get("spaces", dict)
    if LOADINGZONE not in raw_spaces:
        raise ConfigError(
            f"{s.path('spaces')}.{LOADINGZONE}", "is required: every organization has a loadingzone for incoming data"
        )
    spaces = {}
    for space_name, body in raw_spaces.items():
        key = f"{s.path('spaces')}.{space_name}"
        if not SPACE_NAME.match(space_name):
            raise ConfigError(key, "space names are 3-63 characters of a-z, 0-9 and '-' (a container name)")
        sp = Section(key, body, _SPACE_FIELDS)
        container = sp.string("container", space_name)
        if not CONTAINER_NAME.match(container):
            raise ConfigError(
                sp.path("container") if sp.has("container") else key,
                f"'{container}' is not a container name: 3-63 characters of a-z, 0-9 and single '-' inside",
            )
        spaces[space_name] = Space(
            name=space_name,
            container=container,
            confidentiality=sp.string("confidentiality", choices=CONFIDENTIALITY),
            id=_positive_id(sp, None),
            description=sp.get("description", str, ""),
        )
    return Organization(
        name=name,
        id=_positive_id(s) or 0,
        store=store_id,
        provider=store.kind,
        confidentiality=s.string("confidentiality", choices=CONFIDENTIALITY),
        spaces=MappingProxyType(spaces),
        issuers=org_issuers,
        tenants=tenants,
        description=s.get("description", str, ""),
    )


def _audience(s: Section, issuers: Sequence[Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Whose tokens reach the organization. Role names are plain strings any identity provider can
    hand out, so with several issuers each organization names its own, and an organization reached
    by an any-tenant issuer names its tenants (as grants do)."""
    names = [i.name for i in issuers]
    org_issuers = s.strings("issuers", ())
    for j, name in enumerate(org_issuers):
        if name not in names:
            raise ConfigError(
                f"{s.path('issuers')}[{j}]", f"unknown issuer {name!r} (issuer names: {', '.join(names)})"
            )
    if len(names) > 1 and not org_issuers:
        raise ConfigError(
            s.path("issuers"),
            "is required when more than one issuer is configured: a role of one identity provider "
            "is not the same role at another",
        )
    tenants = s.strings("tenants", ())
    reached = [i for i in issuers if not org_issuers or i.name in org_issuers]
    if any(getattr(i, "any_tenant", False) for i in reached) and not tenants:
        raise ConfigError(
            s.path("tenants"),
            "is required: the organization is reached by an issuer with any_tenant, so it names its tenants",
        )
    return org_issuers, tenants


__all__ = [
    "AccessManagerConfig",
    "Organization",
    "Space",
    "SasSettings",
    "LOADINGZONE",
    "ORGANIZATION_NAME",
    "SPACE_NAME",
    "parse_accessmanager",
]
