"""AssumeRole sessions vended through POST /api/v1/credentials and used with boto3 against moto.

moto checks that a session exists but not what its session policy allows: these tests prove each
credential works inside its scope and that STS received exactly the generated policy; the
refusals outside the scope are proven by ``test_session_policy.py``.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime

import pytest

from shared.aws import sessions
from shared.aws.clients import ClientFactory
from shared.aws.policy import session_policy
from shared.secrets import SecretResolver
from tests.aws.support import (
    BUCKET,
    GRANTS,
    KEY_REFS,
    REGION,
    ROLE_ARN,
    SECRETS,
    caller_arn,
    make_service,
    session_client,
    store_block,
    vend,
)
from tests.support import build_service, issuer_block


@pytest.fixture(scope="module")
def service(moto, idp):
    return make_service(moto, idp)


def lifetime(body: dict) -> float:
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(body["expires_at"]) - parse(body["issued_at"])).total_seconds()


def test_list_credential_lists_its_prefix(service, idp, moto):
    body = vend(service, idp, ("listers",), path="team-a/", access="list")
    s3 = session_client(moto, body["credentials"])
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="team-a/")["Contents"]] == ["team-a/seed.txt"]


def test_read_credential_reads_objects_under_its_prefix(service, idp, moto):
    body = vend(service, idp, ("readers",), path="team-a/", access="read")
    s3 = session_client(moto, body["credentials"])
    assert s3.get_object(Bucket=BUCKET, Key="team-a/seed.txt")["Body"].read() == b"aws-demo/team-a/seed.txt"


def test_write_credential_uploads_in_one_part_and_in_several(service, idp, moto):
    body = vend(service, idp, ("users",), path="users/alice/", access="write")
    s3 = session_client(moto, body["credentials"])
    s3.put_object(Bucket=BUCKET, Key="users/alice/small.txt", Body=b"small")
    key = f"users/alice/big-{uuid.uuid4().hex}.bin"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    parts = [
        {
            "PartNumber": n,
            "ETag": s3.upload_part(
                Bucket=BUCKET,
                Key=key,
                UploadId=upload,
                PartNumber=n,
                Body=bytes([n]) * (5 * 1024 * 1024 if n == 1 else 10),
            )["ETag"],
        }
        for n in (1, 2)
    ]
    assert len(s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload)["Parts"]) == 2
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == 5 * 1024 * 1024 + 10


def test_write_credential_aborts_a_multipart_upload(service, idp, moto):
    body = vend(service, idp, ("users",), path="users/alice/", access="write")
    s3 = session_client(moto, body["credentials"])
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="users/alice/aborted.bin")["UploadId"]
    s3.abort_multipart_upload(Bucket=BUCKET, Key="users/alice/aborted.bin", UploadId=upload)
    assert s3.list_multipart_uploads(Bucket=BUCKET, Prefix="users/alice/").get("Uploads", []) == []


def test_delete_credential_deletes_an_object_under_its_prefix(service, idp, moto):
    body = vend(service, idp, ("users",), path="users/alice/", access="delete")
    s3 = session_client(moto, body["credentials"])
    s3.put_object(Bucket=BUCKET, Key="users/alice/doomed.txt", Body=b"x")
    s3.delete_object(Bucket=BUCKET, Key="users/alice/doomed.txt")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="users/alice/")["Contents"]]
    assert "users/alice/doomed.txt" not in keys


def test_sts_receives_exactly_the_generated_session_policy(service, idp, sent_to_sts):
    vend(service, idp, ("users",), path="users/alice/", access="write")
    assert sent_to_sts[-1]["Policy"] == session_policy(BUCKET, "users/alice/", "write", region=REGION).text


def test_response_describes_the_scope_and_how_to_reach_the_bucket(service, idp, moto):
    body = vend(service, idp, ("users",), path="users/alice/", access="read")
    assert body["provider"] == "aws-s3"
    assert body["scope"] == {"bucket": BUCKET, "prefix": "users/alice/"}
    assert body["credential_id"] == body["credentials"]["access_key_id"]
    assert {k: body["credentials"][k] for k in ("region", "endpoint_url", "bucket", "path_style")} == {
        "region": REGION,
        "endpoint_url": moto.url,
        "bucket": BUCKET,
        "path_style": True,
    }


def test_expiry_is_the_one_sts_returned(service, idp, moto):
    body = vend(service, idp, ("readers",), access="read", ttl_seconds=1200)
    assert body["expires_at"] == body["credentials"]["expiration"]
    assert 1190 <= lifetime(body) <= 1210


def test_external_id_comes_from_the_configuration(service, idp, sent_to_sts):
    vend(service, idp, ("readers",), access="read")
    assert sent_to_sts[-1]["ExternalId"] == "tvs-external-id"


def test_a_request_cannot_supply_an_external_id(service, idp):
    problem = vend(service, idp, ("readers",), access="read", external_id="attacker", status=400)
    assert problem["type"].endswith("/unknown-field")


def test_session_name_and_source_identity_name_the_principal(service, idp, sent_to_sts):
    vend(service, idp, ("readers",), sub="alice", access="read")
    params = sent_to_sts[-1]
    assert params["RoleSessionName"].startswith("alice-")
    assert params["SourceIdentity"] == params["RoleSessionName"]


def test_session_name_is_deterministic_per_principal_and_distinct_between_principals(service, idp, sent_to_sts):
    for sub in ("alice", "alice", "bob"):
        vend(service, idp, ("readers",), sub=sub, access="read")
    names = [p["RoleSessionName"] for p in sent_to_sts]
    assert names[0] == names[1] != names[2]


def test_subject_that_needs_sanitizing_gets_a_valid_session_name(service, idp, sent_to_sts, moto):
    sub = "Zoë Ångström <zoe@example.org> / " + "very-long-" * 10 + "€"
    body = vend(service, idp, ("readers",), sub=sub, access="read")
    name = sent_to_sts[-1]["RoleSessionName"]
    assert 2 <= len(name) <= 64
    assert all(c.isascii() and (c.isalnum() or c in "_+=,.@-") for c in name)
    assert name.startswith("Zoe-Angstrom-zoe@example.org-very-long-")
    assert caller_arn(moto, body["credentials"]) == f"arn:aws:sts::123456789012:assumed-role/tvs-vending/{name}"


def test_requested_ttl_below_sts_minimum_is_raised_to_900_seconds(service, idp, sent_to_sts):
    body = vend(service, idp, ("readers",), access="read", ttl_seconds=60)
    assert sent_to_sts[-1]["DurationSeconds"] == 900
    assert 890 <= lifetime(body) <= 910


def test_ttl_of_99999_is_clamped_to_the_store_maximum(service, idp, sent_to_sts):
    body = vend(service, idp, ("readers",), access="read", ttl_seconds=99_999)
    assert sent_to_sts[-1]["DurationSeconds"] == 3600
    assert 3590 <= lifetime(body) <= 3610


def test_ttl_is_capped_at_one_hour_when_the_service_runs_on_role_credentials(moto, idp, sent_to_sts):
    auth = {
        "method": "assume-role",
        "role_arn": ROLE_ARN,
        "external_id": "tvs-external-id",
        "source": dict(KEY_REFS),
        "source_credentials_are_role": True,
    }
    svc = make_service(moto, idp, {"s3": store_block(moto, auth, ttl={"max": 43_200, "default": 900})})
    vend(svc, idp, ("readers",), access="read", ttl_seconds=20_000)
    assert sent_to_sts[-1]["DurationSeconds"] == 3600


def test_ttl_may_reach_twelve_hours_when_store_and_grant_allow_it(moto, idp, sent_to_sts):
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {"s3": store_block(moto, ttl={"max": 43_200, "default": 900})},
        "grants": [dict(GRANTS[1], max_ttl_seconds=86_400)],
        "limits": {"credential_cache": {"enabled": False}},
    }
    svc = build_service(raw, idp, secrets=SecretResolver(SECRETS))
    vend(svc, idp, ("readers",), access="read", ttl_seconds=99_999)
    assert sent_to_sts[-1]["DurationSeconds"] == 43_200


def test_session_tags_carry_claims_of_the_principal(moto, idp, sent_to_sts):
    auth = {
        "method": "assume-role",
        "role_arn": ROLE_ARN,
        "source": dict(KEY_REFS),
        "session_tags": {"tvs-subject": "{sub}", "team": "analytics", "email": "{email}"},
    }
    svc = make_service(moto, idp, {"s3": store_block(moto, auth)})
    vend(svc, idp, ("readers",), sub="alice", access="read")
    assert sent_to_sts[-1]["Tags"] == [{"Key": "team", "Value": "analytics"}, {"Key": "tvs-subject", "Value": "alice"}]


def test_cross_account_role_is_assumed_with_the_external_id_held_by_reference(moto, idp, sent_to_sts):
    other = "arn:aws:iam::210987654321:role/partner-data"
    auth = {
        "method": "assume-role",
        "role_arn": other,
        "external_id": {"env": "PARTNER_EXTERNAL_ID"},
        "source": dict(KEY_REFS),
    }
    svc = make_service(moto, idp, {"s3": store_block(moto, auth)}, environ={"PARTNER_EXTERNAL_ID": "partner-7f3a"})
    body = vend(svc, idp, ("readers",), access="read")
    assert (sent_to_sts[-1]["RoleArn"], sent_to_sts[-1]["ExternalId"]) == (other, "partner-7f3a")
    assert caller_arn(moto, body["credentials"]).startswith("arn:aws:sts::210987654321:assumed-role/partner-data/")


def test_source_identity_can_be_switched_off_for_roles_whose_trust_policy_does_not_allow_it(moto, idp, sent_to_sts):
    auth = {"method": "assume-role", "role_arn": ROLE_ARN, "source": dict(KEY_REFS), "source_identity": False}
    svc = make_service(moto, idp, {"s3": store_block(moto, auth)})
    vend(svc, idp, ("readers",), access="read")
    assert "SourceIdentity" not in sent_to_sts[-1]


@pytest.mark.parametrize(
    "lambda_name, session_token, expected",
    [
        ("tvs-vending", None, 3600),  # Lambda: the runtime's credentials are the function's role session
        (None, "a-session-token", 3600),  # any default chain that yields a session (ECS, instance profile, SSO)
        (None, None, 43_200),  # long-term keys in the environment: no role chaining
    ],
)
def test_default_source_detects_role_chaining(moto, idp, monkeypatch, lambda_name, session_token, expected):
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    if session_token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", session_token)
    if lambda_name:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", lambda_name)
    factory = ClientFactory()  # a fresh process-wide factory: the default chain is read anew
    monkeypatch.setattr(sessions, "CLIENTS", factory)
    sent: list[dict] = []
    factory.client("sts", REGION, moto.url).meta.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **kw: sent.append(dict(params))
    )
    auth = {"method": "assume-role", "role_arn": ROLE_ARN, "external_id": "tvs-external-id", "source": "default"}
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {"s3": store_block(moto, auth, ttl={"max": 43_200, "default": 900})},
        "grants": [dict(GRANTS[1], max_ttl_seconds=43_200)],
        "limits": {"credential_cache": {"enabled": False}},
    }
    svc = build_service(raw, idp, secrets=SecretResolver(SECRETS))
    vend(svc, idp, ("readers",), access="read", ttl_seconds=43_200)
    assert sent[-1]["DurationSeconds"] == expected
