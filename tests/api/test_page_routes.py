"""The self-service page's routes (docs/api.md, Self-service page): its files from a fixed allow-list
with their media types, a strict Content-Security-Policy and the security headers, a relative redirect
to the index, the public sign-in settings, and 404 problem+json for anything else."""

from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace

import pytest

from shared.ui import ASSETS, STATIC
from tests.support import build_service, call, issuer_block, token

PAGE = {
    "client_id": "tvs-page",
    "authority": "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0",
    "scopes": ["api://tvs/access"],
}
STORES = {
    "blob": {
        "kind": "azure-blob",
        "account_url": "https://acct.blob.core.windows.net",
        "container": "c",
        "auth": {"method": "managed-identity"},
    },
    "s3": {
        "kind": "aws-s3",
        "bucket": "sales",
        "region": "eu-west-3",
        "auth": {"method": "assume-role", "role_arn": "arn:aws:iam::123456789012:role/r"},
    },
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def service_with(idp, page=PAGE, **more):
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": STORES,
        "grants": [{"match": {"groups": ["g"]}, "stores": ["*"], "access": "read"}],
        "admin_groups": ["admins"],
        **more,
    }
    if page is not None:
        raw["page"] = page
    return build_service(raw, idp)


@pytest.fixture
def service(idp):
    return service_with(idp)


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in policy.split("; ")}


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_each_file_of_the_page_is_served_with_its_media_type(service, name):
    resp = call(service, "GET", f"/api/ui/{name}")
    assert (resp.status, resp.headers["Content-Type"]) == (200, ASSETS[name])
    assert resp.body == (STATIC / name).read_bytes()


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_each_file_carries_the_content_security_policy_and_the_security_headers(service, name):
    resp = call(service, "GET", f"/api/ui/{name}")
    assert {k: resp.headers[k] for k in HEADERS} == HEADERS
    assert directives(resp)["default-src"] == "'none'"


def test_the_policy_allows_script_and_style_from_the_page_itself_only(service):
    policy = directives(call(service, "GET", "/api/ui/index.html"))
    assert (policy["script-src"], policy["style-src"], policy["img-src"]) == ("'self'", "'self'", "'self'")
    assert (policy["frame-ancestors"], policy["base-uri"], policy["form-action"]) == ("'none'", "'none'", "'none'")
    assert policy["require-trusted-types-for"] == "'script'"
    assert "unsafe" not in call(service, "GET", "/api/ui/index.html").headers["Content-Security-Policy"]


def test_the_page_may_connect_to_the_api_the_identity_provider_and_the_stores_storage_only(idp):
    service = service_with(idp, page={**PAGE, "connect_origins": ["https://other.blob.core.windows.net"]})
    assert directives(call(service, "GET", "/api/ui/index.html"))["connect-src"].split() == [
        "'self'",
        "https://acct.blob.core.windows.net",
        "https://login.microsoftonline.com",
        "https://other.blob.core.windows.net",
        "https://s3.eu-west-3.amazonaws.com",
        "https://sales.s3.amazonaws.com",
        "https://sales.s3.eu-west-3.amazonaws.com",
    ]


def test_a_configured_token_endpoint_on_another_host_may_be_connected_to(idp):
    cognito = {
        "client_id": "abc",
        "authority": "https://cognito-idp.eu-west-3.amazonaws.com/eu-west-3_Pool",
        "authorization_endpoint": "https://tvs.auth.eu-west-3.amazoncognito.com/oauth2/authorize",
        "token_endpoint": "https://tvs.auth.eu-west-3.amazoncognito.com/oauth2/token",
    }
    service = service_with(idp, page=cognito)
    assert (
        "https://tvs.auth.eu-west-3.amazoncognito.com"
        in directives(call(service, "GET", "/api/ui/page.js"))["connect-src"].split()
    )


@pytest.mark.parametrize("name", ["secrets.txt", "index.htm", "page.js.map", "__init__.py", "..", "%2e%2e"])
def test_a_file_outside_the_allow_list_is_a_404_problem(service, name):
    resp = call(service, "GET", f"/api/ui/{name}")
    assert (resp.status, resp.headers["Content-Type"]) == (404, "application/problem+json")
    assert resp.json()["type"].endswith("/not-found")


def test_a_path_deeper_than_one_file_matches_no_route(service):
    resp = call(service, "GET", "/api/ui/static/page.js")
    assert (resp.status, resp.json()["detail"]) == (404, "no such route")


