"""POST /api/v1/signed-urls for S3: one object, one method, used with plain HTTP against moto.

moto server does not check the signature of a presigned URL (a URL edited to name another object
is still served), so that a URL is valid for its own object and method only is proven by
recomputing its SigV4 signature with the secret it was signed with (``sigv4_checker``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from shared.aws import sts
from shared.aws.policy import session_policy
from tests.aws.sigv4_checker import signature_is_valid
from tests.aws.support import BUCKET, KEY_REFS, REGION, admin_client, make_service, store_block
from tests.support import call, token


@pytest.fixture(scope="module")
def service(moto, idp):
    presign_only = store_block(moto, {"method": "presign-only", **KEY_REFS})
    return make_service(moto, idp, {"s3": store_block(moto), "hmac": presign_only})


def sign(service, idp, groups=("users",), status=200, **body):
    body.setdefault("store", "s3")
    resp = call(service, "POST", "/api/v1/signed-urls", token=token(idp, "alice", groups), body=body)
    assert resp.status == status, resp.json()
    return resp.json()


def test_get_url_downloads_the_object(service, idp):
    signed = sign(service, idp, object="users/alice/seed.txt")
    assert requests.get(signed["url"], timeout=10).content == b"aws-demo/users/alice/seed.txt"


def test_put_url_uploads_with_the_headers_it_names(service, idp, moto):
    signed = sign(service, idp, object="users/alice/upload.csv", method="PUT", content_type="text/csv")
    assert signed["headers"] == {"Content-Type": "text/csv"}
    assert requests.put(signed["url"], data=b"a,b\n", headers=signed["headers"], timeout=10).status_code == 200
    stored = admin_client(moto).get_object(Bucket=BUCKET, Key="users/alice/upload.csv")
    assert (stored["Body"].read(), stored["ContentType"]) == (b"a,b\n", "text/csv")


def test_delete_url_deletes_the_object(service, idp, moto):
    admin_client(moto).put_object(Bucket=BUCKET, Key="users/alice/doomed.txt", Body=b"x")
    signed = sign(service, idp, object="users/alice/doomed.txt", method="DELETE")
    assert requests.delete(signed["url"], timeout=10).status_code == 204
    listed = admin_client(moto).list_objects_v2(Bucket=BUCKET, Prefix="users/alice/doomed.txt")
    assert listed["KeyCount"] == 0


def test_url_is_signed_for_its_object_and_method_only(service, idp, session_secrets):
    signed = sign(service, idp, object="users/alice/seed.txt")
    secret = session_secrets[signed["credential_id"]]
    assert signature_is_valid(signed["url"], "GET", secret)
    assert not signature_is_valid(signed["url"].replace("users/alice/seed.txt", "users/bob/seed.txt"), "GET", secret)
    assert not signature_is_valid(signed["url"], "DELETE", secret)


def test_put_url_signature_covers_the_content_type(service, idp, session_secrets):
    signed = sign(service, idp, object="users/alice/x.csv", method="PUT", content_type="text/csv")
    secret = session_secrets[signed["credential_id"]]
    assert signature_is_valid(signed["url"], "PUT", secret, signed["headers"])
    assert not signature_is_valid(signed["url"], "PUT", secret, {"Content-Type": "text/html"})


def test_url_is_signed_by_a_session_limited_to_that_object_and_method(service, idp, sent_to_sts):
    sign(service, idp, object="users/alice/seed.txt", method="GET")
    assert sent_to_sts[-1]["Policy"] == session_policy(BUCKET, "users/alice/seed.txt", "read", region=REGION).text


def test_url_lifetime_is_the_requested_ttl_even_below_the_sessions_minimum(service, idp, sent_to_sts):
    signed = sign(service, idp, object="users/alice/seed.txt", ttl_seconds=120)
    assert parse_qs(urlsplit(signed["url"]).query)["X-Amz-Expires"] == ["120"]
    assert sent_to_sts[-1]["DurationSeconds"] == 900
    expires = datetime.fromisoformat(signed["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - (datetime.now(UTC) + timedelta(seconds=120))) < timedelta(seconds=5)


def test_url_for_an_object_outside_the_grant_is_refused(service, idp):
    problem = sign(service, idp, object="users/bob/seed.txt", method="PUT", status=403)
    assert problem["status"] == 403


def test_method_beyond_the_granted_level_is_refused(service, idp):
    sign(service, idp, groups=("readers",), object="seed.txt", method="DELETE", status=403)


def test_presign_only_store_signs_with_its_hmac_keys_and_calls_no_sts(service, idp):
    before = sts.CALLS.total()
    signed = sign(service, idp, store="hmac", object="users/alice/seed.txt")
    assert sts.CALLS.total() == before
    assert parse_qs(urlsplit(signed["url"]).query)["X-Amz-Credential"][0].startswith("testing/")
    assert signature_is_valid(signed["url"], "GET", "testing")
    assert requests.get(signed["url"], timeout=10).content == b"aws-demo/users/alice/seed.txt"


def test_presign_only_store_refuses_credentials_and_points_to_signed_urls(service, idp):
    resp = call(
        service,
        "POST",
        "/api/v1/credentials",
        token=token(idp, "alice", ["users"]),
        body={"store": "hmac", "path": "users/alice/", "access": "read"},
    )
    assert resp.status == 400
    assert resp.json()["type"].endswith("/credentials-unsupported")
    assert "/api/v1/signed-urls" in resp.json()["detail"]


def test_url_never_outlives_the_session_that_signed_it_when_sts_answers_slowly(moto, idp):
    import time

    from shared.aws.clients import CLIENTS, Keys

    svc = make_service(moto, idp, {"s3": store_block(moto, ttl={"default": 900, "max": 900})})
    client = CLIENTS.client("sts", REGION, moto.url, Keys("testing", "testing"))
    expirations: list[datetime] = []

    def seen_then_slow(parsed, **kw):  # the answer reaches the service 2 s after STS set the expiry
        expirations.append(parsed["Credentials"]["Expiration"])
        time.sleep(2)

    client.meta.events.register("after-call.sts.AssumeRole", seen_then_slow)
    try:
        signed = sign(svc, idp, object="users/alice/seed.txt", ttl_seconds=900)
    finally:
        client.meta.events.unregister("after-call.sts.AssumeRole", seen_then_slow)
    query = parse_qs(urlsplit(signed["url"]).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    url_end = signed_at + timedelta(seconds=int(query["X-Amz-Expires"][0]))
    assert url_end <= expirations[-1]
    assert datetime.fromisoformat(signed["expires_at"].replace("Z", "+00:00")) <= expirations[-1]


def _client_builds(monkeypatch, hold_region: str | None = None):
    """Records each botocore client the process builds; a build for ``hold_region`` waits until released."""
    import threading

    from shared.aws.clients import CLIENTS

    session = CLIENTS._botocore_session()
    real = session.create_client
    built: list[str] = []
    building, release = threading.Event(), threading.Event()

    def create_client(service_name, *args, **kwargs):
        built.append(service_name)
        if kwargs.get("region_name") == hold_region:
            building.set()
            release.wait(10)
        return real(service_name, *args, **kwargs)

    monkeypatch.setattr(session, "create_client", create_client)
    return built, building, release


def test_urls_signed_by_new_sessions_build_no_client_each(service, idp, monkeypatch):
    sign(service, idp, object="users/alice/seed.txt")  # whatever a first URL of this store needs is built
    built, _, _ = _client_builds(monkeypatch)
    ids = {sign(service, idp, object="users/alice/seed.txt")["credential_id"] for _ in range(3)}
    assert len(ids) == 3  # three sessions...
    assert built == []  # ...and not one client built (~5 ms each, and it was done under the process-wide lock)


def test_a_signed_url_does_not_wait_for_a_client_being_built(service, idp, monkeypatch):
    import threading

    from shared.aws.clients import CLIENTS, Keys

    sign(service, idp, object="users/alice/seed.txt")
    _, building, release = _client_builds(monkeypatch, hold_region="ap-slow-1")
    builder = threading.Thread(
        target=CLIENTS.client, args=("sts", "ap-slow-1"), kwargs={"keys": Keys("AKIAEXAMPLE", "secret")}
    )
    builder.start()
    try:
        assert building.wait(5)
        done: list[dict] = []
        signer = threading.Thread(target=lambda: done.append(sign(service, idp, object="users/alice/seed.txt")))
        signer.start()
        signer.join(5)
        assert done, "signing a URL waited for another client being built"
    finally:
        release.set()
        builder.join(10)
