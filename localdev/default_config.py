"""The embedded default configuration of the local service (docs/api.md, Local service).

Stores point at emulators started by the local service itself; the development identity
provider is the only issuer. Each provider's issue adds its demo store to ``demo_stores``.
"""

from __future__ import annotations

from pathlib import Path

from shared.config import DEV_ISSUER

from .devidp import DEV_AUDIENCE

# moto server's account and the fake keys it runs with; the local service puts these in its own
# environment so the store can name them by reference like any deployment would.
DEMO_AWS_ROLE_ARN = "arn:aws:iam::123456789012:role/tvs-demo"
DEMO_AWS_EXTERNAL_ID = "tvs-local-demo"
DEMO_AWS_SECRETS = {"TVS_DEMO_AWS_ACCESS_KEY_ID": "testing", "TVS_DEMO_AWS_SECRET_ACCESS_KEY": "testing"}
DEMO_VMS_TOKEN_ENV = "TVS_DEMO_VMS_TOKEN"
DEMO_PAGE_CLIENT_ID = "tvs-page"  # any client id does for the development identity provider
# Development subjects -> the simulator's seeded local users; dev tokens may also carry a "uid" or
# "onprem_sid" claim naming one of its directory users (carol 50001, dave 50002, erin by SID). The
# simulator's built-in admin (user 1) is mapped to no one: the development identity provider hands
# out a token for any subject, "admin" included.
DEMO_VAST_USERS = {"alice": {"user_id": 1001}, "bob": {"user_id": 1002}}
# The demo-gcs store's service account; its key is made at the first run under the state directory.
DEMO_GCS_PROJECT = "tvs-local"
DEMO_GCS_SERVICE_ACCOUNT = f"tvs-demo@{DEMO_GCS_PROJECT}.iam.gserviceaccount.com"


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
    moto = emulators.get("moto")
    if moto is not None:
        stores["demo-s3"] = {
            "kind": "aws-s3",
            "description": "moto server, bucket 'demo' (AssumeRole sessions with a session policy)",
            "bucket": "demo",
            "region": "eu-west-3",
            "endpoint_url": moto.url,
            "sts_endpoint_url": moto.url,
            "path_style": True,
            "emulator": True,
            "auth": {
                "method": "assume-role",
                "role_arn": DEMO_AWS_ROLE_ARN,
                "external_id": DEMO_AWS_EXTERNAL_ID,
                "source": {
                    "access_key_id": {"env": "TVS_DEMO_AWS_ACCESS_KEY_ID"},
                    "secret_access_key": {"env": "TVS_DEMO_AWS_SECRET_ACCESS_KEY"},
                },
            },
            "ttl": {"default": 900, "max": 3600},
        }
    vms = emulators.get("vms")
    if vms is not None:
        stores["demo-vast"] = {
            "kind": "vast-s3",
            "description": "VMS simulator: per-user S3 keys, revocable, swept at expiry",
            "vms_url": vms.url,
            "s3_endpoint": "https://s3.demo-vast.invalid",  # the simulator speaks VMS only, not S3
            "ca_bundle": str(vms.ca),
            "auth": {"method": "api-token", "token": {"env": DEMO_VMS_TOKEN_ENV}},
            "key_access": "read",
            "mapping": {"users": DEMO_VAST_USERS, "claims": {"sid": "onprem_sid", "uid": "uid"}},
            "timeout_seconds": 5,
            "ttl": {"default": 900, "max": 3600},
        }
    gcs = emulators.get("gcs")
    if gcs is not None:
        stores["demo-gcs"] = {
            "kind": "gcs",
            "description": "fake-gcs-server, bucket 'demo' (V4 signed URLs and downscoped tokens, service-account key)",
            "bucket": "demo",
            "project": DEMO_GCS_PROJECT,
            "endpoint_url": gcs.url,
            "emulator": True,
            "google_apis_url": gcs.google_apis_url,  # the Google token-service simulator of the local service
            "auth": {"method": "service-account-key", "key": {"file": str(gcs.key_file)}},
            "ttl": {"default": 900, "max": 3600},
        }
    return stores


# The access-manager demo (docs/accessmanager.md): organization "demo" on Azurite's account.
DEMO_SPACES = {"loadingzone": "internal", "main": "private", "open": "public"}


def demo_accessmanager(stores: dict) -> dict | None:
    """Organization ``demo`` on the Azurite store, its spaces' containers created at start-up."""
    if "demo-azure" not in stores:
        return None
    return {
        "roles_from": "roles",
        "create_containers": False,
        "sas": {"expiration": {"read": 60, "write": 60, "delete": 60}, "cache": {"buffer": 2}},
        "notifier": {"kind": "log"},
        "organizations": {
            "demo": {
                "id": 1,
                "store": "demo-azure",
                "issuers": ["dev"],
                "confidentiality": "public",
                "description": "Azurite: spaces loadingzone (internal), main (private), open (public)",
                "spaces": {
                    name: {"id": i, "confidentiality": level}
                    for i, (name, level) in enumerate(DEMO_SPACES.items(), start=1)
                },
            }
        },
    }


def embedded_config(emulators: dict, issuer: str = DEV_ISSUER, state_dir: Path | None = None) -> dict:
    """The whole document; with a VMS simulator, a SQLite key ledger under ``state_dir``."""
    doc = {
        "description": "Embedded default of the local service: emulators and the development identity provider.",
        "issuers": [
            {
                "name": "dev",
                "issuer": issuer,
                "audiences": [DEV_AUDIENCE],
                "algorithms": ["ES256"],
                "jwks_uri": f"{issuer}/jwks",
                "dev": True,
                "claims_profile": "generic",
            }
        ],
        "stores": demo_stores(emulators),
        "grants": [
            {
                "name": "demo-admins",
                "match": {"issuers": ["dev"], "groups": ["demo-admins"]},
                "stores": ["*"],
                "access": "delete",
                "max_ttl_seconds": 3600,
            },
            {
                "name": "demo-users-read",
                "match": {"issuers": ["dev"], "groups": ["demo-users"]},
                "stores": ["*"],
                "access": "read",
                "max_ttl_seconds": 3600,
            },
            {
                "name": "demo-users-own-prefix",
                "match": {"issuers": ["dev"], "groups": ["demo-users"]},
                "stores": ["*"],
                "prefix": "users/{sub}/",
                "access": "write",
                "max_ttl_seconds": 3600,
            },
        ],
        "admin_groups": {"dev": ["demo-admins"]},
        # The self-service page signs in at the development identity provider (its /authorize form);
        # the endpoints come from its discovery document.
        "page": {"client_id": DEMO_PAGE_CLIENT_ID, "authority": issuer, "scopes": ["openid"]},
    }
    accessmanager = demo_accessmanager(doc["stores"])
    if accessmanager is not None:
        doc["accessmanager"] = accessmanager
    if "vms" in emulators:
        doc["ledger"] = {"backend": "sqlite", "path": str(Path(state_dir or ".local") / "vast-ledger.sqlite3")}
    return doc
