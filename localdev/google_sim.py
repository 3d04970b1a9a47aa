"""A fake of the Google token services a GCS store talks to: the OAuth 2.0 token endpoint, STS and
IAM Credentials. The local service serves it over HTTP for the ``demo-gcs`` store (the store's
``google_apis_url``); tests call it in process through :meth:`GoogleSimulator.transport`, a
``google.auth.transport.Request``-compatible callable, and make it fail on purpose.

Shapes, from Google's documentation:

* ``POST https://oauth2.googleapis.com/token`` (form ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``,
  ``assertion=<JWT signed with a service-account key>``) -> ``{"access_token", "expires_in": 3599,
  "token_type": "Bearer"}``; a refusal is OAuth's ``{"error": "invalid_grant", "error_description"}`` (400).
* ``POST https://sts.googleapis.com/v1/token`` (RFC 8693 token exchange, form encoded):
  downscoping (``subject_token_type=urn:ietf:params:oauth:token-type:access_token``, ``options`` = the
  URL-quoted Credential Access Boundary) and federation (``audience`` = a workload identity provider,
  ``subject_token_type`` ``...:jwt`` or ``urn:ietf:params:aws:token-type:aws4_request``, ``scope``) ->
  ``{"access_token", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
  "token_type": "Bearer", "expires_in"}``; refusals are OAuth errors (``invalid_request``,
  ``invalid_grant``, ``invalid_target``) with status 400.
* ``POST https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{email}:generateAccessToken``
  (``{"scope": [...], "lifetime": "600s", "delegates": []}``) -> ``{"accessToken", "expireTime"}``;
  ``...:signBlob`` (``{"payload": base64}``) -> ``{"keyId", "signedBlob": base64}``. Refusals are
  Google API errors ``{"error": {"code", "message", "status"}}`` (401 ``UNAUTHENTICATED``, 403
  ``PERMISSION_DENIED``, 400 ``INVALID_ARGUMENT``, 429 ``RESOURCE_EXHAUSTED``, 503 ``UNAVAILABLE``).

* The GCE metadata server (``http://169.254.169.254/``, ``http://metadata.google.internal/computeMetadata/v1/``),
  only when :attr:`GoogleSimulator.metadata_email` names the instance's service account (off by
  default, as off Google): the ping answers ``Metadata-Flavor: Google``;
  ``instance/service-accounts/default/?recursive=true`` -> ``{"email", "scopes", "aliases"}``;
  ``.../token`` -> ``{"access_token", "expires_in", "token_type"}``; ``project/project-id`` -> text.

Chosen where the documentation does not say: the downscoped token's ``expires_in`` is what its
source token has left (a downscoped token inherits its source's lifetime); ``generateAccessToken``
refuses a lifetime over ``token_lifetime_max`` (3,600 s, Google's default without the organization
policy) with 400 ``INVALID_ARGUMENT``; the exact ``message``/``error_description`` texts.

The simulator checks what a client could get wrong: the JWT assertion's signature (against the
public keys of the service-account keys it was given), its audience and lifetime; that a subject or
bearer token is one it issued and has not expired; a boundary's size (at most 10 rules) and shape.
It remembers every token it issued (``tokens``: who, until when, and a downscoped token's boundary)
and every call (``calls``). Faults: :meth:`fail` answers the next calls of one API with a given
status and body.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

OAUTH_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
JWT_TOKEN = "urn:ietf:params:oauth:token-type:jwt"
AWS_TOKEN = "urn:ietf:params:aws:token-type:aws4_request"
APIS = ("oauth2", "sts", "generateAccessToken", "signBlob")


@dataclass
class Issued:
    """A token the simulator handed out."""

    kind: str  # "oauth2", "federated", "impersonated", "downscoped"
    principal: str
    expiry: float
    boundary: dict | None = None
    scopes: tuple[str, ...] = ()


@dataclass
class Answer:
    """What ``google.auth.transport.Request`` returns: ``status``, ``headers``, ``data``."""

    status: int
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    data: bytes = b""


def generate_service_account_key(email: str, project: str) -> dict:
    """A service-account key in Google's JSON shape, with a new RSA key (never leaves this machine)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": str(int.from_bytes(secrets.token_bytes(8), "big")),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": OAUTH_TOKEN_URI,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
        "universe_domain": "googleapis.com",
    }


