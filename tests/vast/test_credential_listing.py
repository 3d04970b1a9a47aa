"""GET /api/v1/credentials: a caller's live revocable credentials (never a secret); administrators list
another user's or everyone's; filtered by store and state; paginated by an opaque cursor."""

from __future__ import annotations

import pytest

from tests.support import TEST_ISSUER, call, token
from tests.vast.vastkit import STORE, revoke, vast_service, vend

BOB = f"{TEST_ISSUER}|bob"


@pytest.fixture
def service(idp, sim, certs, ledger_config):
    return vast_service(idp, sim, certs, ledger_config)


def listing(service, idp, sub="alice", groups=("demo-users",), **query):
    resp = call(
        service,
        "GET",
        "/api/v1/credentials",
        token=token(idp, sub, groups),
        query={k: str(v) for k, v in query.items()},
    )
    return resp


def ids(resp) -> set[str]:
    assert resp.status == 200, resp.json()
    return {c["credential_id"] for c in resp.json()["credentials"]}


@pytest.fixture
def vended(service, idp):
    alice = [vend(service, idp, "alice").json()["credential_id"] for _ in range(2)]
    bob = vend(service, idp, "bob").json()["credential_id"]
    return {"alice": set(alice), "bob": {bob}}


def test_a_caller_lists_their_own_live_keys_and_no_secret(service, idp, vended):
    resp = listing(service, idp)
    assert ids(resp) == vended["alice"]
    for item in resp.json()["credentials"]:
        assert item["state"] == "active" and item["store"] == STORE and item["access_key_id"]
        assert "secret_access_key" not in str(item) and set(item) >= {"issued_at", "expires_at", "scope"}


def test_a_revoked_key_leaves_the_list(service, idp, vended):
    gone = sorted(vended["alice"])[0]
    assert revoke(service, idp, gone).status == 204
    assert ids(listing(service, idp)) == vended["alice"] - {gone}


def test_an_administrator_lists_another_users_keys_or_everyones(service, idp, vended):
    admin = {"sub": "admin", "groups": ("demo-admins",)}
    assert ids(listing(service, idp, **admin, user=BOB)) == vended["bob"]
    assert ids(listing(service, idp, **admin, all="true")) == vended["alice"] | vended["bob"]
    assert (
        ids(listing(service, idp, **admin, all="true", state="active", store=STORE)) == vended["alice"] | vended["bob"]
    )
    assert ids(listing(service, idp, **admin, all="true", state="revoking")) == set()


@pytest.mark.parametrize("query", [{"user": BOB}, {"all": "true"}])
def test_anyone_else_asking_for_another_users_keys_is_403(service, idp, vended, query):
    resp = listing(service, idp, **query)
    assert resp.status == 403 and resp.json()["type"].endswith("/forbidden")


def test_pages_visit_each_key_once(service, idp, vended):
    seen, cursor = [], None
    while True:
        query = {"all": "true", "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = listing(service, idp, "admin", ("demo-admins",), **query).json()
        assert len(page["credentials"]) <= 1
        seen += [c["credential_id"] for c in page["credentials"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(vended["alice"] | vended["bob"])


@pytest.mark.parametrize(
    "query,slug",
    [
        ({"cursor": "bm90LWEtY3Vyc29y"}, "bad-cursor"),
        ({"cursor": "%%%"}, "bad-cursor"),
        ({"state": "revoked"}, "bad-type"),
        ({"limit": "0"}, "bad-type"),
        ({"limit": "201"}, "bad-type"),
        ({"all": "yes"}, "bad-type"),
        ({"colour": "blue"}, "unknown-field"),
    ],
)
def test_bad_query_parameters_are_400(service, idp, query, slug):
    resp = listing(service, idp, **query)
    assert resp.status == 400 and resp.json()["type"].endswith(f"/{slug}")


def test_an_unknown_store_is_404(service, idp):
    assert listing(service, idp, store="nope").status == 404


def test_a_service_without_revocable_stores_lists_nothing(idp):
    from tests.support import build_service, issuer_block

    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {
            "b": {
                "kind": "azure-blob",
                "container": "c",
                "account_url": "https://a.blob.core.windows.net",
                "auth": {"method": "managed-identity"},
            }
        },
    }
    resp = call(build_service(raw, idp), "GET", "/api/v1/credentials", token=token(idp))
    assert resp.status == 200 and resp.json() == {"credentials": [], "next": None}
