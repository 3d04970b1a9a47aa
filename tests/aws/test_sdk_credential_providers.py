"""AWS SDKs fetching vended sessions by themselves, from a local service on a free port.

- the container-credentials provider (``AWS_CONTAINER_CREDENTIALS_FULL_URI``, raw token in
  ``AWS_CONTAINER_AUTHORIZATION_TOKEN``; botocore allows plain http on loopback), run in a
  separate Python process with no other AWS credentials;
- (a ``credential_process`` profile runs ``tvs credential-process`` of the client package: tests/clients).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from localdev.server import LocalServer
from tests.aws.support import BUCKET, REGION, make_service
from tests.support import call, token

CONTAINER_ROUTE = "/api/v1/aws/container-credentials"


@pytest.fixture(scope="module")
def server(moto, idp):
    svc = make_service(moto, idp, cache=True)
    srv = LocalServer(svc, idp, port=0).start_background()
    yield srv
    srv.stop()


def clean_env(**extra) -> dict:
    """The environment of a process that has no AWS credentials of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    env.update(extra)
    return env


SDK_SCRIPT = """
import json, sys, boto3
session = boto3.Session(region_name=sys.argv[2])
s3 = session.client("s3", endpoint_url=sys.argv[1])
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[3], Prefix="team-a/")["Contents"]]
creds = session.get_credentials()
print(json.dumps({"keys": keys, "method": creds.method, "access_key_id": creds.get_frozen_credentials().access_key}))
"""


def run_sdk(moto, env: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, moto.url, REGION, BUCKET],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_boto3_in_a_container_obtains_and_uses_a_session_from_the_service(server, moto, idp):
    env = clean_env(
        AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{server.url}{CONTAINER_ROUTE}/s3?path=team-a/&access=read",
        AWS_CONTAINER_AUTHORIZATION_TOKEN=token(idp, "alice", ["team-a"]),
    )
    result = run_sdk(moto, env)
    assert result["method"] == "container-role"
    assert result["keys"] == ["team-a/seed.txt"]
    assert result["access_key_id"].startswith("ASIA")


def test_container_route_answers_the_container_credentials_shape(server, idp):
    resp = call(
        server.service,
        "GET",
        f"{CONTAINER_ROUTE}/s3",
        headers={"Authorization": token(idp, "a", ["team-a"])},
        query={"path": "team-a/", "access": "read"},
    )
    assert resp.status == 200
    assert set(resp.json()) == {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}


def test_container_route_shares_the_cache_with_post_credentials(server, idp):
    jwt = token(idp, "carol", ["team-a"])
    container = call(
        server.service,
        "GET",
        f"{CONTAINER_ROUTE}/s3",
        headers={"Authorization": jwt},
        query={"path": "team-a/", "access": "write"},
    ).json()
    posted = call(
        server.service,
        "POST",
        "/api/v1/credentials",
        token=jwt,
        body={"store": "s3", "path": "team-a/", "access": "write", "ttl_seconds": 3600},
    ).json()
    assert container["AccessKeyId"] == posted["credential_id"]  # the container shape's default: an hour


@pytest.mark.parametrize(
    "query, slug",
    [
        ({"path": "team-a/"}, "missing-field"),
        ({"path": "team-a/", "access": "read", "format": "native"}, "unknown-field"),
        ({"path": "team-*/", "access": "read"}, "bad-path"),
        ({"path": "team-a/", "access": "read", "ttl_seconds": "soon"}, "bad-ttl"),
        ({"path": "team-a/", "access": "admin"}, "bad-access"),
    ],
)
def test_container_route_validates_its_query_like_a_credential_request(server, idp, query, slug):
    resp = call(
        server.service,
        "GET",
        f"{CONTAINER_ROUTE}/s3",
        headers={"Authorization": token(idp, "a", ["team-a"])},
        query=query,
    )
    assert resp.status == 400
    assert resp.json()["type"].endswith(f"/{slug}")


def test_container_route_needs_a_token(server):
    assert call(server.service, "GET", f"{CONTAINER_ROUTE}/s3", query={"access": "read"}).status == 401


def test_container_route_is_in_the_openapi_document(server):
    document = call(server.service, "GET", "/api/v1/openapi.json").json()
    assert "get" in document["paths"][f"{CONTAINER_ROUTE}/{{store}}"]


# -- credential_process ---------------------------------------------------------------------------
def test_container_route_refuses_a_store_that_is_not_aws(moto, idp):
    azure = {
        "kind": "azure-blob",
        "account_url": "https://acct.blob.core.windows.net",
        "container": "c",
        "auth": {"method": "default"},
    }
    svc = make_service(moto, idp, {"blob": azure})
    resp = call(
        svc,
        "GET",
        f"{CONTAINER_ROUTE}/blob",
        headers={"Authorization": token(idp, "a", ["readers"])},
        query={"access": "read"},
    )
    assert resp.status == 400
    assert resp.json()["type"].endswith("/bad-format")


TEN_CALLS_SCRIPT = """
import sys, boto3
s3 = boto3.Session(region_name=sys.argv[2]).client("s3", endpoint_url=sys.argv[1])
for _ in range(10):
    s3.list_objects_v2(Bucket=sys.argv[3], Prefix="team-a/")
"""


def test_an_sdk_fetching_container_credentials_fetches_once_for_ten_calls(server, moto, idp, caplog):
    # Without a ttl the container shape lasts an hour: botocore refreshes within 15 minutes of expiry,
    # so the store's 900 s default would make it fetch again before every call.
    caplog.set_level("INFO", logger="tvs.audit")
    env = clean_env(
        AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{server.url}{CONTAINER_ROUTE}/s3?path=team-a/&access=read",
        AWS_CONTAINER_AUTHORIZATION_TOKEN=token(idp, "dave", ["team-a"]),
    )
    done = subprocess.run(
        [sys.executable, "-c", TEN_CALLS_SCRIPT, moto.url, REGION, BUCKET],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    audited = [r.getMessage() for r in caplog.records]
    fetches = [m for m in audited if '"format":"container_credentials"' in m and '"subject":"dave"' in m]
    assert len(fetches) == 1
    assert '"ttl_seconds":3600' in fetches[0]


def test_an_explicit_ttl_still_wins_for_the_sdk_shapes(server, idp):
    resp = call(
        server.service,
        "GET",
        f"{CONTAINER_ROUTE}/s3",
        token=token(idp, "alice", ["team-a"]),
        query={"path": "team-a/", "access": "read", "ttl_seconds": "900"},
    )
    assert resp.status == 200
