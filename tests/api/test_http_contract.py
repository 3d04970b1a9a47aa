"""The HTTP contract of docs/api.md: statuses, problem+json, and nothing minted on bad input."""

from __future__ import annotations

import json
from datetime import UTC

import pytest

from shared.kinds.contract import Vendor
from tests.support import build_service, call, issuer_block, token

STORE = {
    "kind": "azure-blob",
    "account_url": "https://acct.blob.core.windows.net",
    "container": "c",
    "auth": {"method": "managed-identity"},
}


class CountingVendor(Vendor):
    """Stands in for the store's vendor so these tests see exactly what would have been minted."""

    provider = "counting"
    formats = frozenset({"native"})

    def __init__(self):
        self.issued = []

    def issue(self, grant):
        from datetime import datetime, timedelta

        from shared.kinds.contract import IssuedCredential

        self.issued.append(grant)
        now = datetime.now(UTC)
        return IssuedCredential(
            credential_id=f"c{len(self.issued)}",
            provider="counting",
            scope={"prefix": grant.path},
            issued_at=now,
            expires_at=now + timedelta(seconds=grant.ttl_seconds),
            credentials={},
        )

    def render(self, fmt, credential, grant):
        return credential.body(grant.store.id, grant.access)


@pytest.fixture
def setup(idp):
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {"s": STORE},
        "grants": [
            {"match": {"groups": ["g"]}, "stores": ["s"], "access": "read", "max_ttl_seconds": 1800},
            {"match": {"groups": ["g"]}, "stores": ["s"], "prefix": "users/{sub}/", "access": "write"},
        ],
        "limits": {"max_body_bytes": 1024, "credential_cache": {"enabled": False}},
    }
    service = build_service(raw, idp)
    vendor = CountingVendor()
    service._vendors["s"] = vendor
    return service, vendor, token(idp, "alice", ["g"])


def post(service, body, tok, **kw):
    return call(service, "POST", "/api/v1/credentials", token=tok, body=body, **kw)


