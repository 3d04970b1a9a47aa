"""Helpers for the AWS tests: moto server as the account, stores pointing at it, boto3 clients."""

from __future__ import annotations

from shared.secrets import SecretResolver
from tests.support import build_service, call, issuer_block, token

REGION = "eu-west-3"
ACCOUNT = "123456789012"
ROLE_NAME = "tvs-vending"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
BUCKET = "aws-demo"
OTHER_BUCKET = "aws-other"
# moto accepts any key; these are the fake keys the moto fixture runs with, held by env reference.
SECRETS = {"MOTO_ACCESS_KEY_ID": "testing", "MOTO_SECRET_ACCESS_KEY": "testing"}
KEY_REFS = {"access_key_id": {"env": "MOTO_ACCESS_KEY_ID"}, "secret_access_key": {"env": "MOTO_SECRET_ACCESS_KEY"}}
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"],
            "Condition": {"StringEquals": {"sts:ExternalId": "tvs-external-id"}},
        }
    ],
}


def admin_client(moto, service: str = "s3"):
    """A client with the account's own (fake) keys: the test's view of the account, not the service's."""
    import boto3

    return boto3.client(
        service, endpoint_url=moto.url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def session_client(moto, creds: dict, service: str = "s3"):
    """A client using a vended credential's ``credentials`` block."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=moto.url,
        region_name=creds["region"],
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        aws_session_token=creds["session_token"],
    )


def store_block(moto, auth: dict | None = None, **over) -> dict:
    block = {
        "kind": "aws-s3",
        "bucket": BUCKET,
        "region": REGION,
        "endpoint_url": moto.url,
        "sts_endpoint_url": moto.url,
        "path_style": True,
        "emulator": True,
        "auth": auth
        or {"method": "assume-role", "role_arn": ROLE_ARN, "external_id": "tvs-external-id", "source": dict(KEY_REFS)},
        "ttl": {"default": 900, "max": 3600},
    }
    block.update(over)
    return block


GRANTS = [
    {"name": "listers", "match": {"groups": ["listers"]}, "stores": ["*"], "access": "list"},
    {"name": "readers", "match": {"groups": ["readers"]}, "stores": ["*"], "access": "read"},
    {"name": "writers", "match": {"groups": ["writers"]}, "stores": ["*"], "access": "write"},
    {"name": "deleters", "match": {"groups": ["deleters"]}, "stores": ["*"], "access": "delete"},
    {"name": "users", "match": {"groups": ["users"]}, "stores": ["*"], "prefix": "users/{sub}/", "access": "delete"},
    {"name": "team", "match": {"groups": ["team-a"]}, "stores": ["*"], "prefix": "team-a/", "access": "write"},
]


def make_service(moto, idp, stores: dict | None = None, cache: bool = False, environ: dict | None = None, **kw):
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": stores or {"s3": store_block(moto)},
        "grants": GRANTS,
        "limits": {"credential_cache": {"enabled": cache}},
    }
    return build_service(raw, idp, secrets=SecretResolver({**SECRETS, **(environ or {})}), **kw)


def vend(service, idp, groups=("readers",), sub: str = "alice", status: int = 200, **body):
    body.setdefault("store", "s3")
    resp = call(service, "POST", "/api/v1/credentials", token=token(idp, sub, groups), body=body)
    assert resp.status == status, resp.json()
    return resp.json()


def caller_arn(moto, creds: dict) -> str:
    """Who STS (moto) says a vended session is: the assumed-role or federated-user ARN it recorded."""
    return session_client(moto, creds, "sts").get_caller_identity()["Arn"]


def sts_capture(moto, operation: str = "AssumeRole"):
    """Record the parameters sent and the sessions received on the service's STS client for moto.

    Returns ``(sent, received, stop)``: lists filled as calls happen, and a function that detaches.
    """
    from shared.aws.clients import CLIENTS, Keys

    client = CLIENTS.client("sts", REGION, moto.url, Keys("testing", "testing"))
    sent: list[dict] = []
    received: dict[str, str] = {}  # access key id -> secret access key

    def on_params(params, **kwargs):
        sent.append(dict(params))

    def on_response(parsed, **kwargs):
        creds = parsed.get("Credentials")
        if creds:
            received[creds["AccessKeyId"]] = creds["SecretAccessKey"]

    client.meta.events.register(f"provide-client-params.sts.{operation}", on_params)
    client.meta.events.register(f"after-call.sts.{operation}", on_response)

    def stop():
        client.meta.events.unregister(f"provide-client-params.sts.{operation}", on_params)
        client.meta.events.unregister(f"after-call.sts.{operation}", on_response)

    return sent, received, stop