def test_the_allow_list_is_exactly_the_files_that_ship():
    assert set(ASSETS) == {p.name for p in STATIC.iterdir() if p.is_file()}


@pytest.mark.parametrize("path,location", [("/api/ui", "ui/index.html"), ("/api/ui/", "index.html")])
def test_the_page_root_leads_to_the_index_by_a_relative_redirect(service, path, location):
    resp = call(service, "GET", path)
    assert (resp.status, resp.headers["Location"], resp.body) == (302, location, b"")


def test_the_index_is_never_cached(service):
    assert call(service, "GET", "/api/ui/index.html").headers["Cache-Control"] == "no-store"


def test_the_other_files_are_revalidated_and_answered_304_when_unchanged(service):
    first = call(service, "GET", "/api/ui/page.js")
    again = call(service, "GET", "/api/ui/page.js", headers={"If-None-Match": first.headers["ETag"]})
    assert first.headers["Cache-Control"] == "no-cache"
    assert (again.status, again.body) == (304, b"")


def test_head_answers_a_file_of_the_page(service):
    assert call(service, "HEAD", "/api/ui/page.css").status == 200


def test_the_sign_in_settings_are_public(service):
    resp = call(service, "GET", "/api/v1/page-config")
    assert resp.status == 200 and resp.headers["Content-Type"] == "application/json"
    assert resp.json()["sign_in"] == {
        "client_id": "tvs-page",
        "authority": PAGE["authority"],
        "scopes": ["api://tvs/access"],
        "authorization_endpoint": None,
        "token_endpoint": None,
    }


def test_the_sign_in_settings_say_the_organizations_panel_is_off_without_organizations_configured(service):
    assert service.config.accessmanager is None
    assert call(service, "GET", "/api/v1/page-config").json()["features"] == {"organizations": False}


def test_the_sign_in_settings_say_the_organizations_panel_is_off_while_its_listing_is_not_served(service):
    service.config = dataclasses.replace(service.config, accessmanager=SimpleNamespace())  # organizations configured
    service.routes = [r for r in service.routes if r.operation.operation_id != "omListOrganizations"]
    assert call(service, "GET", "/api/v1/page-config").json()["features"] == {"organizations": False}


def test_the_sign_in_settings_say_the_organizations_panel_is_on_with_organizations_and_their_listing(service):
    service.config = dataclasses.replace(service.config, accessmanager=SimpleNamespace())  # organizations configured
    assert call(service, "GET", "/api/v1/page-config").json()["features"] == {"organizations": True}


@pytest.mark.parametrize("path", ["/api/ui", "/api/ui/index.html", "/api/ui/page.js", "/api/v1/page-config"])
def test_without_a_page_section_there_is_no_page(idp, path):
    resp = call(service_with(idp, page=None), "GET", path)
    assert (resp.status, resp.headers["Content-Type"]) == (404, "application/problem+json")
    assert "no self-service page" in resp.json()["detail"]


def test_me_says_who_the_caller_is_from_verified_claims(service, idp):
    me = call(service, "GET", "/api/v1/me", token=token(idp, "alice", ["g"])).json()
    assert {k: me[k] for k in ("owner", "issuer", "subject", "groups", "admin")} == {
        "owner": f"{idp.issuer}|alice",
        "issuer": "dev",
        "subject": "alice",
        "groups": ["g"],
        "admin": False,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", me["expires_at"])


def test_me_says_whether_the_caller_administers(service, idp):
    assert call(service, "GET", "/api/v1/me", token=token(idp, "root", ["admins"])).json()["admin"] is True


def test_me_needs_a_token(service):
    assert call(service, "GET", "/api/v1/me").status == 401


# -- the files themselves ---------------------------------------------------------------------------
def _text(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def test_the_index_holds_no_inline_script_or_style():
    index = _text("index.html")
    assert re.findall(r"<script(?![^>]*\bsrc=)", index) == []
    assert "<style" not in index and " style=" not in index and re.search(r"\son\w+=", index) is None


@pytest.mark.parametrize("name", ["index.html", "page.js", "page.css"])
def test_the_pages_files_name_no_other_site_and_no_absolute_path(name):
    text = _text(name)
    assert re.findall(r"https?://", text) == []
    assert re.findall(r"""["'`(]/(?:api|dev-idp)\b""", text) == []


def test_the_script_never_writes_html_or_keeps_anything_in_local_storage_or_cookies():
    script = _text("page.js")
    for forbidden in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "localStorage",
        "document.cookie",
    ):
        assert forbidden not in script, forbidden
