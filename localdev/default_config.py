"""The embedded default configuration of the local service (API.md "Local service").

Stores point at emulators started by the local service itself; the development identity
provider is the only issuer. Each provider's issue adds its demo store to ``demo_stores``.
"""
from __future__ import annotations

from shared.config import DEV_ISSUER

from .devidp import DEV_AUDIENCE


def demo_stores(emulators: dict) -> dict:
    """Store blocks for the emulators that are running (``emulators`` maps a name to its handle)."""
    stores = {}
    azurite = emulators.get("azurite")
    if azurite is not None:
        stores["demo-azure"] = {
            "kind": "azure-blob",
            "description": "Azurite, container 'demo' (user-delegation SAS)",
            "account_url": azurite.blob_url,
            "container": "demo",
            "emulator": True,
            "ca_bundle": str(azurite.ca),
            "auth": {"method": "emulator-token"},
            "ttl": {"default": 900, "max": 3600},
        }
    return stores


def embedded_config(emulators: dict, issuer: str = DEV_ISSUER) -> dict:
    return {
        "description": "Embedded default of the local service: emulators and the development identity provider.",
        "issuers": [{"name": "dev", "issuer": issuer, "audiences": [DEV_AUDIENCE], "algorithms": ["ES256"],
                     "jwks_uri": f"{issuer}/jwks", "dev": True, "claims_profile": "generic"}],
        "stores": demo_stores(emulators),
        "grants": [
            {"name": "demo-admins", "match": {"groups": ["demo-admins"]}, "stores": ["*"], "access": "delete",
             "max_ttl_seconds": 3600},
            {"name": "demo-users-read", "match": {"groups": ["demo-users"]}, "stores": ["*"], "access": "read",
             "max_ttl_seconds": 3600},
            {"name": "demo-users-own-prefix", "match": {"groups": ["demo-users"]}, "stores": ["*"],
             "prefix": "users/{sub}/", "access": "write", "max_ttl_seconds": 3600},
        ],
        "admin_groups": ["demo-admins"],
    }
