"""Helpers of the VAST tests: a settable clock, a service on a simulator and a ledger, vending by HTTP."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from shared.ledger import REVOKED
from shared.secrets import SecretResolver
from tests.support import build_service, call, issuer_block, token
from tests.vast.conftest import SIM_PASSWORD

STORE = "vast"
# Subjects mapped to simulator users: alice, bob, admin are seeded; u1..u10 are added by tests that need more.
USERS = {"alice": {"user_id": 1001}, "bob": {"user_id": 1002}, "admin": {"user_id": 1, "privileged": True}}
USERS.update({f"u{i}": {"user_id": 2000 + i} for i in range(1, 11)})


class Clock:
    """The service's clock: starts at the real time (VMS stamps keys with it), moves when told."""

    def __init__(self):
        self.now = datetime.now(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)


def vast_config(idp, sim, ca, ledger: dict, **store_over) -> dict:
    store = {
        "kind": "vast-s3",
        "description": "VMS simulator",
        "vms_url": sim.url,
        "s3_endpoint": "https://s3.vast.test",
        "ca_bundle": str(ca),
        "auth": {"method": "basic", "username": "admin", "password": {"env": "VMS_PASSWORD"}},
        "timeout_seconds": 1,
        "retries": 1,
        "key_access": "read",
        "pending_grace_seconds": 120,
        "mapping": {"users": USERS, "claims": {"sid": "onprem_sid", "uid": "uid_number"}},
        "sweep": {"backoff_base_seconds": 30, "backoff_max_seconds": 600},
        "ttl": {"default": 900, "max": 3600},
    }
    store.update(store_over)
    return {
        "issuers": [issuer_block(idp)],
        "stores": {STORE: store},
        "grants": [
            {"name": "users", "match": {"groups": ["demo-users"]}, "stores": ["*"], "access": "read"},
            {"name": "admins", "match": {"groups": ["demo-admins"]}, "stores": ["*"], "access": "delete"},
        ],
        "admin_groups": ["demo-admins"],
        "ledger": ledger,
    }


def vast_service(idp, sim, certs, ledger_config, clock=None, **store_over):
    options, env = ledger_config
    raw = vast_config(idp, sim, certs[0], options, **store_over)
    return build_service(
        raw, idp, secrets=SecretResolver({"VMS_PASSWORD": SIM_PASSWORD, **env}), clock=clock or Clock()
    )


def vend(service, idp, sub="alice", groups=("demo-users",), **body):
    body = {"store": STORE, "access": "read", **body}
    return call(service, "POST", "/api/v1/credentials", token=token(idp, sub, groups), body=body)


def revoke(service, idp, credential_id, sub="alice", groups=("demo-users",)):
    return call(service, "DELETE", f"/api/v1/credentials/{credential_id}", token=token(idp, sub, groups))


def ledger_of(service):
    return service.vendor(STORE).lifecycle().ledger


def live_keys(sim) -> set[str]:
    return {k["access_key"] for k in sim.all_keys()}


def add_users(sim, n: int = 10) -> None:
    for i in range(1, n + 1):
        sim.add_local_user(2000 + i, f"u{i}")


def all_revoked(service, ids) -> bool:
    ledger = ledger_of(service)
    return all(ledger.get(cid).state == REVOKED for cid in ids)
