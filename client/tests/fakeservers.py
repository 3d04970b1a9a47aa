"""Fakes that answer like the service's HTTP API and like an OpenID provider, on 127.0.0.1.

Both are small ``http.server`` servers on free ports, each in a thread. They record what they
were asked, so tests can check what a command sent (and what it did not).
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fake_jwt(claims: dict) -> str:
    """An unsigned token shaped like a JWT (the client only reads its claims for display)."""
    def part(doc):
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none'})}.{part(claims)}.{secrets.token_urlsafe(16)}"


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body) if self.body else None

    def form(self) -> dict:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class _Server:
    """Runs ``self.route(seen) -> (status, body, headers)`` for every request."""

    def __init__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                            {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length) if length else b"")
                with owner.lock:
                    owner.requests.append(seen)
                status, body, headers = owner.route(seen)
                data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
                self.send_response(status)
                if body is not None and not isinstance(body, bytes):
                    ctype = "application/problem+json" if status >= 400 and "title" in body else "application/json"
                    self.send_header("Content-Type", ctype)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = do_PUT = _serve

            def log_message(self, fmt, *args):
                pass

        self.lock = threading.Lock()
        self.requests: list[Seen] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def seen(self, method: str, path: str) -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def problem(status: int, slug: str, title: str, detail: str, **headers) -> tuple[int, dict, dict]:
    return status, {"type": f"https://tvs.dev/problems/{slug}", "title": title, "status": status, "detail": detail,
                    "request_id": "req-1"}, headers


class FakeService(_Server):
    """Answers like the service's API for three stores: demo-s3 (aws-s3), demo-vast (vast-s3) and
    demo-azure (azure-blob). Bearer tokens must be in ``self.tokens``."""

    KINDS = {"demo-s3": "aws-s3", "demo-vast": "vast-s3", "demo-azure": "azure-blob"}

    def __init__(self):
        self.tokens: set[str] = set()
        self.overrides: dict[tuple[str, str], tuple[int, object, dict]] = {}
        self.lifetime: dict[str, int] = {}    # forced lifetimes per store (else the request's TTL or 900)
        self.s3_endpoint: str | None = None   # endpoint_url of demo-s3 (None: AWS itself)
        self.azure_account_url = "https://acct.blob.core.windows.net"
        self.key_pages: list[list[dict]] = [[]]
        self.revoked: list[str] = []
        self.clock = time.time
        self._serial = itertools.count(1)
        super().__init__()

    def issue_token(self, sub: str = "alice", lifetime: int = 3600) -> str:
        token = fake_jwt({"sub": sub, "exp": int(time.time()) + lifetime, "nonce": secrets.token_hex(8)})
        self.tokens.add(token)
        return token

    def route(self, r: Seen):
        if (r.method, r.path) in self.overrides:
            return self.overrides[(r.method, r.path)]
        if r.path == "/dev-idp/token" and r.method == "POST":
            doc = r.json()
            token = fake_jwt({"sub": doc["sub"], "groups": doc.get("groups", []), "exp": int(time.time()) + 3600})
            self.tokens.add(token)
            return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}, {}
        if r.path == "/api/v1/health":
            return 200, {"status": "ok", "version": "0.1.0"}, {}
        auth = r.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return problem(401, "invalid-token", "The bearer token is missing or not valid", "the token has expired",
                           **{"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if r.path == "/api/v1/stores" and r.method == "GET":
            return 200, {"stores": [{"store": s, "kind": k, "description": "",
                                     "grants": [{"prefix": "", "access": "read", "max_ttl_seconds": 3600},
                                                {"prefix": "users/alice/", "access": "write", "max_ttl_seconds": 3600}]}
                                    for s, k in self.KINDS.items()]}, {}
        if r.path == "/api/v1/credentials" and r.method == "POST":
            return self._vend(r.json())
        if r.path == "/api/v1/credentials" and r.method == "GET":
            page = int(r.query.get("cursor", "p0")[1:])
            nxt = f"p{page + 1}" if page + 1 < len(self.key_pages) else None
            return 200, {"credentials": self.key_pages[page], "next": nxt}, {}
        if r.path.startswith("/api/v1/credentials/") and r.method == "DELETE":
            self.revoked.append(r.path.rsplit("/", 1)[1])
            return 204, None, {}
        if r.path == "/api/v1/signed-urls" and r.method == "POST":
            doc = r.json()
            headers = {"x-ms-blob-type": "BlockBlob"} if doc["method"] == "PUT" else {}
            return 200, {"url": f"https://storage.example/demo/{doc['object']}?sig=urlsig", "method": doc["method"],
                         "headers": headers, "expires_at": iso(time.time() + 900), "store": doc["store"],
                         "object": doc["object"], "credential_id": "sas-0123456789abcdef01234567"}, {}
        return problem(404, "not-found", "Not found", "no such route")

    def _vend(self, doc: dict):
        store = doc["store"]
        if store not in self.KINDS:
            return problem(404, "not-found", "Not found", f"there is no store '{store}'")
        n = next(self._serial)
        now = self.clock()
        life = self.lifetime.get(store, doc.get("ttl_seconds") or 900)
        expires = iso(now + life)
        kind, fmt = self.KINDS[store], doc.get("format", "native")
        if kind == "azure-blob":
            if fmt == "credential_process":
                return problem(400, "bad-format", "The request is not valid",
                               "store 'demo-azure' (azure-blob) does not offer 'credential_process'")
            sas = f"sv=2024-08-04&sr=c&sp=rl&se={expires}&sig=SASSIG{n:04d}"
            url = self.azure_account_url
            creds = {"sas_token": sas, "account_url": url, "account_name": "acct", "container": "demo",
                     "container_url": f"{url}/demo", "sas_url": f"{url}/demo?{sas}"}
            body = {"credential_id": f"sas-{n:024x}", "store": store, "provider": kind,
                    "scope": {"container": "demo", "prefix": doc.get("path", "")}, "access": doc["access"],
                    "issued_at": iso(now), "expires_at": expires, "credentials": creds,
                    "storage_options": {"account_name": "acct", "sas_token": sas,
                                        "account_host": "acct.blob.core.windows.net"}}
            return 200, body, {}
        key, secret = f"ASIA{n:016d}", f"SECRET{n:04d}" + "x" * 30
        session = f"SESSIONTOKEN{n:04d}" if kind == "aws-s3" else None
        cid = key if kind == "aws-s3" else f"vast.{store}.k{n}"
        if fmt == "credential_process":
            out = {"Version": 1, "AccessKeyId": key, "SecretAccessKey": secret, "Expiration": expires}
            if session:
                out["SessionToken"] = session
            return 200, out, {}
        if fmt == "iceberg":
            return 200, {"credential_id": cid, "expires_at": expires,
                         "storage-credentials": [{"prefix": "s3://demo/", "config": {"s3.access-key-id": key}}]}, {}
        endpoint = self.s3_endpoint if kind == "aws-s3" else "https://s3.vast.example"
        creds = {"access_key_id": key, "secret_access_key": secret, "endpoint_url": endpoint, "region": "us-east-1"}
        if kind == "aws-s3":
            creds.update(session_token=session, bucket="demo", path_style=bool(endpoint), expiration=expires)
        options = {"key": key, "secret": secret, "client_kwargs": {"region_name": "us-east-1", "endpoint_url": endpoint}}
        if kind == "vast-s3" or endpoint:
            options["config_kwargs"] = {"s3": {"addressing_style": "path"}}
        return 200, {"credential_id": cid, "store": store, "provider": kind, "scope": {"bucket": "demo"},
                     "access": doc["access"], "issued_at": iso(now), "expires_at": expires, "credentials": creds,
                     "storage_options": options}, {}


class FakeOidc(_Server):
    """An OpenID provider: discovery, device authorization (``authorization_pending`` first), the
    authorization endpoint of a browser flow (it "signs in" at once and redirects with a code),
    PKCE-checked code exchange, refresh tokens (rotated), revocation. Tokens it issues are
    accepted by ``service``."""

    def __init__(self, service: FakeService, *, device: bool = True, pending_polls: int = 2,
                 scopes_supported=("openid", "profile", "offline_access")):
        self.service = service
        self.device = device
        self.pending_polls = pending_polls
        self.deny = False
        self.slow_down_polls = 0  # answer slow_down to this many polls first
        self.refresh_delay = 0.0  # seconds a refresh_token grant takes
        self.scopes_supported = list(scopes_supported)
        self.access_lifetime = 3600
        self.refresh_tokens: set[str] = set()
        self.codes: dict[str, dict] = {}
        self.device_codes: dict[str, int] = {}
        self.authorize_params: list[dict] = []
        self.revoked: list[str] = []
        super().__init__()

    def discovery(self) -> dict:
        doc = {"issuer": self.url, "token_endpoint": f"{self.url}/token", "authorization_endpoint": f"{self.url}/authorize",
               "revocation_endpoint": f"{self.url}/revoke", "jwks_uri": f"{self.url}/jwks",
               "scopes_supported": self.scopes_supported}
        if self.device:
            doc["device_authorization_endpoint"] = f"{self.url}/device"
        return doc

    def _tokens(self, sub: str = "alice") -> dict:
        access = fake_jwt({"sub": sub, "exp": int(time.time()) + self.access_lifetime, "n": secrets.token_hex(8)})
        refresh = "rt-" + secrets.token_urlsafe(24)
        self.service.tokens.add(access)
        self.refresh_tokens.add(refresh)
        return {"access_token": access, "token_type": "Bearer", "expires_in": self.access_lifetime,
                "refresh_token": refresh}

    @staticmethod
    def _error(error: str, description: str = "") -> tuple[int, dict, dict]:
        return 400, {"error": error, "error_description": description}, {}

    def route(self, r: Seen):
        if r.path == "/.well-known/openid-configuration":
            return 200, self.discovery(), {}
        if r.path == "/device" and r.method == "POST" and self.device:
            code = "dc-" + secrets.token_hex(8)
            self.device_codes[code] = 0
            return 200, {"device_code": code, "user_code": "WDJB-MJHT", "verification_uri": f"{self.url}/activate",
                         "expires_in": 600, "interval": 0}, {}
        if r.path == "/authorize" and r.method == "GET":
            q = r.query
            self.authorize_params.append(q)
            if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                return 400, b"bad authorization request", {}
            code = "code-" + secrets.token_hex(8)
            self.codes[code] = q
            return 302, b"", {"Location": q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})}
        if r.path == "/token" and r.method == "POST":
            return self._token(r.form())
        if r.path == "/revoke" and r.method == "POST":
            self.revoked.append(r.form()["token"])
            self.refresh_tokens.discard(r.form()["token"])
            return 200, b"", {}
        return 404, {"error": "not_found"}, {}

    def _token(self, form: dict):
        grant = form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            code = form.get("device_code")
            if code not in self.device_codes:
                return self._error("invalid_grant")
            if self.deny:
                return self._error("access_denied", "the user declined")
            if self.slow_down_polls > 0:
                self.slow_down_polls -= 1
                return self._error("slow_down")
            self.device_codes[code] += 1
            if self.device_codes[code] <= self.pending_polls:
                return self._error("authorization_pending")
            del self.device_codes[code]
            return 200, self._tokens(), {}
        if grant == "authorization_code":
            q = self.codes.pop(form.get("code", ""), None)
            if q is None or form.get("redirect_uri") != q["redirect_uri"] or form.get("client_id") != q["client_id"]:
                return self._error("invalid_grant", "unknown code or redirect_uri")
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != q["code_challenge"]:
                return self._error("invalid_grant", "PKCE verification failed")
            return 200, self._tokens(), {}
        if grant == "refresh_token":
            time.sleep(self.refresh_delay)
            old = form.get("refresh_token")
            if old not in self.refresh_tokens:
                return self._error("invalid_grant", "the refresh token is not valid")
            self.refresh_tokens.discard(old)  # rotation
            return 200, self._tokens(), {}
        return self._error("unsupported_grant_type")
