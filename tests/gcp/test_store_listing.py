"""GET /api/v1/stores for GCS stores: what each grant can produce there, as the vendor decides."""

from __future__ import annotations

from tests.gcp.support import IDP, make_service, store_block
from tests.support import call, token


def produces(service, groups) -> dict[tuple[str, str], list[str]]:
    stores = call(service, "GET", "/api/v1/stores", token=token(IDP, "alice", list(groups))).json()["stores"]
    return {(g["prefix"], g["access"]): g["produces"] for g in stores[0]["grants"]}


def test_a_key_store_offers_prefix_credentials_and_signed_urls(gcs, google):
    service = make_service(google, {"gcs": store_block(gcs)})
    assert produces(service, ["team-a"]) == {("team-a/", "write"): ["credential", "signed-url"]}


def test_list_access_offers_credentials_only(gcs, google):
    service = make_service(google, {"gcs": store_block(gcs)})
    assert produces(service, ["listers"]) == {("", "list"): ["credential"]}


def test_gcs_stores_are_listed_with_their_kind(gcs, google):
    service = make_service(google, {"gcs": store_block(gcs)})
    stores = call(service, "GET", "/api/v1/stores", token=token(IDP, "alice", ["readers"])).json()["stores"]
    assert [(s["store"], s["kind"]) for s in stores] == [("gcs", "gcs")]
