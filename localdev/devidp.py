"""The development identity provider (local mode only; docs/api.md, Development identity provider).

Issues ES256 access tokens for any subject, groups and roles it is asked for, so demos and tests can
play every role (the access-manager roles such as ``org_demo_access`` go in ``roles``), and make
expired or foreign tokens on purpose through ``claims``.

For the self-service page it is also an OAuth 2.0 authorization server for public clients: the
authorization code flow with PKCE (RFC 7636, ``S256`` only). ``GET /authorize`` shows a form to
pick a demo user and groups (no password); the form answers with a redirect carrying a one-time
code, which ``POST /token`` exchanges for a token when the code verifier matches the challenge.
Redirects go to loopback addresses only: this provider hands out a token to anyone who asks.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

DEV_AUDIENCE = "api://tvs-local"
DEFAULT_LIFETIME = 3600
DEMO_GROUPS = ("demo-users", "demo-admins")  # the groups of the embedded default's grants
CODE_SECONDS = 60  # an authorization code is exchanged at once by the page, or not at all
MAX_CODES = 1000
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
CORS_ROUTES = (".well-known/openid-configuration", "jwks", "token")
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}\Z")  # RFC 7636 §4.1
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}\Z")  # base64url of a SHA-256, unpadded
_GROUP = re.compile(r"^[A-Za-z0-9._:@-]{1,64}\Z")

Reply = tuple[int, dict[str, str], bytes]

STYLE = b"""body{font:1rem/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#f4f6f8}
main{max-width:32rem;margin:2rem auto;padding:1.5rem;background:#fff;border:1px solid #c8ced6;border-radius:8px}
h1{font-size:1.4rem;margin-top:0}label{display:block;font-weight:600;margin-top:1rem}
input[type=text],input[type=number]{width:100%;box-sizing:border-box;font:inherit;padding:.5rem;
border:1px solid #5a6470;border-radius:4px}
fieldset{margin-top:1rem;border:1px solid #c8ced6;border-radius:4px}legend{font-weight:600}
fieldset label{display:inline;font-weight:400;margin:0 1rem 0 .25rem}
.hint{color:#4a525c;font-size:.9rem;margin:.25rem 0 0}
.actions{margin-top:1.5rem;display:flex;gap:.75rem;flex-wrap:wrap}
button{font:inherit;padding:.6rem 1.2rem;border-radius:4px;border:2px solid #0b5cad;cursor:pointer}
.primary{background:#0b5cad;color:#fff}.secondary{background:#fff;color:#0b5cad}
:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px}code{word-break:break-all}
"""


@dataclass(frozen=True)
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    sub: str
    groups: tuple[str, ...]
    lifetime: int
    expires: float


class DevIdentityProvider:
    def __init__(self, issuer: str, audience: str = DEV_AUDIENCE, groups: tuple[str, ...] = DEMO_GROUPS):
        self.issuer = issuer
        self.audience = audience
        self.groups = groups
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.kid = uuid.uuid4().hex[:16]
        self._jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self._key.public_key()))
        self._jwk.update({"kid": self.kid, "use": "sig", "alg": "ES256"})
        self._codes: dict[str, _Code] = {}
        self._codes_lock = threading.Lock()
        self.clock = time.monotonic  # when codes expire (tests move it)

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/jwks",
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "id_token_signing_alg_values_supported": ["ES256"],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "subject_types_supported": ["public"],
        }

    def jwks(self) -> dict:
        return {"keys": [self._jwk]}

    def mint(
        self, sub: str, groups: list[str] | None = None, claims: dict | None = None, roles: list[str] | None = None
    ) -> dict:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "iat": now,
            "nbf": now,
            "exp": now + DEFAULT_LIFETIME,
            "jti": uuid.uuid4().hex,
            "groups": list(groups or []),
        }
        if roles:
            body["roles"] = list(roles)
        body.update(claims or {})
        token = jwt.encode(body, self._key, algorithm="ES256", headers={"kid": self.kid, "typ": "at+jwt"})
        return {"access_token": token, "token_type": "Bearer", "expires_in": max(0, int(body["exp"]) - now)}

    # -- HTTP ---------------------------------------------------------------------------------------
    def handle(self, method: str, subpath: str, body: bytes) -> tuple[int, dict]:
        """Serve a JSON route of ``/dev-idp/<subpath>``; returns (status, JSON body)."""
        status, _, payload = self.serve(method, subpath, body, {}, {"content-type": "application/json"})
        return status, json.loads(payload)

    def serve(self, method: str, subpath: str, body: bytes, query: dict[str, str], headers) -> Reply:
        """Serve ``/dev-idp/<subpath>``: (status, headers, body). The JSON routes answer CORS requests from
        pages on a loopback address, as a real provider does for the origins of its public clients."""
        status, out, payload = self._route(method, subpath, body, query, headers)
        origin = headers.get("origin") or ""
        if subpath in CORS_ROUTES and _loopback_origin(origin):
            out = {**out, "Access-Control-Allow-Origin": origin, "Vary": "Origin"}
            if method == "OPTIONS":
                out.update(
                    {
                        "Access-Control-Allow-Methods": "GET, POST",
                        "Access-Control-Allow-Headers": "content-type, accept",
                        "Access-Control-Max-Age": "600",
                    }
                )
        return status, out, payload

    def _route(self, method: str, subpath: str, body: bytes, query: dict[str, str], headers) -> Reply:
        if method == "OPTIONS" and subpath in CORS_ROUTES:
            return 204, {}, b""
        if method == "GET" and subpath == ".well-known/openid-configuration":
            return _json(200, self.discovery())
        if method == "GET" and subpath == "jwks":
            return _json(200, self.jwks())
        if method == "GET" and subpath == "style.css":
            return 200, {"Content-Type": "text/css; charset=utf-8", "X-Content-Type-Options": "nosniff"}, STYLE
        if subpath == "authorize" and method in ("GET", "POST"):
            params = query if method == "GET" else _form(body)
            return self._authorize(method, params)
        if method == "POST" and subpath == "token":
            ctype = (headers.get("content-type") or "").split(";")[0].strip().lower()
            if ctype == "application/x-www-form-urlencoded":
                return self._exchange(_form(body))
            return self._token(body)
        return _json(404, _about_blank(404, "Not found", "no such dev-idp route"))

    def _token(self, body: bytes) -> Reply:
        try:
            req = json.loads(body or b"{}")
            sub = req["sub"]
            groups = req.get("groups", [])
            roles = req.get("roles", [])
            claims = req.get("claims", {})
            if (
                not isinstance(sub, str)
                or not sub
                or not isinstance(groups, list)
                or not isinstance(roles, list)
                or not all(isinstance(r, str) for r in roles)
                or not isinstance(claims, dict)
            ):
                raise ValueError
            return _json(200, self.mint(sub, groups, claims, roles), token=True)
        except (ValueError, KeyError, TypeError, RecursionError, OverflowError):
            detail = 'send {"sub": str, "groups": [str], "roles": [str], "claims": {}} (exp, iat and nbf numbers)'
            return _json(400, _about_blank(400, "Bad request", detail))

    # -- authorization code flow with PKCE -------------------------------------------------------------
    def _authorize(self, method: str, params: dict[str, str]) -> Reply:
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if not client_id or len(client_id) > 256 or not client_id.isprintable():
            return _page(400, "Sign-in refused", "The request names no client_id.")
        if not _loopback_redirect(redirect_uri):
            return _page(
                400,
                "Sign-in refused",
                "redirect_uri must be an http(s) URL on a loopback address (127.0.0.1, localhost or [::1]), without a "
                "fragment: the development identity provider hands out tokens to anyone who asks.",
            )
        state = params.get("state", "")[:512]
        if params.get("response_type") != "code":
            return _back(redirect_uri, state, error="unsupported_response_type", description="response_type: code")
        if params.get("code_challenge_method") != "S256" or not _CHALLENGE.match(params.get("code_challenge", "")):
            return _back(
                redirect_uri, state, error="invalid_request", description="PKCE is required: code_challenge with S256"
            )
        if method == "GET":
            return self._form_page(params, redirect_uri)
        if "cancel" in params:
            return _back(redirect_uri, state, error="access_denied", description="sign-in cancelled")
        sub = params.get("sub", "").strip()
        groups = [g for g in self.groups if params.get(f"group-{g}") == "on"]
        groups += [g for g in re.split(r"[\s,]+", params.get("other_groups", "")) if g]
        lifetime = params.get("lifetime", str(DEFAULT_LIFETIME)).strip()
        if not sub or len(sub) > 128 or not sub.isprintable():
            return self._form_page(params, redirect_uri, "Type a user name of 1-128 characters.")
        if not all(_GROUP.match(g) for g in groups):
            return self._form_page(params, redirect_uri, "Group names are letters, digits and . _ : @ - only.")
        if not (lifetime.isascii() and lifetime.isdigit() and 1 <= int(lifetime) <= 86_400):
            return self._form_page(params, redirect_uri, "The token lifetime is a number of seconds from 1 to 86400.")
        code = secrets.token_urlsafe(32)
        grant = _Code(
            client_id,
            redirect_uri,
            params["code_challenge"],
            sub,
            tuple(dict.fromkeys(groups)),
            int(lifetime),
            self.clock() + CODE_SECONDS,
        )
        with self._codes_lock:
            now = self.clock()
            for old in [c for c, g in self._codes.items() if g.expires < now]:
                del self._codes[old]
            if len(self._codes) >= MAX_CODES:
                return _page(503, "Too many sign-ins at once", "Try again in a minute.")
            self._codes[code] = grant
        return _back(redirect_uri, state, code=code)

    def _form_page(self, params: dict[str, str], redirect_uri: str, error: str = "") -> Reply:
        e = html.escape
        hidden = (
            "".join(
                f'<input type="hidden" name="{name}" value="{e(params.get(name, ""))}">'
                for name in ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge")
            )
            + '<input type="hidden" name="code_challenge_method" value="S256">'
        )
        checked = {g for g in self.groups if params.get(f"group-{g}") == "on"} if "sub" in params else {"demo-users"}
        boxes = "".join(
            f'<input type="checkbox" id="group-{e(g)}" name="group-{e(g)}"{" checked" if g in checked else ""}>'
            f'<label for="group-{e(g)}">{e(g)}</label>'
            for g in self.groups
        )
        alert = f'<p role="alert" id="error" class="hint">{e(error)}</p>' if error else ""
        described = "sub-hint error" if error else "sub-hint"
        origin = urlsplit(redirect_uri)
        doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development sign-in</title><link rel="stylesheet" href="style.css"></head>
<body><main>
<h1>Development sign-in</h1>
<p>This is the local service's development identity provider. Pick who you want to be: there is no
password. You will be sent back to <code>{e(origin.scheme)}://{e(origin.netloc)}</code>.</p>
{alert}
<form method="post" action="authorize">{hidden}
<label for="sub">User name</label>
<input type="text" id="sub" name="sub" value="{e(params.get("sub", "alice"))}" required maxlength="128"
 autocomplete="username" aria-describedby="{described}">
<p class="hint" id="sub-hint">The subject of the token, e.g. alice or bob.</p>
<fieldset><legend>Groups</legend>{boxes}</fieldset>
<label for="other_groups">Other groups</label>
<input type="text" id="other_groups" name="other_groups" value="{e(params.get("other_groups", ""))}"
 aria-describedby="other-hint">
<p class="hint" id="other-hint">Separated by spaces or commas; may be empty.</p>
<label for="lifetime">Token lifetime in seconds</label>
<input type="number" id="lifetime" name="lifetime" min="1" max="86400"
 value="{e(params.get("lifetime", str(DEFAULT_LIFETIME)))}" aria-describedby="lifetime-hint">
<p class="hint" id="lifetime-hint">A short one shows what happens when a session expires.</p>
<div class="actions"><button type="submit" class="primary">Sign in</button>
<button type="submit" name="cancel" value="1" class="secondary" formnovalidate>Cancel</button></div>
</form></main></body></html>
"""
        csp = (
            "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'; "
            f"form-action 'self' {origin.scheme}://{origin.netloc}"
        )
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": csp,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
        }
        return (400 if error else 200), headers, doc.encode()

    def _exchange(self, params: dict[str, str]) -> Reply:
        """``grant_type=authorization_code``: a one-time code, its client, redirect URI and PKCE verifier."""
        if params.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "grant_type must be authorization_code")
        missing = [n for n in ("code", "redirect_uri", "client_id", "code_verifier") if not params.get(n)]
        if missing:
            return _oauth_error("invalid_request", f"missing {', '.join(missing)}")
        with self._codes_lock:
            grant = self._codes.pop(params["code"], None)  # single use, whatever follows
        if grant is None or grant.expires < self.clock():
            return _oauth_error("invalid_grant", "the code is unknown, used or expired")
        if (params["client_id"], params["redirect_uri"]) != (grant.client_id, grant.redirect_uri):
            return _oauth_error("invalid_grant", "the code was issued to another client or redirect_uri")
        verifier = params["code_verifier"]
        if not _VERIFIER.match(verifier) or not secrets.compare_digest(_s256(verifier), grant.challenge):
            return _oauth_error("invalid_grant", "the code_verifier does not match the code_challenge")
        now = int(time.time())
        token = self.mint(grant.sub, list(grant.groups), {"exp": now + grant.lifetime})
        return _json(200, token, token=True)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _loopback_redirect(uri: str) -> bool:
    parts = urlsplit(uri)
    try:
        parts.port  # noqa: B018 - a malformed port raises
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and parts.hostname in LOOPBACK_HOSTS
        and "@" not in parts.netloc
        and not parts.fragment
        and len(uri) <= 2048
        and uri.isprintable()
    )


def _loopback_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    return _loopback_redirect(origin) and not parts.path and not parts.query


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=64)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[-1] for k, v in pairs.items()}


def _back(redirect_uri: str, state: str, **values: str) -> Reply:
    """A 303 to the client's redirect URI with ``code`` (or ``error``) and ``state`` in its query."""
    params = {"code": values["code"]} if "code" in values else {"error": values["error"]}
    if "description" in values:
        params["error_description"] = values["description"]
    if state:
        params["state"] = state
    joiner = "&" if urlsplit(redirect_uri).query else "?"
    location = redirect_uri + joiner + urlencode(params)
    return 303, {"Location": location, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}, b""


def _page(status: int, title: str, text: str) -> Reply:
    doc = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<link rel="stylesheet" href="style.css"></head><body><main><h1>{html.escape(title)}</h1>'
        f"<p>{html.escape(text)}</p></main></body></html>"
    )
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": "default-src 'none'; style-src 'self'; frame-ancestors 'none'",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return status, headers, doc.encode()


def _json(status: int, payload: dict, token: bool = False) -> Reply:
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    if token:
        headers["Pragma"] = "no-cache"
    return status, headers, json.dumps(payload).encode()


def _oauth_error(error: str, description: str) -> Reply:
    """RFC 6749 §5.2."""
    return _json(400, {"error": error, "error_description": description}, token=True)


def _about_blank(status: int, title: str, detail: str) -> dict:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail}
