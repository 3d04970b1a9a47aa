"""Signing in: OAuth 2.0 device authorization grant (RFC 8628), authorization code + PKCE on a
loopback redirect (RFC 7636, RFC 8252), refresh tokens, and the local service's development
identity provider.

Which flow: the device grant when the provider's discovery document offers a
``device_authorization_endpoint`` (Entra ID, Keycloak), else the code flow in a browser (e.g.
Cognito's hosted UI). Both are public-client flows: no client secret.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import html
import http.server
import secrets
import sys
import time
import webbrowser
from typing import Callable, TextIO
from urllib.parse import parse_qs, urlencode, urlsplit

from . import _http
from .errors import IdentityError, TvsError, UsageError

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _json_answer(resp: _http.Response, what: str) -> dict:
    doc = resp.json_or_none()
    if resp.status == 200 and isinstance(doc, dict):
        return doc
    if isinstance(doc, dict) and isinstance(doc.get("error"), str):
        raise IdentityError(doc["error"], str(doc.get("error_description") or "")[:300])
    raise IdentityError("unexpected_answer", f"{what} answered HTTP {resp.status}")


def discover(issuer: str, *, timeout: float = 10.0, ca_file: str | None = None) -> dict:
    """The provider's OpenID / OAuth discovery document (``/.well-known/openid-configuration``)."""
    base = _http.check_url(issuer, "the issuer")
    url = base if base.endswith("/.well-known/openid-configuration") else base + "/.well-known/openid-configuration"
    doc = _json_answer(_http.send("GET", url, timeout=timeout, ca_file=ca_file), "the discovery document")
    if not isinstance(doc.get("token_endpoint"), str):
        raise IdentityError("invalid_discovery", f"{url} names no token_endpoint")
    for name in ("token_endpoint", "device_authorization_endpoint", "authorization_endpoint", "revocation_endpoint"):
        if isinstance(doc.get(name), str):
            _http.check_url(doc[name], f"the provider's {name}")
    return doc


def requested_scopes(discovery: dict, scopes: list[str]) -> list[str]:
    """``scopes`` (default ``openid``), plus ``offline_access`` where the provider advertises it
    (Entra ID and Keycloak hand out a refresh token only for it; Cognito does not know it)."""
    out = list(dict.fromkeys(scopes or ["openid"]))
    supported = discovery.get("scopes_supported")
    if isinstance(supported, list) and "offline_access" in supported and "offline_access" not in out:
        out.append("offline_access")
    return out


def _post_token(token_endpoint: str, form: dict, timeout: float, ca_file: str | None) -> _http.Response:
    return _http.send("POST", token_endpoint, form=form, timeout=timeout, ca_file=ca_file)


# -- device authorization grant -------------------------------------------------------------------
def device_flow(discovery: dict, client_id: str, scopes: list[str], *, out: TextIO | None = None,
                sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                timeout: float = 10.0, ca_file: str | None = None) -> dict:
    """RFC 8628: ask for a user code, tell the person where to enter it, poll until they did."""
    out = out or sys.stderr
    start = _json_answer(_http.send("POST", discovery["device_authorization_endpoint"],
                                    form={"client_id": client_id, "scope": " ".join(scopes)},
                                    timeout=timeout, ca_file=ca_file), "the device authorization endpoint")
    device_code, user_code = start.get("device_code"), start.get("user_code")
    uri = start.get("verification_uri") or start.get("verification_url")  # older Entra ID endpoints say _url
    if not all(isinstance(v, str) and v for v in (device_code, user_code, uri)):
        raise IdentityError("invalid_response", "the device authorization answer lacks device_code, user_code or "
                                                "verification_uri")
    complete = start.get("verification_uri_complete")
    print(f"To sign in, open {uri} and enter the code {user_code}", file=out)
    if isinstance(complete, str) and complete:
        print(f"(or open {complete})", file=out)
    out.flush()
    interval = start.get("interval")
    interval = 5.0 if not isinstance(interval, (int, float)) or isinstance(interval, bool) else max(0.0, float(interval))
    deadline = clock() + float(start.get("expires_in") or 900)
    while True:
        if clock() >= deadline:
            raise IdentityError("expired_token", "the code was not entered in time; run 'tvs login' again")
        sleep(interval)
        resp = _post_token(discovery["token_endpoint"], {"grant_type": DEVICE_GRANT, "device_code": device_code,
                                                         "client_id": client_id}, timeout, ca_file)
        try:
            return _json_answer(resp, "the token endpoint")
        except IdentityError as exc:
            if exc.error == "authorization_pending":
                continue
            if exc.error == "slow_down":  # RFC 8628 §3.5: wait 5 s longer from now on
                interval += 5
                continue
            if exc.error == "access_denied":
                raise IdentityError("access_denied", "the sign-in was declined") from None
            raise


