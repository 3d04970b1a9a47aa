"""What a caller gets when Google's token services refuse, throttle or fail: 503 with Retry-After (or 400
where the caller can ask differently), naming the API and Google's error code, never a token.

The simulator answers as the documented endpoints do (OAuth errors for the token endpoint and STS,
``{"error": {"code", "message", "status"}}`` for IAM Credentials); :meth:`fail` makes the next call fail.
"""

from __future__ import annotations

import json

import pytest

from tests.gcp.support import KEY_AUTH, SIGNER, make_service, sign, store_block, vend
from tests.support import call, token

OAUTH_REFUSAL = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
STS_REFUSAL = {"error": "invalid_grant", "error_description": "The subject token is invalid or has expired."}


def api_error(code: int, status: str) -> dict:
    return {"error": {"code": code, "message": "from the fake", "status": status}}


@pytest.fixture
def service(gcs, google):
    impersonating = store_block(gcs, {**KEY_AUTH, "impersonate": SIGNER})
    return make_service(google, {"gcs": store_block(gcs), "imp": impersonating})


def _problem(service, path="/api/v1/credentials", **body) -> tuple[int, dict, dict]:
    body.setdefault("store", "gcs")
    if path.endswith("credentials"):
        body.setdefault("access", "read")
    resp = call(service, "POST", path, token=token_for(), body=body)
    return resp.status, resp.json(), resp.headers


def token_for(groups=("readers",)):
    from tests.gcp.support import IDP

    return token(IDP, "alice", groups)


def test_sts_unavailable_is_503_upstream_unavailable_with_retry_after(service, google):
    google.fail("sts", 503, api_error(503, "UNAVAILABLE"))
    status, body, headers = _problem(service)
    assert (status, body["type"].rsplit("/", 1)[1], headers["Retry-After"]) == (503, "upstream-unavailable", "5")


def test_sts_throttling_is_503_upstream_throttled(service, google):
    google.fail("sts", 429, api_error(429, "RESOURCE_EXHAUSTED"))
    status, body, headers = _problem(service)
    assert (status, body["type"].rsplit("/", 1)[1], headers["Retry-After"]) == (503, "upstream-throttled", "5")


def test_sts_refusing_the_subject_token_is_503_upstream_refused_naming_the_code(service, google):
    google.fail("sts", 400, STS_REFUSAL)
    status, body, headers = _problem(service)
    assert (status, body["type"].rsplit("/", 1)[1], headers["Retry-After"]) == (503, "upstream-refused", "60")
    assert "STS" in body["detail"] and "invalid_grant" in body["detail"]


def test_the_oauth_endpoint_refusing_the_key_is_503_upstream_refused(service, google):
    google.fail("oauth2", 400, OAUTH_REFUSAL)
    status, body, _ = _problem(service)
    assert (status, body["type"].rsplit("/", 1)[1]) == (503, "upstream-refused")
    assert "OAuth token endpoint" in body["detail"]


def test_generate_access_token_denied_is_503_upstream_refused(service, google):
    google.fail("generateAccessToken", 403, api_error(403, "PERMISSION_DENIED"))
    status, body, _ = _problem(service, store="imp")
    assert (status, body["type"].rsplit("/", 1)[1]) == (503, "upstream-refused")
    assert "IAM Credentials" in body["detail"] and "PERMISSION_DENIED" in body["detail"]


def test_a_lifetime_google_refuses_is_400_bad_ttl_so_the_caller_can_ask_for_less(gcs, google):
    google.token_lifetime_max = 1800  # the service account's organization allows less than the store says
    service = make_service(google, {"imp": store_block(gcs, {**KEY_AUTH, "impersonate": SIGNER})})
    status, body, _ = _problem(service, store="imp", ttl_seconds=3600)
    assert (status, body["type"].rsplit("/", 1)[1]) == (400, "bad-ttl")
    assert _problem(service, store="imp", ttl_seconds=1800)[0] == 200


def test_sign_blob_throttled_is_503_upstream_throttled(service, google):
    google.fail("signBlob", 429, api_error(429, "RESOURCE_EXHAUSTED"))
    status, body, _ = _problem(service, "/api/v1/signed-urls", store="imp", object="seed.txt")
    assert (status, body["type"].rsplit("/", 1)[1]) == (503, "upstream-throttled")


def test_sign_blob_unavailable_is_503_upstream_unavailable(service, google):
    google.fail("signBlob", 503, api_error(503, "UNAVAILABLE"))
    status, body, _ = _problem(service, "/api/v1/signed-urls", store="imp", object="seed.txt")
    assert (status, body["type"].rsplit("/", 1)[1]) == (503, "upstream-unavailable")


def test_a_network_failure_is_503_upstream_unavailable(gcs, google):
    from google.auth import exceptions

    service = make_service(google, {"gcs": store_block(gcs)})

    def unreachable(url, method="GET", body=None, headers=None, timeout=None, **kw):
        raise exceptions.TransportError("connection refused")

    service.vendor("gcs").transport.use(unreachable)
    status, body, headers = _problem(service)
    assert (status, body["type"].rsplit("/", 1)[1], headers["Retry-After"]) == (503, "upstream-unavailable", "5")


def test_a_secret_that_is_not_a_service_account_key_is_503_store_misconfigured(gcs, google):
    service = make_service(google, {"gcs": store_block(gcs)}, environ={"GCS_KEY": json.dumps({"type": "user"})})
    status, body, _ = _problem(service)
    assert (status, body["type"].rsplit("/", 1)[1]) == (503, "store-misconfigured")


def test_a_missing_key_is_503_secret_missing(gcs, google):
    service = make_service(
        google, {"gcs": store_block(gcs, {"method": "service-account-key", "key": {"env": "NO_SUCH_KEY"}})}
    )
    status, body, _ = _problem(service)
    assert (status, body["type"].rsplit("/", 1)[1]) == (503, "secret-missing")


def test_no_failure_detail_carries_a_token_or_googles_message(service, google):
    google.fail("generateAccessToken", 403, api_error(403, "PERMISSION_DENIED"))
    _, body, _ = _problem(service, store="imp")
    assert "from the fake" not in body["detail"] and "ya29." not in json.dumps(body)


def test_a_refused_sign_blob_still_answers_a_later_request(service, google):
    google.fail("signBlob", 503, api_error(503, "UNAVAILABLE"))
    _problem(service, "/api/v1/signed-urls", store="imp", object="seed.txt")
    assert sign(service, groups=("readers",), store="imp", object="seed.txt")["url"]


def test_a_failed_vend_is_not_cached(gcs, google):
    service = make_service(google, {"gcs": store_block(gcs)}, cache=True)
    google.fail("sts", 503, api_error(503, "UNAVAILABLE"))
    assert _problem(service)[0] == 503
    assert vend(service)["credentials"]["access_token"]
