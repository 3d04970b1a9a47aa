"""Helpers for the GCS tests: a service-account key, the Google simulator as the service's transport,
stores pointing at fake-gcs-server."""

from __future__ import annotations

import json

import requests

from localdev.devidp import DevIdentityProvider
from localdev.google_sim import GoogleSimulator, generate_service_account_key
from shared.secrets import SecretResolver
from tests.support import TEST_ISSUER, build_service, call, issuer_block, token

IDP = DevIdentityProvider(TEST_ISSUER)

PROJECT = "tvs-test"
BUCKET = "gcs-demo"
OTHER_BUCKET = "gcs-other"
SERVICE_ACCOUNT = f"tvs-vendor@{PROJECT}.iam.gserviceaccount.com"
SIGNER = f"tvs-signer@{PROJECT}.iam.gserviceaccount.com"  # a service account the store impersonates
PROVIDER = (
    "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/tvs-pool/providers/tvs-azure"
)
KEY = generate_service_account_key(SERVICE_ACCOUNT, PROJECT)
SECRETS = {"GCS_KEY": json.dumps(KEY)}
KEY_AUTH = {"method": "service-account-key", "key": {"env": "GCS_KEY"}}
SEEDED = ("seed.txt", "users/alice/seed.txt", "users/bob/seed.txt", "team-a/seed.txt", "team-ab/seed.txt")

GRANTS = [
    {"name": "listers", "match": {"groups": ["listers"]}, "stores": ["*"], "access": "list"},
    {"name": "readers", "match": {"groups": ["readers"]}, "stores": ["*"], "access": "read"},
    {"name": "writers", "match": {"groups": ["writers"]}, "stores": ["*"], "access": "write"},
    {"name": "deleters", "match": {"groups": ["deleters"]}, "stores": ["*"], "access": "delete"},
    {"name": "users", "match": {"groups": ["users"]}, "stores": ["*"], "prefix": "users/{sub}/", "access": "delete"},
    {"name": "team", "match": {"groups": ["team-a"]}, "stores": ["*"], "prefix": "team-a/", "access": "write"},
    {
        "name": "long",
        "match": {"groups": ["long"]},
        "stores": ["*"],
        "prefix": "users/{sub}/",
        "access": "delete",
        "max_ttl_seconds": 604_800,
    },
]


def simulator() -> GoogleSimulator:
    google = GoogleSimulator()
    google.trust_key(KEY)
    google.add_provider(PROVIDER)
    return google


def store_block(emulator=None, auth: dict | None = None, **over) -> dict:
    block: dict = {"kind": "gcs", "bucket": BUCKET, "project": PROJECT, "auth": auth or dict(KEY_AUTH)}
    if emulator is not None:
        block.update(endpoint_url=emulator.url, emulator=True)
    block.update(over)
    return block


def make_service(google, stores: dict, cache: bool = False, environ: dict | None = None, limits: dict | None = None):
    """A service whose GCS stores reach Google through ``google`` (in process: no network)."""
    raw = {
        "issuers": [issuer_block(IDP)],
        "stores": stores,
        "grants": GRANTS,
        "limits": {"credential_cache": {"enabled": cache}, **(limits or {})},
    }
    service = build_service(raw, IDP, secrets=SecretResolver({**SECRETS, **(environ or {})}))
    for store_id, store in service.config.stores.items():
        if store.kind == "gcs":
            service.vendor(store_id).transport.use(google.transport())
    return service


def vend(service, groups=("readers",), sub: str = "alice", status: int = 200, **body) -> dict:
    body.setdefault("store", "gcs")
    body.setdefault("access", "read")
    resp = call(service, "POST", "/api/v1/credentials", token=token(IDP, sub, groups), body=body)
    assert resp.status == status, resp.json()
    return resp.json()


def sign(service, groups=("users",), sub: str = "alice", status: int = 200, **body) -> dict:
    body.setdefault("store", "gcs")
    resp = call(service, "POST", "/api/v1/signed-urls", token=token(IDP, sub, groups), body=body)
    assert resp.status == status, resp.json()
    return resp.json()


def seed(emulator, bucket: str, name: str, data: bytes) -> None:
    """Write an object as the bucket's owner would (the JSON API's media upload)."""
    resp = requests.post(
        f"{emulator.url}/upload/storage/v1/b/{bucket}/o",
        params={"uploadType": "media", "name": name},
        data=data,
        timeout=10,
    )
    assert resp.status_code == 200, resp.text


def read(emulator, bucket: str, name: str) -> bytes | None:
    """An object's content as the bucket's owner sees it (None when there is no such object)."""
    from urllib.parse import quote

    resp = requests.get(
        f"{emulator.url}/storage/v1/b/{bucket}/o/{quote(name, safe='')}", params={"alt": "media"}, timeout=10
    )
    return resp.content if resp.status_code == 200 else None