def assert_problem(resp, status, slug=None):
    assert resp.status == status, resp.body
    assert resp.headers["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    assert "Traceback" not in resp.body.decode()
    if slug:
        assert body["type"].endswith("/" + slug)
    return body


def test_a_good_request_is_vended_with_no_store_caching_headers(setup):
    service, vendor, tok = setup
    resp = post(service, {"store": "s", "access": "read", "ttl_seconds": 900}, tok)
    assert resp.status == 200 and len(vendor.issued) == 1
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.json()["store"] == "s" and resp.json()["access"] == "read"


BAD_BODIES = {
    "malformed json": (b"{not json", "malformed-json"),
    "json array": (b"[]", "malformed-json"),
    "nan": (b'{"store": "s", "access": "read", "ttl_seconds": NaN}', "malformed-json"),
    "not utf-8": (b'{"store": "\xff"}', "malformed-json"),
    "unknown field": (b'{"store": "s", "access": "read", "role": "admin"}', "unknown-field"),
    "missing store": (b'{"access": "read"}', "missing-field"),
    "store not a string": (b'{"store": 7, "access": "read"}', "bad-type"),
    "bad access": (b'{"store": "s", "access": "admin"}', "bad-access"),
    "ttl string": (b'{"store": "s", "access": "read", "ttl_seconds": "900"}', "bad-ttl"),
    "ttl float": (b'{"store": "s", "access": "read", "ttl_seconds": 900.5}', "bad-ttl"),
    "ttl bool": (b'{"store": "s", "access": "read", "ttl_seconds": true}', "bad-ttl"),
    "ttl zero": (b'{"store": "s", "access": "read", "ttl_seconds": 0}', "bad-ttl"),
    "ttl negative": (b'{"store": "s", "access": "read", "ttl_seconds": -5}', "bad-ttl"),
    "ttl absurd": (b'{"store": "s", "access": "read", "ttl_seconds": 100000000000000000000}', "bad-ttl"),
    "bad format": (b'{"store": "s", "access": "read", "format": "xml"}', "bad-format"),
    "path traversal": (b'{"store": "s", "access": "read", "path": "users/alice/../bob/"}', "bad-path"),
    "path wildcard": (b'{"store": "s", "access": "read", "path": "users/*"}', "bad-path"),
    "path policy variable": (b'{"store": "s", "access": "read", "path": "users/${aws:username}/"}', "bad-path"),
    "path encoded": (b'{"store": "s", "access": "read", "path": "users/%2e%2e/"}', "bad-path"),
    "path control char": (b'{"store": "s", "access": "read", "path": "users/a\\u0000/"}', "bad-path"),
    "path backslash": (b'{"store": "s", "access": "read", "path": "users\\\\alice"}', "bad-path"),
    "path not nfc": (b'{"store": "s", "access": "read", "path": "cafe\\u0301/"}', "bad-path"),
    "deeply nested": (b'{"store": ' + b"[" * 100000 + b"]" * 100000 + b"}", None),
}


@pytest.mark.parametrize("raw", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_bodies_get_a_400_and_mint_nothing(setup, raw):
    service, vendor, tok = setup
    body, slug = raw
    resp = call(
        service, "POST", "/api/v1/credentials", token=tok, raw_body=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status in (400, 413)
    assert_problem(resp, resp.status, slug)
    assert vendor.issued == []


def test_a_ttl_written_with_a_zero_fraction_is_that_integer_as_json_schema_reads_it(setup):
    service, vendor, tok = setup
    resp = call(
        service,
        "POST",
        "/api/v1/credentials",
        token=tok,
        raw_body=b'{"store": "s", "access": "read", "ttl_seconds": 900.0}',
        headers={"Content-Type": "application/json"},
    )
    assert resp.status == 200 and vendor.issued[0].ttl_seconds == 900


def test_a_body_over_the_limit_is_413(setup):
    service, vendor, tok = setup
    body = json.dumps({"store": "s", "access": "read", "path": "a/" * 600}).encode()
    resp = call(
        service, "POST", "/api/v1/credentials", token=tok, raw_body=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(resp, 413, "body-too-large")
    assert vendor.issued == []


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_415(setup, ctype):
    service, vendor, tok = setup
    headers = {"Content-Type": ctype} if ctype else {}
    resp = call(
        service, "POST", "/api/v1/credentials", token=tok, raw_body=b'{"store":"s","access":"read"}', headers=headers
    )
    assert_problem(resp, 415)
    assert vendor.issued == []


def test_a_missing_token_is_401_with_a_bearer_challenge(setup):
    service, vendor, _ = setup
    resp = post(service, {"store": "s", "access": "read"}, None)
    assert_problem(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_invalid_token_is_401_invalid_token_and_not_echoed(setup, idp):
    service, vendor, tok = setup
    forged = tok[:-6] + "AAAAAA"
    resp = post(service, {"store": "s", "access": "read"}, forged)
    body = assert_problem(resp, 401, "invalid-token")
    assert resp.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert forged not in resp.body.decode() and forged.split(".")[1] not in resp.body.decode()
    assert vendor.issued == [] and body


def test_an_expired_token_is_401(setup, idp):
    service, vendor, _ = setup
    expired = token(idp, "alice", ["g"], exp=1, iat=0)
    assert_problem(post(service, {"store": "s", "access": "read"}, expired), 401)


def test_a_token_for_another_audience_is_401(setup, idp):
    service, vendor, _ = setup
    assert_problem(post(service, {"store": "s", "access": "read"}, token(idp, "alice", ["g"], aud="other")), 401)


def test_a_token_in_the_query_string_is_never_accepted(setup):
    service, vendor, tok = setup
    resp = call(service, "GET", "/api/v1/stores", query={"access_token": tok})
    assert_problem(resp, 401)


def test_the_raw_token_without_bearer_is_refused_on_ordinary_routes(setup):
    service, vendor, tok = setup
    resp = call(service, "GET", "/api/v1/stores", headers={"Authorization": tok})
    assert_problem(resp, 401)


def test_an_unknown_store_is_404_only_once_authenticated(setup):
    service, vendor, tok = setup
    assert_problem(post(service, {"store": "nope", "access": "read"}, None), 401)
    assert_problem(post(service, {"store": "nope", "access": "read"}, tok), 404)


def test_a_valid_caller_without_a_grant_is_403(setup, idp):
    service, vendor, _ = setup
    assert_problem(post(service, {"store": "s", "access": "read"}, token(idp, "mallory", ["other"])), 403, "forbidden")
    assert vendor.issued == []


def test_more_access_than_granted_is_403(setup):
    service, vendor, tok = setup
    assert_problem(post(service, {"store": "s", "access": "delete"}, tok), 403)


def test_an_unknown_route_is_404(setup):
    service, _, tok = setup
    assert_problem(call(service, "GET", "/api/v1/nope", token=tok), 404)


def test_a_wrong_method_is_405_with_allow(setup):
    service, _, tok = setup
    resp = call(service, "PUT", "/api/v1/credentials", token=tok)
    assert_problem(resp, 405)
    assert resp.headers["Allow"] == "GET, POST"


def test_the_access_manager_routes_answer_404_without_organizations_configured(setup):
    service, _, tok = setup
    query = {"organization": "demo", "space": "main"}
    resp = call(service, "POST", "/api/v2.0/accessmanager/read", token=tok, query=query)
    assert_problem(resp, 404)


def test_the_ttl_granted_is_clamped_and_reported(setup):
    service, vendor, tok = setup
    resp = post(service, {"store": "s", "access": "read", "ttl_seconds": 99_999}, tok)
    assert resp.status == 200 and vendor.issued[-1].ttl_seconds == 1800


def test_health_needs_no_token_and_reveals_no_configuration(setup):
    service, _, _ = setup
    resp = call(service, "GET", "/api/v1/health")
    assert resp.status == 200 and set(resp.json()) == {"status", "version"}


def test_stores_lists_what_the_caller_may_ask_for(setup):
    service, _, tok = setup
    resp = call(service, "GET", "/api/v1/stores", token=tok)
    assert resp.json()["stores"][0]["grants"] == [
        {"prefix": "", "access": "read", "max_ttl_seconds": 1800, "produces": ["credential"]},
        {"prefix": "users/alice/", "access": "write", "max_ttl_seconds": 3600, "produces": ["credential"]},
    ]


def test_an_unexpected_error_is_a_500_problem_without_detail(setup, caplog):
    service, vendor, tok = setup

    def boom(grant):
        raise RuntimeError("secret-ish internal detail")

    vendor.issue = boom
    resp = post(service, {"store": "s", "access": "read"}, tok)
    body = assert_problem(resp, 500, "internal-error")
    assert "secret-ish" not in json.dumps(body) and "secret-ish" not in caplog.text


def test_a_request_id_is_echoed_when_safe_and_replaced_when_not(setup):
    service, _, _ = setup
    assert (
        call(service, "GET", "/api/v1/health", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"] == "abc-123"
    )
    assert call(service, "GET", "/api/v1/health", headers={"X-Request-Id": "a\nb"}).headers["X-Request-Id"] != "a\nb"


def test_the_openapi_document_is_valid_openapi_3_1_and_lists_exactly_the_served_routes(setup):
    from openapi_spec_validator import validate

    service, _, _ = setup
    doc = call(service, "GET", "/api/v1/openapi.json").json()
    validate(doc)
    served = {(r.method.lower(), r.template) for r in service.routes}
    published = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert doc["openapi"] == "3.1.0" and published == served


def test_a_request_id_with_a_trailing_newline_is_replaced_not_echoed(setup):
    service, _, _ = setup
    resp = call(service, "GET", "/api/v1/health", headers={"X-Request-Id": "abc\n"})
    assert "\n" not in resp.headers["X-Request-Id"] and resp.headers["X-Request-Id"] != "abc"


def test_a_path_with_a_trailing_newline_matches_no_route(setup):
    service, _, _ = setup
    assert_problem(call(service, "GET", "/api/v1/health\n"), 404, "not-found")


def test_head_is_answered_on_open_routes_only(setup):
    service, vendor, tok = setup
    assert call(service, "HEAD", "/api/v1/health").status == 200
    resp = call(service, "HEAD", "/api/v1/stores", token=tok)
    assert resp.status == 405 and resp.headers["Allow"] == "GET"


def test_the_openapi_3_0_document_is_valid_3_0_and_holds_exactly_the_routes_of_the_3_1_one():
    from openapi_spec_validator import OpenAPIV30SpecValidator, validate

    from shared.api.contract import OPERATIONS
    from shared.api.openapi import openapi_document

    v31, v30 = openapi_document(OPERATIONS, "3.1"), openapi_document(OPERATIONS, "3.0")
    validate(v30, cls=OpenAPIV30SpecValidator)
    assert v30["openapi"].startswith("3.0.")
    routes = lambda doc: {(m, p) for p, ops in doc["paths"].items() for m in ops}  # noqa: E731
    assert routes(v30) == routes(v31) and routes(v31)


def test_the_3_0_rewrite_turns_3_1_schema_forms_into_their_3_0_equivalents():
    from shared.api.openapi import _as_openapi_30

    assert _as_openapi_30({"type": ["string", "null"], "const": "x", "examples": ["a", "b"]}) == {
        "type": "string",
        "nullable": True,
        "enum": ["x"],
        "example": "a",
    }


def test_the_export_command_prints_the_3_0_document_for_a_gateway_import(capsys):
    from shared.openapi_export import main

    assert main(["--openapi", "3.0"]) == 0
    assert json.loads(capsys.readouterr().out)["openapi"] == "3.0.3"


def test_the_service_serves_the_3_0_document_without_a_token(setup):
    service, _, _ = setup
    resp = call(service, "GET", "/api/v1/openapi-3.0.json")
    assert resp.status == 200 and resp.json()["openapi"] == "3.0.3"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"store": "s", "access": "read", "access": "delete"}',
        b'{"store": "s", "access": "read", "path": "a/", "path": "b/"}',
        b'{"store": "s", "store": "s", "access": "read"}',
    ],
)
def test_a_body_naming_a_field_twice_is_400_and_nothing_is_minted(setup, raw):
    service, vendor, tok = setup
    resp = call(
        service, "POST", "/api/v1/credentials", token=tok, raw_body=raw, headers={"Content-Type": "application/json"}
    )
    assert_problem(resp, 400)
    assert resp.json()["type"].endswith("/duplicate-field") and vendor.issued == []
