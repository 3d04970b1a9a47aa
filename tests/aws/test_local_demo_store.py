"""The embedded default's demo-s3 store (moto server, bucket 'demo') works with the demo grants."""

from __future__ import annotations

import pytest

from localdev.cors import page_origins
from localdev.default_config import DEMO_AWS_SECRETS, embedded_config
from localdev.demo_data import prepare_demo_data
from shared.secrets import SecretResolver
from tests.aws.support import session_client
from tests.support import build_service, call, token


@pytest.fixture(scope="module")
def demo(moto, idp):
    emulators = {"moto": moto}
    prepare_demo_data(emulators, page_origins(7071))
    prepare_demo_data(emulators, page_origins(7071))  # idempotent: the run command may prepare an existing state
    raw = embedded_config(emulators, idp.issuer)
    return build_service(raw, idp, secrets=SecretResolver(DEMO_AWS_SECRETS))


def vend(service, idp, sub, groups, **body):
    return call(
        service, "POST", "/api/v1/credentials", token=token(idp, sub, groups), body={"store": "demo-s3", **body}
    )


def test_demo_user_writes_under_their_own_prefix_with_a_vended_session(demo, idp, moto):
    resp = vend(demo, idp, "alice", ["demo-users"], path="users/alice/", access="write")
    assert resp.status == 200, resp.json()
    s3 = session_client(moto, resp.json()["credentials"])
    s3.put_object(Bucket="demo", Key="users/alice/hello.txt", Body=b"hello")
    assert s3.get_object(Bucket="demo", Key="users/alice/hello.txt")["Body"].read() == b"hello"


def test_demo_user_may_not_write_under_another_users_prefix(demo, idp):
    assert vend(demo, idp, "alice", ["demo-users"], path="users/bob/", access="write").status == 403


def test_demo_admin_gets_delete_on_the_whole_bucket(demo, idp):
    resp = vend(demo, idp, "root", ["demo-admins"], access="delete")
    assert resp.status == 200
    assert resp.json()["scope"] == {"bucket": "demo", "prefix": ""}


def test_demo_store_is_listed_for_demo_users(demo, idp):
    stores = call(demo, "GET", "/api/v1/stores", token=token(idp, "alice", ["demo-users"])).json()["stores"]
    assert "demo-s3" in [s["store"] for s in stores]
