"""Application default credentials (``auth.method: default``): the direct-binding case, where the
customer grants the service's own service account roles on the bucket. The credentials come from
the GCE metadata server or from the file ``GOOGLE_APPLICATION_CREDENTIALS`` names; both are faked
(the simulator answers as the metadata server; a key file in a temporary directory)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization

from tests.gcp.support import KEY, SERVICE_ACCOUNT, make_service, sign, store_block, vend
from tests.gcp.v4_checker import signature_is_valid, signer_of

INSTANCE_ACCOUNT = "tvs-instance@tvs-test.iam.gserviceaccount.com"


@pytest.fixture
def no_ambient_credentials(monkeypatch, tmp_path):
    """Nothing of this machine's own: no key file, no gcloud configuration, no metadata server."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.delenv("GCE_METADATA_HOST", raising=False)
    monkeypatch.delenv("GCE_METADATA_IP", raising=False)


def test_adc_from_a_key_file_vends_tokens_of_that_service_account(
    gcs, google, no_ambient_credentials, tmp_path, monkeypatch
):
    path = tmp_path / "key.json"
    path.write_text(json.dumps(KEY))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    cred = vend(make_service(google, {"gcs": store_block(gcs, {"method": "default"})}))
    assert google.tokens[cred["credentials"]["access_token"]].principal == SERVICE_ACCOUNT


def test_adc_from_a_key_file_signs_urls_with_the_key(gcs, google, no_ambient_credentials, tmp_path, monkeypatch):
    path = tmp_path / "key.json"
    path.write_text(json.dumps(KEY))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    signed = sign(make_service(google, {"gcs": store_block(gcs, {"method": "default"})}), object="users/alice/seed.txt")
    public = serialization.load_pem_private_key(KEY["private_key"].encode(), password=None).public_key()
    assert signature_is_valid(signed["url"], "GET", public) and "signBlob" not in [c["api"] for c in google.calls]


def test_adc_on_the_metadata_server_vends_tokens_of_the_instances_service_account(gcs, google, no_ambient_credentials):
    google.metadata_email = INSTANCE_ACCOUNT
    cred = vend(make_service(google, {"gcs": store_block(gcs, {"method": "default"})}))
    assert google.tokens[cred["credentials"]["access_token"]].principal == INSTANCE_ACCOUNT


def test_adc_on_the_metadata_server_signs_urls_through_sign_blob_as_the_instance(gcs, google, no_ambient_credentials):
    google.metadata_email = INSTANCE_ACCOUNT
    signed = sign(make_service(google, {"gcs": store_block(gcs, {"method": "default"})}), object="users/alice/seed.txt")
    assert signer_of(signed["url"]) == INSTANCE_ACCOUNT
    assert signature_is_valid(signed["url"], "GET", google.public_key(INSTANCE_ACCOUNT))


def test_no_application_default_credentials_is_503_upstream_refused(gcs, google, no_ambient_credentials):
    problem = vend(make_service(google, {"gcs": store_block(gcs, {"method": "default"})}), status=503)
    assert problem["type"].endswith("/upstream-refused") and "no Google credentials" in problem["detail"]


def test_a_url_signed_with_an_adc_key_file_may_live_seven_days(
    gcs, google, no_ambient_credentials, tmp_path, monkeypatch
):
    path = tmp_path / "key.json"
    path.write_text(json.dumps(KEY))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    store = store_block(gcs, {"method": "default"}, ttl={"default": 900, "max": 604_800})
    service = make_service(google, {"gcs": store}, limits={"max_ttl_seconds": 604_800})
    signed = sign(service, groups=("long",), object="users/alice/seed.txt", ttl_seconds=604_800)
    assert "X-Goog-Expires=604800&" in signed["url"]


def test_a_url_signed_through_sign_blob_as_the_instance_lives_at_most_twelve_hours(gcs, google, no_ambient_credentials):
    google.metadata_email = INSTANCE_ACCOUNT
    store = store_block(gcs, {"method": "default"}, ttl={"default": 900, "max": 604_800})
    service = make_service(google, {"gcs": store}, limits={"max_ttl_seconds": 604_800})
    signed = sign(service, groups=("long",), object="users/alice/seed.txt", ttl_seconds=604_800)
    assert "X-Goog-Expires=43200&" in signed["url"]
