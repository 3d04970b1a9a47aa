"""POST /api/v1/signed-urls for GCS: V4 URLs for one object and one method, used against fake-gcs-server.

fake-gcs-server serves a URL without checking its signature, so that a URL is valid for its own
object, method, headers and expiry only is proven by checking the RSA signature with the service
account's public key over the canonical request rebuilt from Google's documented process
(``v4_checker``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from tests.gcp.support import BUCKET, KEY, SERVICE_ACCOUNT, SIGNER, make_service, read, seed, sign, store_block
from tests.gcp.v4_checker import expiry_of, signature_is_valid, signer_of

PUBLIC_KEY = serialization.load_pem_private_key(KEY["private_key"].encode(), password=None).public_key()
LONG = {"max_ttl_seconds": 604_800}


@pytest.fixture
def service(gcs, google):
    keyless = store_block(gcs, {"method": "service-account-key", "key": {"env": "GCS_KEY"}, "impersonate": SIGNER})
    return make_service(
        google,
        {
            "gcs": store_block(gcs, ttl={"default": 900, "max": 604_800}),
            "keyless": dict(keyless, ttl={"default": 900, "max": 604_800}),
        },
        limits=LONG,
    )


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_put_url_uploads_the_object_with_its_content_type(service, gcs):
    signed = sign(service, object="users/alice/upload.csv", method="PUT", content_type="text/csv")
    resp = requests.put(signed["url"], data=b"a,b\n", headers=signed["headers"], timeout=10)
    assert resp.status_code == 200
    stored = requests.get(f"{gcs.url}/storage/v1/b/{BUCKET}/o/users%2Falice%2Fupload.csv", timeout=10).json()
    assert (read(gcs, BUCKET, "users/alice/upload.csv"), stored["contentType"]) == (b"a,b\n", "text/csv")


def test_get_url_downloads_the_object(service):
    signed = sign(service, object="users/alice/seed.txt")
    assert requests.get(signed["url"], timeout=10).content == b"gcs-demo/users/alice/seed.txt"


def test_delete_url_deletes_the_object(service, gcs):
    seed(gcs, BUCKET, "users/alice/doomed.txt", b"x")
    signed = sign(service, object="users/alice/doomed.txt", method="DELETE")
    assert requests.delete(signed["url"], timeout=10).status_code in (200, 204)
    assert read(gcs, BUCKET, "users/alice/doomed.txt") is None


def test_url_signature_is_the_keys_for_its_own_method_and_object(service):
    signed = sign(service, object="users/alice/seed.txt")
    assert signer_of(signed["url"]) == SERVICE_ACCOUNT
    assert signature_is_valid(signed["url"], "GET", PUBLIC_KEY)
    assert not signature_is_valid(signed["url"], "DELETE", PUBLIC_KEY)
    assert not signature_is_valid(
        signed["url"].replace("users/alice/seed.txt", "users/bob/seed.txt"), "GET", PUBLIC_KEY
    )


def test_url_signature_fails_when_its_expiry_is_changed(service):
    signed = sign(service, object="users/alice/seed.txt", ttl_seconds=600)
    longer = signed["url"].replace("X-Goog-Expires=600", "X-Goog-Expires=604800")
    assert signature_is_valid(signed["url"], "GET", PUBLIC_KEY) and not signature_is_valid(longer, "GET", PUBLIC_KEY)


def test_put_url_signature_covers_the_content_type_and_the_create_only_precondition(service):
    signed = sign(service, object="users/alice/x.csv", method="PUT", content_type="text/csv")
    assert signed["headers"] == {"Content-Type": "text/csv", "x-goog-if-generation-match": "0"}
    assert signature_is_valid(signed["url"], "PUT", PUBLIC_KEY, signed["headers"])
    assert not signature_is_valid(signed["url"], "PUT", PUBLIC_KEY, {**signed["headers"], "Content-Type": "text/html"})
    assert not signature_is_valid(signed["url"], "PUT", PUBLIC_KEY, {"Content-Type": "text/csv"})


def test_put_url_without_a_content_type_does_not_let_the_client_choose_one(service):
    signed = sign(service, object="users/alice/y.bin", method="PUT")
    assert signed["headers"] == {"x-goog-if-generation-match": "0"}
    assert not signature_is_valid(signed["url"], "PUT", PUBLIC_KEY, {**signed["headers"], "Content-Type": "text/html"})


def test_expires_at_is_what_the_url_says(service):
    signed = sign(service, object="users/alice/seed.txt", ttl_seconds=600)
    expires_at = datetime.fromisoformat(signed["expires_at"].replace("Z", "+00:00"))
    assert expires_at == expiry_of(signed["url"])
    assert abs(expires_at - datetime.now(UTC) - timedelta(seconds=600)) < timedelta(seconds=5)


def test_a_key_signed_url_lives_up_to_seven_days(service):
    signed = sign(service, groups=("long",), object="users/alice/seed.txt", ttl_seconds=604_800)
    assert _query(signed["url"])["X-Goog-Expires"] == "604800"


def test_a_url_signed_through_sign_blob_lives_at_most_twelve_hours(service, google):
    signed = sign(service, groups=("long",), store="keyless", object="users/alice/seed.txt", ttl_seconds=604_800)
    assert _query(signed["url"])["X-Goog-Expires"] == "43200"
    assert expiry_of(signed["url"]) == datetime.fromisoformat(signed["expires_at"].replace("Z", "+00:00"))


def test_a_keyless_url_is_signed_by_sign_blob_as_the_impersonated_service_account(service, google):
    signed = sign(service, store="keyless", object="users/alice/seed.txt")
    assert signer_of(signed["url"]) == SIGNER
    assert signature_is_valid(signed["url"], "GET", google.public_key(SIGNER))
    assert [c["api"] for c in google.calls] == ["oauth2", "signBlob"]
    assert requests.get(signed["url"], timeout=10).content == b"gcs-demo/users/alice/seed.txt"


def test_each_url_has_its_own_credential_id(service):
    first = sign(service, object="users/alice/seed.txt", ttl_seconds=600)
    second = sign(service, object="users/alice/seed.txt", ttl_seconds=601)
    assert first["credential_id"].startswith("gcsurl-") and first["credential_id"] != second["credential_id"]


def test_url_for_an_object_outside_the_grant_is_refused(service):
    assert sign(service, object="users/bob/seed.txt", method="PUT", status=403)["status"] == 403


def test_method_beyond_the_granted_level_is_refused(service):
    sign(service, groups=("readers",), object="seed.txt", method="DELETE", status=403)
