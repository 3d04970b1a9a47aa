"""Helpers for the access-manager tests: organization ``demo`` on Azurite, callers by their roles."""

from __future__ import annotations

from azure.storage.blob import ContainerClient

from shared.secrets import SecretResolver
from tests.support import build_service, call, issuer_block

SPACES = {"loadingzone": "internal", "main": "private", "open": "public"}
METHODS = ["user-delegation", "account-key"]


def azure_store(azurite, method: str) -> dict:
    block = {
        "kind": "azure-blob",
        "container": "demo",
        "emulator": True,
        "ca_bundle": str(azurite.ca),
        "ttl": {"default": 600, "max": 3600},
    }
    if method == "user-delegation":
        block.update(account_url=azurite.blob_url, auth={"method": "emulator-token"})
    else:
        block.update(auth={"method": "account-key", "connection_string": {"env": "AZURITE_CONNECTION_STRING"}})
    return block


def demo_organization(**over) -> dict:
    org = {
        "id": 1,
        "store": "am-azure",
        "confidentiality": "public",
        "spaces": {name: {"id": i, "confidentiality": c} for i, (name, c) in enumerate(SPACES.items(), start=1)},
    }
    org.update(over)
    return org


def am_config(azurite, idp, method: str = "user-delegation", organizations: dict | None = None, **section) -> dict:
    return {
        "issuers": [issuer_block(idp)],
        "stores": {"am-azure": azure_store(azurite, method)},
        "accessmanager": {
            "organizations": organizations or {"demo": demo_organization()},
            **section,
        },
    }


def am_service(azurite, idp, method: str = "user-delegation", **kw):
    config = kw.pop("config", None) or am_config(azurite, idp, method)
    secrets = SecretResolver({"AZURITE_CONNECTION_STRING": azurite.connection_string})
    return build_service(config, idp, secrets=secrets, **kw)


def roles_token(idp, *roles: str, sub: str = "alice", **claims) -> str:
    return idp.mint(sub, [], {"preferred_username": sub, **claims}, roles=list(roles))["access_token"]


def am_call(service, route: str, tok: str, **query):
    return call(service, "POST", f"/api/v2.0/accessmanager/{route}", token=tok, query=query)


def sas_container(azurite, container: str, sas: str) -> ContainerClient:
    return ContainerClient.from_container_url(
        f"{azurite.blob_url}/{container}?{sas}", connection_verify=str(azurite.ca)
    )


def admin_container(azurite, container: str) -> ContainerClient:
    """The test's own view of a container (the account key), not the service's."""
    return ContainerClient.from_connection_string(
        azurite.connection_string, container, connection_verify=str(azurite.ca)
    )
