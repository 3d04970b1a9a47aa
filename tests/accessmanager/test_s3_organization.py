"""An organization stored in S3 (moto server): only commit is available, as in that service; the
commit lists the loadingzone prefix with a session that may list that prefix only."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.secrets import SecretResolver
from tests.accessmanager.support import am_call, roles_token
from tests.support import build_service, issuer_block

REGION = "eu-west-3"
ROLE_ARN = "arn:aws:iam::123456789012:role/tvs-accessmanager"
BUCKET = "am-organization"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"],
        }
    ],
}


def admin(moto, service="s3"):
    import boto3

    return boto3.client(
        service, endpoint_url=moto.url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@pytest.fixture(scope="module")
def s3_org(moto_server):
    admin(moto_server, "iam").create_role(RoleName="tvs-accessmanager", AssumeRolePolicyDocument=json.dumps(TRUST))
    admin(moto_server).create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return moto_server


@pytest.fixture(scope="module")
def service(s3_org, idp):
    refs = {"access_key_id": {"env": "K"}, "secret_access_key": {"env": "S"}}
    config = {
        "issuers": [issuer_block(idp)],
        "stores": {
            "org-bucket": {
                "kind": "aws-s3",
                "bucket": BUCKET,
                "region": REGION,
                "endpoint_url": s3_org.url,
                "sts_endpoint_url": s3_org.url,
                "path_style": True,
                "emulator": True,
                "auth": {"method": "assume-role", "role_arn": ROLE_ARN, "source": refs},
            }
        },
        "accessmanager": {
            "organizations": {
                "s3org": {
                    "id": 3,
                    "store": "org-bucket",
                    "confidentiality": "internal",
                    "spaces": {"loadingzone": {"confidentiality": "internal"}, "main": {"confidentiality": "private"}},
                }
            }
        },
    }
    return build_service(config, idp, secrets=SecretResolver({"K": "testing", "S": "testing"}))


SUPPLIER = ("org_s3org_access", "spc_main_supplier")


@pytest.mark.parametrize("route", ["read", "upload", "upload/main", "delete"])
def test_an_s3_organization_has_no_sas(service, idp, route):
    resp = am_call(service, route, roles_token(idp, "SDK_ADMIN"), organization="s3org", space="main")
    assert resp.status == 400 and resp.json()["type"].endswith("/sas-unsupported")


def test_commit_lists_exactly_the_files_under_root_dir_of_the_loadingzone_prefix(service, idp, s3_org):
    root = f"run-{uuid.uuid4().hex[:8]}"
    s3 = admin(s3_org)
    for key in (
        f"loadingzone/{root}/a.csv",
        f"loadingzone/{root}/x/b.csv",
        f"loadingzone/{root}-2/c.csv",
        f"main/{root}/d",
    ):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    resp = am_call(service, "commit", roles_token(idp, *SUPPLIER), organization="s3org", space="main", rootDir=root)
    assert resp.status == 200, resp.json()
    assert resp.json() == [f"{root}/a.csv", f"{root}/x/b.csv"]


def test_commit_on_s3_needs_write_rights_too(service, idp):
    tok = roles_token(idp, "org_s3org_access", "spc_main_user")
    assert am_call(service, "commit", tok, organization="s3org", space="main", rootDir="r").status == 403
