"""The development identity provider's authorization code flow with PKCE, which the self-service page
signs in with locally: a form to pick a demo user and groups, a one-time code, and the code-for-token
exchange with the code verifier checked (docs/api.md, Development identity provider)."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest

from localdev.devidp import CODE_SECONDS, DevIdentityProvider

ISSUER = "http://127.0.0.1:7071/dev-idp"
PAGE = "http://127.0.0.1:7071/api/ui/index.html"
VERIFIER = "v" * 43 + "-._~0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def idp():
    return DevIdentityProvider(ISSUER)


def authorize_params(**over) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": "tvs-page",
        "redirect_uri": PAGE,
        "scope": "openid",
        "state": "s-123",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(over)
    return {k: v for k, v in params.items() if v is not None}


def submit(idp, *, form=None, **over):
    """POST the sign-in form as a browser does; returns (status, headers, body)."""
    fields = {**authorize_params(**over), "sub": "alice", "group-demo-users": "on", **(form or {})}
    return idp.serve("POST", "authorize", urlencode(fields).encode(), {}, FORM)


def redirected(reply) -> dict[str, str]:
    status, headers, _ = reply
    assert status == 303, reply
    location = urlsplit(headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == PAGE
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def exchange(idp, code, **over):
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": PAGE,
        "client_id": "tvs-page",
        "code_verifier": VERIFIER,
    }
    fields.update(over)
    fields = {k: v for k, v in fields.items() if v is not None}
    status, headers, body = idp.serve("POST", "token", urlencode(fields).encode(), {}, FORM)
    return status, headers, json.loads(body)


def test_the_discovery_document_names_the_authorization_and_token_endpoints_and_s256(idp):
    meta = idp.discovery()
    assert (meta["authorization_endpoint"], meta["token_endpoint"]) == (f"{ISSUER}/authorize", f"{ISSUER}/token")
    assert (meta["response_types_supported"], meta["code_challenge_methods_supported"]) == (["code"], ["S256"])


def test_the_authorize_step_shows_a_form_to_pick_a_user_and_groups(idp):
    status, headers, body = idp.serve("GET", "authorize", b"", authorize_params(), {})
    page = body.decode()
    assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert 'name="sub"' in page and 'name="group-demo-users"' in page and 'name="group-demo-admins"' in page
    assert f'value="{CHALLENGE}"' in page and 'value="s-123"' in page


def test_the_form_page_allows_no_script_and_posts_only_to_itself_and_the_client(idp):
    _, headers, _ = idp.serve("GET", "authorize", b"", authorize_params(), {})
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "form-action 'self' http://127.0.0.1:7071" in policy


def test_signing_in_on_the_form_sends_the_browser_back_with_a_code_and_the_state(idp):
    back = redirected(submit(idp))
    assert back["state"] == "s-123" and len(back["code"]) >= 40


def test_the_code_is_exchanged_for_a_token_of_the_chosen_user_groups_and_lifetime(idp):
    code = redirected(submit(idp, form={"group-demo-admins": "on", "other_groups": "x, y", "lifetime": "120"}))["code"]
    status, headers, token = exchange(idp, code)
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert (status, headers["Cache-Control"], token["expires_in"]) == (200, "no-store", 120)
    assert (claims["sub"], claims["groups"], claims["aud"]) == (
        "alice",
        ["demo-users", "demo-admins", "x", "y"],
        idp.audience,
    )


def test_a_code_verifier_that_does_not_match_the_challenge_is_refused(idp):
    code = redirected(submit(idp))["code"]
    status, _, answer = exchange(idp, code, code_verifier="w" * 43)
    assert (status, answer["error"]) == (400, "invalid_grant")


def test_a_code_is_good_for_one_exchange_only(idp):
    code = redirected(submit(idp))["code"]
    assert exchange(idp, code)[0] == 200
    assert exchange(idp, code)[2]["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "over",
    [{"client_id": "someone-else"}, {"redirect_uri": "http://127.0.0.1:7071/other"}],
    ids=["another client", "another redirect uri"],
)
def test_a_code_is_refused_to_another_client_or_redirect_uri(idp, over):
    code = redirected(submit(idp))["code"]
    assert exchange(idp, code, **over)[2]["error"] == "invalid_grant"


def test_a_code_not_exchanged_within_a_minute_is_refused(idp):
    now = [1000.0]
    idp.clock = lambda: now[0]
    code = redirected(submit(idp))["code"]
    now[0] += CODE_SECONDS + 1
    assert exchange(idp, code)[2]["error"] == "invalid_grant"


def test_an_exchange_without_a_code_verifier_is_an_invalid_request(idp):
    code = redirected(submit(idp))["code"]
    assert exchange(idp, code, code_verifier=None)[2]["error"] == "invalid_request"


def test_a_grant_type_other_than_authorization_code_is_refused(idp):
    assert exchange(idp, "x", grant_type="password")[2]["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    "over",
    [{"code_challenge": None}, {"code_challenge_method": "plain"}],
    ids=["no challenge", "plain challenge"],
)
def test_a_sign_in_without_s256_pkce_is_sent_back_as_an_invalid_request(idp, over):
    status, headers, _ = idp.serve("GET", "authorize", b"", authorize_params(**over), {})
    assert redirected((status, headers, b""))["error"] == "invalid_request"


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "http://user@127.0.0.1/cb",
        "http://127.0.0.1/#x",
        "",
    ],
)
def test_a_redirect_uri_off_the_loopback_is_refused_without_a_redirect(idp, uri):
    status, headers, body = idp.serve("GET", "authorize", b"", authorize_params(redirect_uri=uri), {})
    assert (status, "Location" in headers) == (400, False) and b"redirect_uri" in body


def test_cancelling_the_form_sends_the_browser_back_with_access_denied(idp):
    back = redirected(submit(idp, form={"cancel": "1"}))
    assert (back["error"], back["state"]) == ("access_denied", "s-123")


def test_a_form_without_a_user_name_is_shown_again_with_the_reason(idp):
    status, _, body = submit(idp, form={"sub": " "})
    assert status == 400 and 'role="alert"' in body.decode() and "user name" in body.decode()


def test_the_token_endpoint_answers_cors_for_a_page_on_a_loopback_address(idp):
    _, headers, _ = idp.serve("OPTIONS", "token", b"", {}, {"origin": "http://127.0.0.1:9000"})
    assert headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:9000"


def test_the_token_endpoint_answers_no_cors_for_another_site(idp):
    _, headers, _ = idp.serve("OPTIONS", "token", b"", {}, {"origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers
