"""The SAS and commit service of the access-manager API (docs/accessmanager.md).

One per process (held by the vending service). It decides with the role model (:mod:`.roles`),
signs with the organization's store vendor (the Azure vendor's ``container_sas``: user delegation
or account key, as every other SAS of that store), keeps the SAS cache of that service (one token
per store, container and permission, reused while more than the safety buffer remains), lists a
commit's files and publishes its event through the configured notifier. Auditing is the route
handlers' (``shared/api/routes.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..cache import CredentialCache
from ..errors import forbidden, not_found, problem
from ..identity.principal import Principal
from ..kinds.contract import IssuedCredential
from ..secrets import SecretResolver
from .directory import MAX_MINUTES, AccessManagerConfig, Organization, Space
from .notifiers import CommitEvent, build_notifier
from .roles import Roles, allowed, listed_spaces, may_use_organization, reaches, roles_of

MAX_COMMIT_FILES = 10_000


@dataclass(frozen=True)
class SasOperation:
    """One SAS route: the permission it needs on the requested space, the SAS it signs, the lifetime
    setting it uses, and whether the SAS is for the space or for the organization's loadingzone."""

    permission: str
    sas_permission: str
    lifetime: str
    loadingzone: bool


SAS_OPERATIONS = {
    "read": SasOperation("READ", "rl", "READ", False),
    "upload": SasOperation("WRITE", "racwl", "WRITE", True),  # uploads land in the loadingzone first
    "upload/main": SasOperation("DELETE", "racwl", "WRITE", False),  # straight into the space: delete rights
    "delete": SasOperation("DELETE", "racwdl", "DELETE", False),
}


@dataclass(frozen=True)
class Sas:
    token: str
    credential: IssuedCredential
    cached: bool
    organization: Organization
    space: Space  # the space asked for
    container: str  # the container the SAS covers (the loadingzone's for upload)
    permission: str


@dataclass(frozen=True)
class Commit:
    files: list[str]
    commit_id: str
    organization: Organization
    space: Space
    root_dir: str