# -- authorization code + PKCE on a loopback redirect ---------------------------------------------
def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) of RFC 7636."""
    verifier = secrets.token_urlsafe(64)  # 86 characters of the unreserved set
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return verifier, challenge


class _Callback(http.server.BaseHTTPRequestHandler):
    server: "_CallbackServer"

    def do_GET(self):  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        if parts.path != "/callback":
            self.send_error(404)
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        srv = self.server
        if not hmac.compare_digest(query.get("state", ""), srv.expected_state):
            srv.result = ("error", "state_mismatch", "the answer's state does not match this sign-in")
            self._page(400, "This sign-in answer does not belong to the running 'tvs login'. Nothing was done.")
        elif "error" in query:
            srv.result = ("error", query["error"], query.get("error_description", ""))
            self._page(400, f"The sign-in failed: {query['error']}. You may close this window.")
        elif query.get("code"):
            srv.result = ("code", query["code"], "")
            self._page(200, "You are signed in to tvs. You may close this window.")
        else:
            srv.result = ("error", "invalid_request", "the answer has no code")
            self._page(400, "The sign-in answer has no code.")

    def _page(self, status: int, text: str) -> None:
        body = f"<!doctype html><title>tvs</title><p>{html.escape(text)}</p>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):  # the query holds the code: log nothing
        pass


class _CallbackServer(http.server.HTTPServer):
    expected_state = ""
    result: tuple[str, str, str] | None = None


def code_flow(discovery: dict, client_id: str, scopes: list[str], *, redirect_port: int | None = None,
              redirect_host: str = "127.0.0.1",
              open_browser: Callable[[str], object] | None = webbrowser.open, out: TextIO | None = None,
              wait_seconds: float = 300.0, timeout: float = 10.0, ca_file: str | None = None) -> dict:
    """Authorization code flow with PKCE (S256); the answer comes to http://127.0.0.1:<port>/callback.

    ``redirect_host="localhost"`` names the same listener ``http://localhost:<port>/callback``, for
    providers that accept plain http only for ``localhost`` (Cognito).
    """
    if redirect_host not in ("127.0.0.1", "localhost"):
        raise UsageError("the redirect host is 127.0.0.1 or localhost")
    out = out or sys.stderr
    if not isinstance(discovery.get("authorization_endpoint"), str):
        raise IdentityError("invalid_discovery", "the provider offers neither a device_authorization_endpoint nor an "
                                                 "authorization_endpoint")
    try:
        server = _CallbackServer(("127.0.0.1", redirect_port or 0), _Callback)
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{redirect_port or 0} for the sign-in answer: "
                         f"{exc.strerror}") from None
    with server:
        server.expected_state = secrets.token_urlsafe(32)
        redirect_uri = f"http://{redirect_host}:{server.server_address[1]}/callback"
        verifier, challenge = pkce_pair()
        query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                           "scope": " ".join(scopes), "state": server.expected_state, "code_challenge": challenge,
                           "code_challenge_method": "S256"})
        endpoint = discovery["authorization_endpoint"]
        url = endpoint + ("&" if "?" in endpoint else "?") + query
        print(f"To sign in, open this address in a browser:\n  {url}", file=out)
        out.flush()
        if open_browser is not None:
            try:
                open_browser(url)
            except Exception:  # no browser here: the printed address is enough
                pass
        deadline = time.monotonic() + wait_seconds
        while server.result is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise IdentityError("timeout", f"no sign-in answer came back within {wait_seconds:g} s")
            server.timeout = min(left, 1.0)
            server.handle_request()
        kind, value, description = server.result
        if kind == "error":
            raise IdentityError(value, description)
    resp = _post_token(discovery["token_endpoint"], {"grant_type": "authorization_code", "code": value,
                                                     "redirect_uri": redirect_uri, "client_id": client_id,
                                                     "code_verifier": verifier}, timeout, ca_file)
    return _json_answer(resp, "the token endpoint")


# -- refresh, revoke, development tokens ----------------------------------------------------------
def refresh(token_endpoint: str, client_id: str, refresh_token: str, scopes: list[str] | None = None, *,
            timeout: float = 10.0, ca_file: str | None = None) -> dict:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    if scopes:
        form["scope"] = " ".join(scopes)
    return _json_answer(_post_token(token_endpoint, form, timeout, ca_file), "the token endpoint")


def revoke(revocation_endpoint: str, client_id: str, token: str, hint: str = "refresh_token", *,
           timeout: float = 5.0, ca_file: str | None = None) -> bool:
    """RFC 7009, best effort: True when the provider said 200."""
    try:
        resp = _http.send("POST", revocation_endpoint, form={"token": token, "token_type_hint": hint,
                                                              "client_id": client_id},
                          timeout=timeout, ca_file=ca_file)
    except TvsError:
        return False
    return resp.status == 200


def dev_token(service: str, sub: str, groups: list[str], *, timeout: float = 10.0, ca_file: str | None = None) -> dict:
    """A token of the local service's development identity provider (local mode only)."""
    url = _http.check_url(service, "the service") + "/dev-idp/token"
    resp = _http.send("POST", url, json_body={"sub": sub, "groups": groups}, timeout=timeout, ca_file=ca_file)
    if resp.status == 404:
        raise TvsError(f"{_http.without_query(url)} does not exist: only a local service (TVS_MODE=local) has the "
                       "development identity provider")
    doc = resp.json_or_none()
    if resp.status != 200 or not isinstance(doc, dict):
        detail = doc.get("detail") if isinstance(doc, dict) else None
        raise TvsError(f"the development identity provider answered {resp.status}" + (f": {detail}" if detail else ""))
    return doc
