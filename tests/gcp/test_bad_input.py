"""Bad input to a GCS store is a 4xx (or a documented clamp), never a 5xx: TTLs beyond the limits, object
names Cloud Storage or its XML API cannot take literally, a prefix without its trailing slash."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.gcp.support import KEY, make_service, sign, store_block, vend
from tests.gcp.v4_checker import signature_is_valid

PUBLIC_KEY = serialization.load_pem_private_key(KEY["private_key"].encode(), password=None).public_key()


@pytest.fixture
def service(gcs, google):
    return make_service(google, {"gcs": store_block(gcs)})


@pytest.mark.parametrize("ttl", [0, -5, 604_801, 10**12, "900", 1.5, True])
def test_a_ttl_outside_one_second_to_seven_days_is_400_bad_ttl(service, ttl):
    assert sign(service, object="users/alice/x", ttl_seconds=ttl, status=400)["type"].endswith("/bad-ttl")


def test_a_ttl_beyond_the_grant_is_clamped_and_expires_at_says_so(service):
    signed = sign(service, object="users/alice/seed.txt", ttl_seconds=604_800)
    assert parse_qs(urlsplit(signed["url"]).query)["X-Goog-Expires"] == ["3600"]


@pytest.mark.parametrize(
    "name",
    [
        "users/alice/a#b",
        "users/alice/a?b",
        "users/alice/a%2Fb",
        "users/alice/[ab]",
        "users/alice/a*",
        "users/alice/a\x7fb",
        "users/alice/a\r\nx-goog-acl: public-read",
        "users/alice/a\u0085b",
        "users/alice/../bob/x",
        "users/alice//x",
    ],
)
def test_an_object_name_the_xml_api_would_read_otherwise_is_400_bad_path(service, name):
    assert sign(service, object=name, status=400)["type"].endswith("/bad-path")


def test_an_object_name_over_1024_bytes_of_utf8_is_400_even_under_1024_characters(service):
    name = "users/alice/" + "é" * 600
    assert len(name) < 1024 < len(name.encode())
    assert sign(service, object=name, status=400)["type"].endswith("/bad-path")
    assert vend(service, groups=("users",), path=name + "/", status=400)["type"].endswith("/bad-path")


def test_a_name_under_the_reserved_acme_challenge_prefix_is_400(service):
    admin = sign(service, groups=("deleters",), object=".well-known/acme-challenge/token", status=400)
    assert admin["type"].endswith("/bad-path")


@pytest.mark.parametrize(
    "name", ["users/alice/a b+c&d=e;f,g(h)!.txt", "users/alice/données/été.csv", "users/alice/a:b@c"]
)
def test_names_the_url_must_encode_round_trip_through_a_signed_url(service, name):
    put = sign(service, object=name, method="PUT", content_type="text/plain")
    assert signature_is_valid(put["url"], "PUT", PUBLIC_KEY, put["headers"])
    assert requests.put(put["url"], data=name.encode(), headers=put["headers"], timeout=10).status_code == 200
    get = sign(service, object=name)
    assert requests.get(get["url"], timeout=10).content == name.encode()


def test_a_prefix_without_its_trailing_slash_names_one_object_and_cannot_be_listed(service):
    problem = vend(service, groups=("listers",), path="team-a", access="list", status=400)
    assert problem["type"].endswith("/list-needs-prefix")


def test_a_grant_on_a_prefix_does_not_cover_the_same_name_without_its_slash(service):
    vend(service, groups=("team-a",), path="team-a", access="read", status=403)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=40))
def test_no_object_name_makes_the_service_fail(service, name):
    from tests.gcp.support import IDP
    from tests.support import call, token

    resp = call(
        service,
        "POST",
        "/api/v1/signed-urls",
        token=token(IDP, "alice", ["users"]),
        body={"store": "gcs", "object": f"users/alice/{name}"},
    )
    assert resp.status in (200, 400, 403)