class AccessManager:
    def __init__(
        self,
        config: AccessManagerConfig,
        vendor: Callable[[str], Any],
        secrets: SecretResolver,
        clock: Callable[[], datetime],
    ):
        self.config = config
        self._vendor = vendor
        self.notifier = build_notifier(config.notifier, secrets)
        sas = config.sas
        self.cache: CredentialCache[IssuedCredential] | None = (
            CredentialCache(
                max_entries=sas.cache_max_entries,
                max_reuse=timedelta(minutes=MAX_MINUTES),
                safety_buffer=timedelta(minutes=sas.buffer_minutes),
                clock=clock,
                issued_at=lambda c: c.issued_at,
                expires_at=lambda c: c.expires_at,
                half_life=False,
            )
            if sas.cache_enabled
            else None
        )

    # -- the directory as the caller sees it ---------------------------------------------------
    def organization(self, principal: Principal, name: str) -> Organization:
        """An organization the caller's identity provider reaches; any other does not exist for them."""
        org = self.config.organizations.get(name)
        if org is None or not reaches(org, principal):
            raise not_found(f"there is no organization '{name}'")
        return org

    def organization_by_id(self, principal: Principal, organization_id: int) -> Organization:
        org = self.config.by_id(organization_id)
        if org is None or not reaches(org, principal):
            raise not_found(f"there is no organization with id {organization_id}")
        return org

    @staticmethod
    def space(org: Organization, name: str) -> Space:
        space = org.spaces.get(name)
        if space is None:
            raise not_found(f"organization '{org.name}' has no space '{name}'")
        return space

    def roles(self, principal: Principal) -> Roles:
        return roles_of(self.config, principal)

    # -- SAS ------------------------------------------------------------------------------------
    def sas(self, principal: Principal, operation: str, organization: str, space_name: str) -> Sas:
        op = SAS_OPERATIONS[operation]
        org = self.organization(principal, organization)
        space = self.space(org, space_name)
        if org.provider != "azure-blob":
            raise problem(
                "sas-unsupported",
                f"organization '{org.name}' is stored in S3 ({org.store}): only commit is available there",
            )
        roles = self.roles(principal)
        if not allowed(roles, org, space, op.permission):
            raise forbidden(
                f"you do not hold {op.permission} on space '{space.name}' of organization '{org.name}'"
                + (" (upload to main storage needs delete rights)" if operation == "upload/main" else "")
            )
        target = org.loadingzone if op.loadingzone else space
        vendor = self._vendor(org.store)
        ttl_seconds = self.config.sas.minutes(op.lifetime) * 60

        def mint() -> IssuedCredential:
            if not vendor.container_exists(target.container):
                if not (self.config.create_containers and roles.create_container):
                    raise problem(
                        "container-missing",
                        f"the container of space '{target.name}' of organization '{org.name}' does not exist"
                        + ("" if self.config.create_containers else "; this service does not create containers"),
                    )
                vendor.create_container(target.container)
            return vendor.container_sas(target.container, op.sas_permission, ttl_seconds)

        if self.cache is not None:
            credential, cached = self.cache.get_or_mint((org.store, target.container, op.sas_permission), mint)
        else:
            credential, cached = mint(), False
        return Sas(
            token=credential.credentials["sas_token"],
            credential=credential,
            cached=cached,
            organization=org,
            space=space,
            container=target.container,
            permission=op.sas_permission,
        )

    # -- commit ---------------------------------------------------------------------------------
    def commit(self, principal: Principal, organization: str, space_name: str, root_dir: str) -> Commit:
        """List the loadingzone's files under ``root_dir/`` and publish one commit event. Safe to retry:
        nothing changes in storage, and a retry publishes the same commit id."""
        org = self.organization(principal, organization)
        space = self.space(org, space_name)
        if not allowed(self.roles(principal), org, space, "WRITE"):
            raise forbidden(f"you do not hold WRITE on space '{space.name}' of organization '{org.name}'")
        zone = org.loadingzone
        vendor = self._vendor(org.store)
        prefix = root_dir + "/"
        if org.provider == "azure-blob":
            names = vendor.list_blob_names(zone.container, prefix, MAX_COMMIT_FILES)
            if names is None:
                raise problem("container-missing", f"the loadingzone of organization '{org.name}' does not exist")
        else:
            base = zone.container + "/"
            names = [k[len(base) :] for k in vendor.list_keys(principal, base + prefix, MAX_COMMIT_FILES)]
        if len(names) > MAX_COMMIT_FILES:
            raise problem(
                "commit-too-large",
                f"more than {MAX_COMMIT_FILES} files under '{root_dir}/': commit smaller directories",
            )
        files = sorted(names)
        digest = hashlib.sha256(json.dumps([org.name, space.name, root_dir, files]).encode()).hexdigest()
        commit_id = f"commit-{digest[:24]}"
        body = {
            "accountName": org.name,
            "storageName": space.name,
            "containerName": zone.container,
            "userName": principal.username or principal.subject,
            "rootDir": root_dir,
        }
        self.notifier.publish(CommitEvent(commit_id, body))
        return Commit(files=files, commit_id=commit_id, organization=org, space=space, root_dir=root_dir)

    # -- listing by permission (the organization manager's routes) -------------------------------
    def organizations(self, principal: Principal, permission: str | None) -> list[Organization]:
        roles = self.roles(principal)
        out = []
        for org in self.config.organizations.values():
            if not reaches(org, principal):
                continue
            if permission is None:
                if may_use_organization(roles, org):
                    out.append(org)
            elif listed_spaces(roles, org, permission):
                out.append(org)
        return sorted(out, key=lambda o: o.id)

    def spaces(self, principal: Principal, org: Organization, permission: str | None) -> list[Space]:
        roles = self.roles(principal)
        if not may_use_organization(roles, org):
            raise forbidden(f"you may not use organization '{org.name}'")
        return sorted(listed_spaces(roles, org, permission or "READ"), key=lambda s: (s.id or 0, s.name))

    def visible_organization(self, principal: Principal, name: str) -> Organization:
        org = self.organization(principal, name)
        if not may_use_organization(self.roles(principal), org):
            raise forbidden(f"you may not use organization '{org.name}'")
        return org


def organization_dto(org: Organization) -> dict[str, Any]:
    """An organization as the organization manager's clients read it (OrganizationReadDTO's fields
    that the directory knows)."""
    return {
        "id": org.id,
        "name": org.name,
        "displayName": org.name,
        "description": org.description,
        "confidentiality": org.confidentiality.upper(),
        "state": "OPEN",
        "owners": [],
        "tags": [],
    }


def space_dto(org: Organization, space: Space) -> dict[str, Any]:
    return {
        "id": space.id,
        "name": space.name,
        "displayName": space.name,
        "identifier": space.container,
        "description": space.description,
        "confidentiality": space.confidentiality.upper(),
        "organizationId": org.id,
        "state": "OPEN",
        "capabilities": ["STORAGE"],
        "owners": [],
        "tags": [],
    }


__all__ = ["AccessManager", "Commit", "Sas", "SAS_OPERATIONS", "MAX_COMMIT_FILES", "organization_dto", "space_dto"]
