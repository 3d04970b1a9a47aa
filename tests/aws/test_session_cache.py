"""Issued sessions are reused per (principal, store, path, access, ttl) under the cache rule of
docs/design.md (Caching), and concurrent identical requests coalesce into one STS call."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from shared.aws import sts
from shared.aws.clients import CLIENTS, Keys
from tests.aws.support import REGION, make_service, vend
from tests.support import call, token


@pytest.fixture
def slow_sts(moto):
    """Every AssumeRole takes 0.3 s more, so concurrent requests surely overlap the first one."""
    client = CLIENTS.client("sts", REGION, moto.url, Keys("testing", "testing"))
    delay = lambda **kw: time.sleep(0.3)  # noqa: E731
    client.meta.events.register("before-send.sts.AssumeRole", delay)
    yield
    client.meta.events.unregister("before-send.sts.AssumeRole", delay)


def assume_role_calls() -> int:
    return sts.CALLS.total("AssumeRole")


def test_concurrent_identical_requests_make_one_sts_call(moto, idp, slow_sts):
    svc = make_service(moto, idp, cache=True)
    jwt = token(idp, "alice", ["team-a"])
    start = threading.Barrier(20)

    def request(_):
        start.wait()
        return call(
            svc, "POST", "/api/v1/credentials", token=jwt, body={"store": "s3", "path": "team-a/", "access": "read"}
        )

    before = assume_role_calls()
    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(request, range(20)))
    assert assume_role_calls() - before == 1
    assert {r.status for r in responses} == {200}
    assert len({r.json()["credential_id"] for r in responses}) == 1


def test_same_principal_scope_and_access_reuses_the_session(moto, idp):
    svc = make_service(moto, idp, cache=True)
    before = assume_role_calls()
    first = vend(svc, idp, ("team-a",), path="team-a/", access="read")
    second = vend(svc, idp, ("team-a",), path="team-a/", access="read")
    assert assume_role_calls() - before == 1
    assert first["credential_id"] == second["credential_id"]


@pytest.mark.parametrize("other", [dict(sub="bob"), dict(access="write"), dict(path="team-a/sub/")])
def test_a_different_principal_scope_or_access_gets_its_own_session(moto, idp, other):
    svc = make_service(moto, idp, cache=True)
    first = vend(svc, idp, ("team-a",), path="team-a/", access="read")
    second = vend(svc, idp, ("team-a",), **{"path": "team-a/", "access": "read", **other})
    assert first["credential_id"] != second["credential_id"]


def test_without_the_cache_every_request_calls_sts(moto, idp):
    svc = make_service(moto, idp, cache=False)
    before = assume_role_calls()
    for _ in range(3):
        vend(svc, idp, ("team-a",), path="team-a/", access="read")
    assert assume_role_calls() - before == 3


def test_session_is_not_reused_past_half_its_life(moto, idp):
    now = {"t": datetime.now(UTC)}
    svc = make_service(moto, idp, cache=True, clock=lambda: now["t"])
    first = vend(svc, idp, ("team-a",), path="team-a/", access="read", ttl_seconds=900)
    now["t"] += timedelta(seconds=440)
    assert (
        vend(svc, idp, ("team-a",), path="team-a/", access="read", ttl_seconds=900)["credential_id"]
        == first["credential_id"]
    )
    now["t"] += timedelta(seconds=20)
    assert (
        vend(svc, idp, ("team-a",), path="team-a/", access="read", ttl_seconds=900)["credential_id"]
        != first["credential_id"]
    )
