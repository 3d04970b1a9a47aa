"""What a caller sees when STS fails: a 4xx or a 503 with Retry-After, never a 500, never a secret.

STS failures are produced by a local endpoint that answers every call with one STS error
document (``fake_sts``), so botocore's real parsing and retries run.
"""

from __future__ import annotations

import logging

import pytest

from localdev.emulators import free_port
from tests.aws.fake_sts import FailingSts
from tests.aws.support import make_service, store_block
from tests.support import call, token

SECRET = "fake-secret-value-0123456789"
ENVIRON = {"FAKE_KEY_ID": "AKIAFAKEFAKEFAKE", "FAKE_SECRET": SECRET}
SOURCE = {"access_key_id": {"env": "FAKE_KEY_ID"}, "secret_access_key": {"env": "FAKE_SECRET"}}


def vend_against(moto, idp, sts_url: str, caplog):
    store = store_block(
        moto,
        {
            "method": "assume-role",
            "role_arn": "arn:aws:iam::123456789012:role/x",
            "external_id": "tvs-external-id",
            "source": SOURCE,
        },
        sts_endpoint_url=sts_url,
    )
    svc = make_service(moto, idp, {"s3": store}, environ=ENVIRON)
    jwt = token(idp, "alice", ["readers"])
    with caplog.at_level(logging.DEBUG):
        resp = call(svc, "POST", "/api/v1/credentials", token=jwt, body={"store": "s3", "access": "read"})
    assert SECRET not in caplog.text and jwt not in caplog.text
    assert SECRET not in resp.body.decode() and "refused by the fake STS" not in resp.body.decode()
    return resp


@pytest.mark.parametrize("code", ["Throttling", "RequestLimitExceeded"])
def test_throttling_becomes_503_with_retry_after_after_standard_retries(moto, idp, caplog, code):
    with FailingSts(code) as sts:
        resp = vend_against(moto, idp, sts.url, caplog)
        assert sts.requests == 3  # botocore "standard" mode: the call and two retries
    assert resp.status == 503
    assert resp.json()["type"].endswith("/upstream-throttled")
    assert int(resp.headers["Retry-After"]) > 0


def test_packed_policy_too_large_becomes_400_policy_too_large(moto, idp, caplog):
    with FailingSts("PackedPolicyTooLarge") as sts:
        resp = vend_against(moto, idp, sts.url, caplog)
    assert resp.status == 400
    assert resp.json()["type"].endswith("/policy-too-large")


def test_access_denied_becomes_503_upstream_refused_without_the_aws_message(moto, idp, caplog):
    with FailingSts("AccessDenied", status=403) as sts:
        resp = vend_against(moto, idp, sts.url, caplog)
    assert resp.status == 503
    assert resp.json()["type"].endswith("/upstream-refused")
    assert "AccessDenied" in resp.json()["detail"]


def test_role_maximum_below_the_store_maximum_is_explained(moto, idp, caplog):
    message = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    with FailingSts("ValidationError", message=message) as sts:
        resp = vend_against(moto, idp, sts.url, caplog)
    assert resp.status == 503
    assert "MaxSessionDuration" in resp.json()["detail"] and "ttl.max" in resp.json()["detail"]


def test_sts_server_error_becomes_503_upstream_unavailable(moto, idp, caplog):
    with FailingSts("InternalFailure", status=500) as sts:
        resp = vend_against(moto, idp, sts.url, caplog)
    assert resp.status == 503
    assert resp.json()["type"].endswith("/upstream-unavailable")


def test_unreachable_sts_becomes_503_upstream_unavailable(moto, idp, caplog):
    resp = vend_against(moto, idp, f"http://127.0.0.1:{free_port()}", caplog)
    assert resp.status == 503
    assert resp.json()["type"].endswith("/upstream-unavailable")
    assert "Retry-After" in resp.headers


def test_missing_source_secret_becomes_503_and_calls_no_sts(moto, idp):
    with FailingSts("AccessDenied") as sts:
        store = store_block(
            moto,
            {"method": "assume-role", "role_arn": "arn:aws:iam::123456789012:role/x", "source": SOURCE},
            sts_endpoint_url=sts.url,
        )
        svc = make_service(moto, idp, {"s3": store})  # FAKE_* are not set
        resp = call(
            svc,
            "POST",
            "/api/v1/credentials",
            token=token(idp, "alice", ["readers"]),
            body={"store": "s3", "access": "read"},
        )
        assert sts.requests == 0
    assert resp.status == 503
    assert resp.json()["type"].endswith("/secret-missing")


@pytest.mark.parametrize("chained", [None, True])
def test_default_credential_chain_that_fails_to_load_becomes_503_not_500(moto, idp, monkeypatch, chained):
    import os

    from shared.aws import sessions
    from shared.aws.clients import ClientFactory
    from tests.aws.support import ROLE_ARN

    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")  # botocore raises ProfileNotFound
    monkeypatch.setattr(sessions, "CLIENTS", ClientFactory())
    auth = {"method": "assume-role", "role_arn": ROLE_ARN, "source": "default"}
    if chained is not None:
        auth["source_credentials_are_role"] = chained
    svc = make_service(moto, idp, {"s3": store_block(moto, auth)})
    resp = call(
        svc,
        "POST",
        "/api/v1/credentials",
        token=token(idp, "alice", ["readers"]),
        body={"store": "s3", "access": "read"},
    )
    assert resp.status == 503, resp.json()
    assert resp.json()["type"].endswith("/upstream-refused")
    assert "Retry-After" in resp.headers
