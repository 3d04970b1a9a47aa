"""The AWS account of the tests: moto server with the role the service assumes and two buckets."""

from __future__ import annotations

import json

import pytest

from tests.aws.support import BUCKET, OTHER_BUCKET, REGION, ROLE_NAME, TRUST_POLICY, admin_client, sts_capture


@pytest.fixture(scope="session")
def moto(moto_server):
    """moto server with role ``tvs-vending`` and buckets ``aws-demo`` and ``aws-other`` (seeded)."""
    iam = admin_client(moto_server, "iam")
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY), MaxSessionDuration=43_200)
    s3 = admin_client(moto_server)
    for bucket in (BUCKET, OTHER_BUCKET):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        for key in ("seed.txt", "users/alice/seed.txt", "users/bob/seed.txt", "team-a/seed.txt", "team-ab/seed.txt"):
            s3.put_object(Bucket=bucket, Key=key, Body=f"{bucket}/{key}".encode())
    return moto_server


@pytest.fixture
def sent_to_sts(moto):
    """The parameters of every AssumeRole the service sends through its (cached) STS client for moto."""
    sent, _received, stop = sts_capture(moto)
    yield sent
    stop()


@pytest.fixture
def session_secrets(moto):
    """Access key id -> secret of every session the service obtains with AssumeRole (kept by the service)."""
    _sent, received, stop = sts_capture(moto)
    yield received
    stop()
