"""The embedded default's demo-gcs store as ``./scripts/run`` starts it: fake-gcs-server (a child process
the run command owns), the Google token-service simulator over HTTP (the store's ``google_apis_url``)
and a service-account key made at the first run under the state directory."""

from __future__ import annotations

import json
import stat

import pytest
import requests

from localdev.__main__ import LocalGcs
from localdev.default_config import DEMO_GCS_SERVICE_ACCOUNT, embedded_config
from localdev.demo_data import prepare_demo_data
from localdev.emulators import free_port, port_is_free
from tests.support import build_service, call, token


@pytest.fixture(scope="module")
def local_gcs(tmp_path_factory):
    gcs = LocalGcs(free_port(), tmp_path_factory.mktemp("state") / "gcs")
    yield gcs
    gcs.stop()


@pytest.fixture(scope="module")
def demo(local_gcs, idp):
    emulators = {"gcs": local_gcs}
    prepare_demo_data(emulators, [])
    prepare_demo_data(emulators, [])  # idempotent: the run command may prepare an existing state
    return build_service(embedded_config(emulators, idp.issuer), idp)


def post(service, idp, route, sub="alice", groups=("demo-users",), **body):
    return call(
        service, "POST", f"/api/v1/{route}", token=token(idp, sub, list(groups)), body={"store": "demo-gcs", **body}
    )


def test_the_key_is_a_service_account_key_readable_by_its_owner_only(local_gcs):
    info = json.loads(local_gcs.key_file.read_text())
    assert (info["type"], info["client_email"]) == ("service_account", DEMO_GCS_SERVICE_ACCOUNT)
    assert stat.S_IMODE(local_gcs.key_file.stat().st_mode) == 0o600


def test_a_second_run_keeps_the_key_of_the_first(local_gcs):
    before = local_gcs.key_file.read_text()
    again = LocalGcs(free_port(), local_gcs.key_file.parent)
    again.stop()
    assert local_gcs.key_file.read_text() == before


def test_the_readme_session_uploads_and_reads_with_signed_urls(demo, idp):
    put = post(demo, idp, "signed-urls", object="users/alice/hello.txt", method="PUT", content_type="text/plain")
    assert put.status == 200, put.json()
    assert requests.put(put.json()["url"], data=b"hello", headers=put.json()["headers"], timeout=10).status_code == 200
    get = post(demo, idp, "signed-urls", object="users/alice/hello.txt").json()
    assert requests.get(get["url"], timeout=10).content == b"hello"


def test_a_demo_user_gets_a_token_for_their_own_prefix_from_the_simulator_over_http(demo, idp, local_gcs):
    resp = post(demo, idp, "credentials", path="users/alice/", access="write")
    assert resp.status == 200, resp.json()
    issued = local_gcs.google.tokens[resp.json()["credentials"]["access_token"]]
    rules = issued.boundary["accessBoundary"]["accessBoundaryRules"]
    assert (
        issued.principal == DEMO_GCS_SERVICE_ACCOUNT
        and "users/alice/" in rules[0]["availabilityCondition"]["expression"]
    )


def test_a_demo_user_may_not_write_under_another_users_prefix(demo, idp):
    assert post(demo, idp, "credentials", path="users/bob/", access="write").status == 403


def test_stopping_ends_the_emulator_it_started(tmp_path):
    port = free_port()
    gcs = LocalGcs(port, tmp_path / "gcs")
    assert not port_is_free(port)
    gcs.stop()
    assert port_is_free(port)