class GoogleSimulator:
    """Google's OAuth token endpoint, STS and IAM Credentials, in process or on 127.0.0.1."""

    def __init__(self, *, clock: Callable[[], float] = time.time, token_lifetime_max: int = 3600):
        self.clock = clock
        self.token_lifetime_max = token_lifetime_max
        self._lock = threading.Lock()
        self._public_keys: dict[str, Any] = {}  # client_email -> public key of a key we were given
        self._signing_keys: dict[str, Any] = {}  # service account -> private key signBlob signs with
        self.providers: set[str] = set()  # workload identity providers (audiences) STS knows
        self.tokens: dict[str, Issued] = {}
        self.calls: list[dict] = []
        self._faults: dict[str, list[tuple[int, dict]]] = {}
        self.omit_downscoped_expires_in = False
        self.metadata_email: str | None = None  # the instance's service account: a metadata server answers
        self._server: ThreadingHTTPServer | None = None
        self.url: str | None = None

    # -- set-up ---------------------------------------------------------------------------------------
    def trust_key(self, info: dict) -> None:
        """Accept assertions signed with this service-account key (and sign blobs with it)."""
        private = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
        with self._lock:
            self._public_keys[info["client_email"]] = private.public_key()
            self._signing_keys[info["client_email"]] = private

    def add_provider(self, audience: str) -> None:
        with self._lock:
            self.providers.add(audience)

    def public_key(self, email: str):
        """The public key of the key signBlob signs with for ``email`` (made on first use)."""
        return self._signing_key(email).public_key()

    def _signing_key(self, email: str):
        with self._lock:
            if email not in self._signing_keys:
                self._signing_keys[email] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._signing_keys[email]

    def fail(self, api: str, status: int, body: dict, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``api`` (one of :data:`APIS`) with ``status`` and ``body``."""
        if api not in APIS:
            raise ValueError(api)
        with self._lock:
            self._faults.setdefault(api, []).extend([(status, body)] * times)

    def issue(self, kind: str, principal: str, lifetime: float, **extra) -> tuple[str, float]:
        token = f"ya29.{kind}.{secrets.token_urlsafe(24)}"
        expiry = self.clock() + lifetime
        with self._lock:
            self.tokens[token] = Issued(kind, principal, expiry, **extra)
        return token, expiry

    def live(self, token: str | None) -> Issued | None:
        with self._lock:
            issued = self.tokens.get(token or "")
        return issued if issued is not None and issued.expiry > self.clock() else None

    # -- the transport --------------------------------------------------------------------------------
    def transport(self) -> Callable[..., Answer]:
        """A ``google.auth.transport.Request``-compatible callable answering from this simulator."""

        def request(url, method="GET", body=None, headers=None, timeout=None, **kwargs):
            return self.handle(method, url, dict(headers or {}), body or b"")

        return request

    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes | str) -> Answer:
        raw = body.encode() if isinstance(body, str) else body
        parts = urlsplit(url)
        path = parts.path
        headers = {k.lower(): v for k, v in headers.items()}
        if parts.hostname in ("169.254.169.254", "metadata.google.internal"):
            return self._metadata(path, headers)
        if method == "POST" and path == "/token":
            return self._guarded("oauth2", lambda: self._oauth_token(_form(raw)))
        if method == "POST" and path == "/v1/token":
            return self._guarded("sts", lambda: self._sts(_form(raw)))
        if method == "POST" and path.startswith("/v1/projects/-/serviceAccounts/") and ":" in path:
            email, operation = unquote(path.rsplit("/", 1)[1]).rsplit(":", 1)
            if operation in ("generateAccessToken", "signBlob"):
                return self._guarded(operation, lambda: self._iam(operation, email, headers, raw))
        return _api_error(404, "NOT_FOUND", f"no such method: {method} {path}")

    def _guarded(self, api: str, answer: Callable[[], Answer]) -> Answer:
        with self._lock:
            fault = self._faults.get(api, []).pop(0) if self._faults.get(api) else None
        if fault is not None:
            self.calls.append({"api": api, "fault": fault[0]})
            return Answer(fault[0], data=json.dumps(fault[1]).encode())
        return answer()

    # -- the GCE metadata server ----------------------------------------------------------------------
    def _metadata(self, path: str, headers: dict[str, str]) -> Answer:
        email = self.metadata_email
        self.calls.append({"api": "metadata", "path": path})
        if email is None or headers.get("metadata-flavor") != "Google":
            return Answer(404, {"content-type": "text/html"}, b"not found")
        flavor = {"metadata-flavor": "Google", "content-type": "application/json"}
        prefix = "/computeMetadata/v1/"
        if path in ("", "/"):
            return Answer(200, {"metadata-flavor": "Google", "content-type": "text/plain"}, b"computeMetadata/\n")
        if path == prefix + "project/project-id":
            return Answer(
                200,
                {"metadata-flavor": "Google", "content-type": "text/plain"},
                email.split("@")[1].split(".")[0].encode(),
            )
        account = path.removeprefix(prefix + "instance/service-accounts/").split("/")[0]
        if path.startswith(prefix + "instance/service-accounts/") and account in ("default", email):
            scopes = ["https://www.googleapis.com/auth/cloud-platform"]
            if path.endswith("/token"):
                token, _ = self.issue("metadata", email, 3599, scopes=tuple(scopes))
                data = {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
                return Answer(200, flavor, json.dumps(data).encode())
            if path.rstrip("/").endswith(account):
                data = {"email": email, "scopes": scopes, "aliases": ["default"]}
                return Answer(200, flavor, json.dumps(data).encode())
        return Answer(404, {"metadata-flavor": "Google", "content-type": "text/html"}, b"not found")

    # -- OAuth 2.0 token endpoint (service-account keys) ------------------------------------------------
    def _oauth_token(self, form: dict[str, str]) -> Answer:
        self.calls.append({"api": "oauth2", "grant_type": form.get("grant_type")})
        if form.get("grant_type") != JWT_BEARER:
            return _oauth_error("unsupported_grant_type", "Invalid grant_type")
        assertion = form.get("assertion", "")
        try:
            email = jwt.decode(assertion, options={"verify_signature": False}).get("iss", "")
            public = self._public_keys.get(email)
            if public is None:
                return _oauth_error("invalid_grant", "Invalid JWT Signature.")
            claims = jwt.decode(assertion, public, algorithms=["RS256"], audience=OAUTH_TOKEN_URI, leeway=60)
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        if claims["exp"] - claims["iat"] > 3600:
            return _oauth_error("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes)")
        token, _ = self.issue("oauth2", email, 3599, scopes=tuple(claims.get("scope", "").split()))
        return _json({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    # -- STS ------------------------------------------------------------------------------------------
    def _sts(self, form: dict[str, str]) -> Answer:
        call = {"api": "sts", **{k: v for k, v in form.items() if k not in ("subject_token",)}}
        call["subject_token"] = form.get("subject_token")
        self.calls.append(call)
        if form.get("grant_type") != TOKEN_EXCHANGE:
            return _oauth_error("unsupported_grant_type", "Unsupported grant_type.")
        if form.get("requested_token_type") != ACCESS_TOKEN:
            return _oauth_error("invalid_request", "Invalid requested_token_type.")
        kind = form.get("subject_token_type")
        if kind == ACCESS_TOKEN:
            return self._downscope(form)
        if kind in (JWT_TOKEN, AWS_TOKEN):
            return self._federate(form, kind)
        return _oauth_error("invalid_request", "Invalid subject_token_type.")

    def _downscope(self, form: dict[str, str]) -> Answer:
        source = self.live(form.get("subject_token"))
        if source is None:
            return _oauth_error("invalid_grant", "The subject token is invalid or has expired.")
        try:
            options = json.loads(unquote(form.get("options", "")))
            rules = options["accessBoundary"]["accessBoundaryRules"]
        except (ValueError, KeyError, TypeError):
            return _oauth_error("invalid_request", "Invalid options: a Credential Access Boundary is required.")
        why = _boundary_problem(rules)
        if why:
            return _oauth_error("invalid_request", why)
        lifetime = source.expiry - self.clock()
        token, _ = self.issue("downscoped", source.principal, lifetime, boundary=options)
        body = {"access_token": token, "issued_token_type": ACCESS_TOKEN, "token_type": "Bearer"}
        if not self.omit_downscoped_expires_in:
            body["expires_in"] = int(lifetime)
        return _json(body)

    def _federate(self, form: dict[str, str], kind: str) -> Answer:
        audience = form.get("audience", "")
        if audience not in self.providers:
            return _oauth_error(
                "invalid_target", 'The target service indicated by the "audience" parameters is invalid.'
            )
        subject = form.get("subject_token", "")
        if kind == AWS_TOKEN:
            try:
                request = json.loads(unquote(subject))
                names = {h["key"].lower(): h["value"] for h in request["headers"]}
                valid = (
                    request["method"] == "POST"
                    and "GetCallerIdentity" in request["url"]
                    and names["authorization"].startswith("AWS4-HMAC-SHA256 ")
                    and names["x-goog-cloud-target-resource"] == audience
                )
            except (ValueError, KeyError, TypeError, AttributeError):
                valid = False
            if not valid:
                return _oauth_error("invalid_grant", "The AWS subject token is not a signed GetCallerIdentity request.")
            principal = "aws:" + names["authorization"].split("Credential=", 1)[1].split("/", 1)[0]
        else:
            try:
                claims = jwt.decode(subject, options={"verify_signature": False})
            except jwt.PyJWTError:
                return _oauth_error("invalid_grant", "The subject token is not a valid JWT.")
            principal = f"{claims.get('iss')}|{claims.get('sub')}"
        token, _ = self.issue("federated", principal, 3600, scopes=tuple(form.get("scope", "").split()))
        return _json(
            {"access_token": token, "issued_token_type": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600}
        )

    # -- IAM Credentials ------------------------------------------------------------------------------
    def _iam(self, operation: str, email: str, headers: dict[str, str], raw: bytes) -> Answer:
        bearer = headers.get("authorization", "")
        caller = self.live(bearer[7:] if bearer.startswith("Bearer ") else None)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        self.calls.append({"api": operation, "email": email, "body": body})
        if caller is None:
            return _api_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if not isinstance(body, dict):
            return _api_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if operation == "generateAccessToken":
            lifetime = str(body.get("lifetime", "3600s"))
            try:
                seconds = int(lifetime.rstrip("s"))
            except ValueError:
                return _api_error(400, "INVALID_ARGUMENT", "Invalid value at 'lifetime'.")
            if not 1 <= seconds <= self.token_lifetime_max:
                return _api_error(
                    400, "INVALID_ARGUMENT", f"Lifetime must be at most {self.token_lifetime_max} seconds."
                )
            token, expiry = self.issue("impersonated", email, seconds, scopes=tuple(body.get("scope") or ()))
            when = datetime.fromtimestamp(int(expiry), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return _json({"accessToken": token, "expireTime": when})
        try:
            payload = base64.b64decode(body["payload"], validate=True)
        except (KeyError, ValueError, TypeError):
            return _api_error(400, "INVALID_ARGUMENT", "Invalid value at 'payload'.")
        signature = self._signing_key(email).sign(payload, padding.PKCS1v15(), hashes.SHA256())
        return _json({"keyId": secrets.token_hex(20), "signedBlob": base64.b64encode(signature).decode()})

    # -- over HTTP ------------------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 in a daemon thread; returns the base URL (a store's ``google_apis_url``)."""
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                answer = simulator.handle("POST", self.path, dict(self.headers), self.rfile.read(length))
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.data)))
                self.end_headers()
                self.wfile.write(answer.data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="google-sim", daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _form(raw: bytes) -> dict[str, str]:
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _json(doc: dict, status: int = 200) -> Answer:
    return Answer(status, data=json.dumps(doc).encode())


def _oauth_error(code: str, description: str, status: int = 400) -> Answer:
    return _json({"error": code, "error_description": description}, status)


def _api_error(status: int, code: str, message: str) -> Answer:
    return _json({"error": {"code": status, "message": message, "status": code}}, status)


def _boundary_problem(rules: object) -> str | None:
    if not isinstance(rules, list) or not rules:
        return "The Credential Access Boundary must contain at least one rule."
    if len(rules) > 10:
        return "The Credential Access Boundary can contain at most 10 access boundary rules."
    for rule in rules:
        if not isinstance(rule, dict):
            return "Invalid access boundary rule."
        resource = rule.get("availableResource", "")
        if not isinstance(resource, str) or not resource.startswith("//storage.googleapis.com/projects/_/buckets/"):
            return "availableResource must be a Cloud Storage bucket."
        permissions = rule.get("availablePermissions")
        if not permissions or any(not str(p).startswith("inRole:") for p in permissions):
            return "availablePermissions must be roles prefixed with 'inRole:'."
        condition = rule.get("availabilityCondition")
        if condition is not None and not (isinstance(condition, dict) and isinstance(condition.get("expression"), str)):
            return "availabilityCondition must have an expression."
    return None


def ensure_service_account_key(path, email: str, project: str) -> dict:
    """The service-account key at ``path``, made (owner-readable only) when there is none yet."""
    import os
    from pathlib import Path

    path = Path(path)
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    info = generate_service_account_key(email, project)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh, indent=2)
    return info
