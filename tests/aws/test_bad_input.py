"""Bad input to an AWS store gets a 4xx problem (or a documented clamp), never a 500."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.aws import sts
from tests.aws.support import make_service, vend
from tests.support import call, token


@pytest.fixture(scope="module")
def service(moto, idp):
    return make_service(moto, idp)


@pytest.mark.parametrize("path", ["team-*/", "team-a/?.csv", "users/${aws:username}/", "team-a/[ab]/", "*"])
def test_wildcards_and_policy_variables_in_the_path_are_refused(service, idp, path):
    before = sts.CALLS.total()
    problem = vend(service, idp, ("readers",), path=path, access="read", status=400)
    assert problem["type"].endswith("/bad-path")
    assert sts.CALLS.total() == before


def test_path_whose_policy_would_exceed_the_size_limit_is_refused_before_sts(service, idp):
    before = sts.CALLS.total()
    problem = vend(service, idp, ("readers",), path="reports/" + "x" * 900 + "/", access="read", status=400)
    assert problem["type"].endswith("/policy-too-large")
    assert "2048" in problem["detail"]
    assert sts.CALLS.total() == before


def test_subject_with_no_ascii_character_still_gets_a_session(service, idp):
    body = vend(service, idp, ("readers",), sub="日本語のユーザー", access="read")
    assert body["credentials"]["session_token"]


@pytest.mark.parametrize("ttl", [0, -5, 10**9, "900", True, 1.5])
def test_ttl_that_is_not_a_sensible_number_of_seconds_is_refused(service, idp, ttl):
    problem = vend(service, idp, ("readers",), access="read", ttl_seconds=ttl, status=400)
    assert problem["type"].endswith("/bad-ttl")


def test_list_on_a_single_object_is_refused_with_a_hint(service, idp):
    problem = vend(service, idp, ("readers",), path="team-a/seed.txt", access="list", status=400)
    assert problem["type"].endswith("/list-needs-prefix")


def test_signed_url_for_a_prefix_is_refused(service, idp):
    resp = call(
        service,
        "POST",
        "/api/v1/signed-urls",
        token=token(idp, "alice", ["readers"]),
        body={"store": "s3", "object": "team-a/"},
    )
    assert resp.status == 400


def test_unknown_format_is_refused(service, idp):
    problem = vend(service, idp, ("readers",), access="read", format="boto", status=400)
    assert problem["type"].endswith("/bad-format")


@settings(max_examples=40, deadline=None)
@given(
    path=st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    access=st.sampled_from(["list", "read", "write", "delete"]),
    ttl=st.one_of(st.none(), st.integers(min_value=-10, max_value=10**6)),
)
def test_no_path_access_or_ttl_makes_a_500(service, idp, path, access, ttl):
    body = {"store": "s3", "path": path, "access": access}
    if ttl is not None:
        body["ttl_seconds"] = ttl
    resp = call(service, "POST", "/api/v1/credentials", token=token(idp, "alice", ["deleters"]), body=body)
    assert resp.status in (200, 400), resp.json()
