"""Hostile input to every route, generated: never a 5xx (503 aside), every refusal problem+json."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.api import HttpRequest
from shared.secrets import SecretResolver
from tests.support import build_service, issuer_block, token

KEY = base64.b64encode(b"k" * 64).decode()
ACCOUNT = {
    "account_url": "https://acct.blob.core.windows.net",
    "account_name": "acct",
    "container": "c",
    "auth": {"method": "account-key", "account_key": {"env": "KEY"}},
}
FIELDS = ("store", "path", "access", "ttl_seconds", "format", "object", "method", "content_type")


@pytest.fixture(scope="module")
def target(idp):
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {
            "flat": {"kind": "azure-blob", **ACCOUNT},
            "lake": {"kind": "azure-blob", "hierarchical_namespace": True, **ACCOUNT},
        },
        "grants": [
            {"match": {"groups": ["g"]}, "stores": ["*"], "access": "delete"},
            {"match": {"groups": ["g"]}, "stores": ["*"], "prefix": "users/{sub}/", "access": "list"},
        ],
    }
    return build_service(raw, idp, secrets=SecretResolver({"KEY": KEY})), token(idp, "alice", ["g"])


def strings():
    return st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [
                "",
                "flat",
                "lake",
                "read",
                "list",
                "write",
                "delete",
                "native",
                "iceberg",
                "GET",
                "PUT",
                "users/alice/",
                "a/b",
                "a/../b",
                "x" * 2000,
                "0",
                "-1",
                "1e3",
                "\u212b",
                "a\nb",
            ]
        ),
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | strings(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings(), inner, max_size=3),
    max_leaves=8,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS) | strings(), json_values, max_size=6).map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)
paths = st.one_of(
    st.sampled_from(
        [
            "/api/v1/health",
            "/api/v1/openapi.json",
            "/api/v1/stores",
            "/api/v1/credentials",
            "/api/v1/signed-urls",
            "/api/v1/credentials/",
            "/",
        ]
    ),
    strings().map(lambda s: f"/api/v1/credentials/{s}"),
    strings().map(lambda s: f"/api/v1/aws/container-credentials/{s}"),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT", "HEAD", "PATCH", "OPTIONS", "get", "BREW"]),
    path=paths,
    auth=st.sampled_from(["valid", "raw", "none", "junk", "bearer-junk", "huge", "non-ascii"]),
    ctype=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", None]),
    query=st.dictionaries(
        st.sampled_from(["path", "access", "ttl_seconds", "store"]) | strings(), strings(), max_size=4
    ),
    body=bodies,
    request_id=st.none() | strings(),
)
def test_no_input_makes_the_service_fail(target, method, path, auth, ctype, query, body, request_id):
    service, valid = target
    headers = {
        "Authorization": {
            "valid": f"Bearer {valid}",
            "raw": valid,
            "none": None,
            "junk": "x y z",
            "bearer-junk": "Bearer a.b.c",
            "huge": "Bearer " + "a." * 40_000,
            "non-ascii": "Bearer \u00e9\u00e9.\u00e9.\u00e9",
        }[auth],
        "Content-Type": ctype,
        "X-Request-Id": request_id,
    }
    request = HttpRequest(
        method=method, path=path, headers={k: v for k, v in headers.items() if v is not None}, query=query, body=body
    )
    resp = service.handle(request)
    assert resp.status < 500 or resp.status == 503, resp.body
    if resp.status >= 400:
        assert resp.headers["Content-Type"] == "application/problem+json"
        assert resp.json()["status"] == resp.status


def field_values(name):
    good = {
        "store": ["flat", "lake"],
        "path": ["", "users/alice/", "users/alice/x.csv", "a/", "a/b"],
        "access": ["list", "read", "write", "delete"],
        "ttl_seconds": [1, 60, 3600, 604_800],
        "format": ["native", "iceberg", "console"],
        "object": ["a/b.csv", "users/alice/x"],
        "method": ["GET", "put", "DELETE", "HEAD"],
        "content_type": ["text/csv", "x"],
    }[name]
    return st.one_of(st.sampled_from(good), st.sampled_from(good), st.sampled_from(good), json_values)


ROUTE_FIELDS = {
    "/api/v1/credentials": ("store", "path", "access", "ttl_seconds", "format"),
    "/api/v1/signed-urls": ("store", "object", "method", "ttl_seconds", "content_type"),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), route=st.sampled_from(sorted(ROUTE_FIELDS)))
def test_no_body_makes_a_vend_fail(target, data, route):
    service, valid = target
    required = {"store": field_values("store")}
    optional = {name: field_values(name) for name in ROUTE_FIELDS[route] if name != "store"}
    doc = data.draw(st.fixed_dictionaries(required, optional=optional))
    request = HttpRequest(
        method="POST",
        path=route,
        body=json.dumps(doc).encode(),
        headers={"Authorization": f"Bearer {valid}", "Content-Type": "application/json"},
    )
    resp = service.handle(request)
    assert resp.status < 500 or resp.status == 503, resp.body
    if resp.status >= 400:
        assert resp.headers["Content-Type"] == "application/problem+json"
    else:
        assert resp.status == 200


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    store=st.sampled_from(["flat", "lake"]) | strings(),
    query=st.fixed_dictionaries(
        {}, optional={"path": field_values("path"), "access": field_values("access"), "ttl_seconds": strings()}
    ),
)
def test_no_query_makes_the_container_credentials_route_fail(target, store, query):
    service, valid = target
    query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in query.items()}
    resp = service.handle(
        HttpRequest(
            method="GET",
            path=f"/api/v1/aws/container-credentials/{store}",
            query=query,
            headers={"Authorization": valid},
        )
    )
    assert resp.status < 500 or resp.status == 503, resp.body
    if resp.status >= 400:
        assert resp.headers["Content-Type"] == "application/problem+json"
