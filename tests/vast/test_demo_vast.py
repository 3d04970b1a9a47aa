"""The embedded default's demo-vast store: valid, ledgered in SQLite under the state directory, and working."""

from __future__ import annotations

from types import SimpleNamespace

from localdev.default_config import DEMO_VMS_TOKEN_ENV, embedded_config
from shared.secrets import SecretResolver
from tests.support import build_service, call, token
from tests.vast.conftest import SIM_TOKEN


def demo_service(idp, vms, certs, tmp_path):
    handle = SimpleNamespace(url=vms.url, ca=certs[0])
    raw = embedded_config({"vms": handle}, idp.issuer, state_dir=tmp_path)
    assert raw["ledger"] == {"backend": "sqlite", "path": str(tmp_path / "vast-ledger.sqlite3")}
    return build_service(raw, idp, secrets=SecretResolver({DEMO_VMS_TOKEN_ENV: SIM_TOKEN}))


def test_demo_users_get_a_key_for_their_mapped_simulator_user(idp, sim, certs, tmp_path):
    service = demo_service(idp, sim, certs, tmp_path)
    resp = call(
        service,
        "POST",
        "/api/v1/credentials",
        token=token(idp, "bob", ["demo-users"]),
        body={"store": "demo-vast", "access": "read"},
    )
    assert resp.status == 200
    assert [k["access_key"] for k in sim.keys_of_local_user(1002)] == [resp.json()["credentials"]["access_key_id"]]


def test_a_demo_token_with_a_uid_claim_maps_to_a_directory_user(idp, sim, certs, tmp_path):
    service = demo_service(idp, sim, certs, tmp_path)
    resp = call(
        service,
        "POST",
        "/api/v1/credentials",
        token=token(idp, "dave@corp", ["demo-users"], uid=50002),
        body={"store": "demo-vast", "access": "read"},
    )
    assert resp.status == 200 and len(sim.keys_of_non_local(uid=50002)) == 1


def test_demo_stores_list_demo_vast_to_demo_users(idp, sim, certs, tmp_path):
    service = demo_service(idp, sim, certs, tmp_path)
    stores = call(service, "GET", "/api/v1/stores", token=token(idp, "alice", ["demo-users"])).json()["stores"]
    assert "demo-vast" in [s["store"] for s in stores]
