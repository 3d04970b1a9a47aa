"""POST /api/v1/credentials for GCS: downscoped tokens, their lifetimes and their formats.

Google's token services are the simulator, in process (``make_service`` makes it the service's
transport): a vend is one source token (the OAuth endpoint with the key, or generateAccessToken when
impersonating) and one STS exchange carrying the grant's boundary.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.gcp.support import KEY_AUTH, PROJECT, SERVICE_ACCOUNT, SIGNER, make_service, store_block, vend


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _left(cred: dict) -> float:
    return (_at(cred["expires_at"]) - datetime.now(UTC)).total_seconds()


@pytest.fixture
def service(gcs, google):
    impersonating = store_block(gcs, {**KEY_AUTH, "impersonate": SIGNER}, ttl={"default": 900, "max": 3600})
    return make_service(google, {"gcs": store_block(gcs), "imp": impersonating})


def test_the_token_is_downscoped_from_a_token_of_the_keys_service_account(service, google):
    cred = vend(service, groups=("team-a",), path="team-a/", access="write")
    issued = google.tokens[cred["credentials"]["access_token"]]
    assert (issued.kind, issued.principal) == ("downscoped", SERVICE_ACCOUNT)
    assert [c["api"] for c in google.calls] == ["oauth2", "sts"]


def test_without_impersonation_the_token_lives_as_long_as_its_source_and_says_so(service, google):
    cred = vend(service, ttl_seconds=900)
    issued = google.tokens[cred["credentials"]["access_token"]]
    assert 3590 < _left(cred) <= 3600
    assert _at(cred["expires_at"]) <= datetime.fromtimestamp(issued.expiry, UTC)


def test_impersonation_mints_the_source_token_with_the_lifetime_asked_for(service, google):
    cred = vend(service, store="imp", ttl_seconds=900)
    minted = [c for c in google.calls if c["api"] == "generateAccessToken"]
    assert minted[0]["email"] == SIGNER and minted[0]["body"]["lifetime"] == "900s"
    assert 890 < _left(cred) <= 900


def test_an_impersonated_token_is_clamped_to_the_stores_maximum(service, google):
    cred = vend(service, store="imp", groups=("long",), path="users/alice/", access="read", ttl_seconds=7200)
    assert [c["body"]["lifetime"] for c in google.calls if c["api"] == "generateAccessToken"] == ["3600s"]
    assert _left(cred) <= 3600


def test_expires_at_never_claims_more_than_the_source_token_lives(service, google):
    google.omit_downscoped_expires_in = True  # STS may leave expires_in out: the source's expiry is the truth
    cred = vend(service, store="imp", ttl_seconds=600)
    assert 590 < _left(cred) <= 600


def test_a_longer_expires_in_from_sts_is_not_believed(gcs, monkeypatch):
    from tests.gcp.support import simulator

    google = simulator()
    service = make_service(google, {"gcs": store_block(gcs, {**KEY_AUTH, "impersonate": SIGNER})})
    real = google._downscope

    def generous(form):  # an STS answering a lifetime longer than the source token has
        answer = real(form)
        import json

        body = json.loads(answer.data)
        body["expires_in"] = 86_400
        answer.data = json.dumps(body).encode()
        return answer

    monkeypatch.setattr(google, "_downscope", generous)
    cred = vend(service, ttl_seconds=600)
    assert _left(cred) <= 600


def test_the_native_format_names_the_bucket_and_the_scope(service):
    cred = vend(service, groups=("team-a",), path="team-a/", access="write")
    assert cred["provider"] == "gcs" and cred["access"] == "write"
    assert cred["scope"] == {"bucket": "gcs-demo", "prefix": "team-a/"}
    assert cred["credential_id"].startswith("gcs-") and len(cred["credential_id"]) == 28
    c = cred["credentials"]
    assert (c["token_type"], c["bucket"], c["project"], c["expiration"]) == (
        "Bearer",
        "gcs-demo",
        PROJECT,
        cred["expires_at"],
    )


def test_storage_options_are_gcsfs_keyword_arguments(service, gcs):
    cred = vend(service)
    assert cred["storage_options"] == {
        "token": cred["credentials"]["access_token"],
        "project": PROJECT,
        "endpoint_url": gcs.url,
    }


def test_the_iceberg_format_carries_the_token_and_its_expiry_in_milliseconds(service, gcs):
    body = vend(service, groups=("team-a",), path="team-a/", access="read", format="iceberg")
    entry = body["storage-credentials"][0]
    assert entry["prefix"] == "gs://gcs-demo/team-a/"
    config = entry["config"]
    assert config["gcs.oauth2.token"].startswith("ya29.")
    assert int(config["gcs.oauth2.token-expires-at"]) == int(_at(body["expires_at"]).timestamp()) * 1000
    assert (config["gcs.project-id"], config["gcs.service.host"]) == (PROJECT, gcs.url)


def test_a_store_on_google_names_no_endpoint(google):
    service = make_service(google, {"gcs": store_block()})
    cred = vend(service)
    assert cred["credentials"]["endpoint_url"] is None and "endpoint_url" not in cred["storage_options"]


def test_console_and_credential_process_are_not_formats_of_gcs(service):
    problem = vend(service, format="credential_process", status=400)
    assert problem["type"].endswith("/bad-format") and "iceberg, native" in problem["detail"]


def test_list_on_one_object_is_refused(service):
    problem = vend(service, groups=("listers",), path="team-a/report.csv", access="list", status=400)
    assert problem["type"].endswith("/list-needs-prefix")


def test_a_path_outside_the_grant_is_refused_before_google_is_asked(service, google):
    vend(service, groups=("team-a",), path="team-ab/", access="read", status=403)
    assert google.calls == []


def test_identical_requests_share_one_token_through_the_credential_cache(gcs, google):
    service = make_service(google, {"gcs": store_block(gcs)}, cache=True)
    first, second = vend(service), vend(service)
    assert first["credential_id"] == second["credential_id"]
    assert [c["api"] for c in google.calls] == ["oauth2", "sts"]
