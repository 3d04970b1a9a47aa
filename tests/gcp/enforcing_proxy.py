"""A proxy in front of fake-gcs-server that enforces what the emulator does not: the bearer token's
Credential Access Boundary.

It knows the tokens the Google simulator issued (``GoogleSimulator.tokens``), maps each JSON-API
request a client makes to what Cloud Storage asks IAM (a permission, a resource name and, for
listing, the list prefix), decides it with the independent evaluator of ``boundary_checker``, and
forwards only what the boundary allows; anything it cannot map is refused. So a client holding a
vended token (gcsfs here) is refused outside its grant as it would be by Cloud Storage, with the
token-to-boundary semantics of ``boundary_checker``.
"""

from __future__ import annotations

import email
import email.policy
import http.client
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from tests.gcp.boundary_checker import Request, allowed

_OBJECT = re.compile(r"^/(?:download/)?storage/v1/b/(?P<bucket>[^/]+)/o/(?P<name>.+)$")
_OBJECTS = re.compile(r"^/storage/v1/b/(?P<bucket>[^/]+)/o/?$")
_UPLOAD = re.compile(r"^/upload/storage/v1/b/(?P<bucket>[^/]+)/o/?$")


def _upload_name(query: dict, headers, body: bytes) -> str | None:
    """The object an upload creates: the ``name`` parameter, or the JSON metadata of a multipart body."""
    if "name" in query:
        return query["name"][0]
    content_type = headers.get("Content-Type", "")
    try:
        if content_type.startswith("multipart/"):
            message = email.message_from_bytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP
            )
            for part in message.iter_parts():
                if part.get_content_type() == "application/json":
                    return json.loads(part.get_content())["name"]
        return json.loads(body or b"{}").get("name")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def iam_request(method: str, target: str, headers, body: bytes) -> Request | None:
    """What Cloud Storage would ask IAM for this JSON-API request, or None when it is not understood."""
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    path = parts.path
    if method == "GET" and (m := _OBJECTS.match(path)):
        return Request.listing(m["bucket"], query["prefix"][0] if "prefix" in query else None)
    if (m := _OBJECT.match(path)) and method in ("GET", "HEAD", "DELETE"):
        permission = "storage.objects.delete" if method == "DELETE" else "storage.objects.get"
        return Request.on_object(permission, unquote(m["bucket"]), unquote(m["name"]))
    if method in ("POST", "PUT") and (m := _UPLOAD.match(path)) and "upload_id" not in query:
        name = _upload_name(query, headers, body)
        return Request.on_object("storage.objects.create", m["bucket"], name) if name else None
    return None


class EnforcingProxy:
    """``url`` forwards to ``upstream`` the requests the bearer token's boundary allows."""

    def __init__(self, upstream: str, google):
        self.upstream = urlsplit(upstream)
        self.google = google
        self.refused: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                verdict = proxy.decide(self.command, self.path, self.headers, body)
                if verdict is not None:
                    status, reason = verdict
                    proxy.refused.append(f"{self.command} {self.path}")
                    data = json.dumps({"error": {"code": status, "message": reason, "errors": []}}).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                status, headers, data = proxy.forward(self.command, self.path, self.headers, body)
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle  # noqa: N815

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def decide(self, method: str, target: str, headers, body: bytes) -> tuple[int, str] | None:
        """None to forward, else the refusal (status, reason)."""
        auth = headers.get("Authorization", "")
        issued = self.google.live(auth[7:]) if auth.startswith("Bearer ") else None
        if issued is None or issued.boundary is None:
            return 401, "a live downscoped token is required"
        request = iam_request(method, target, headers, body)
        if request is None:
            return 403, "a request this proxy does not map to IAM"
        if not allowed(issued.boundary, request):
            return 403, f"{request.permission} on {request.resource_name} is outside the token's boundary"
        return None

    def forward(self, method: str, target: str, headers, body: bytes):
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=10)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length", "connection")}
            forwarded["Content-Length"] = str(len(body))
            connection.request(method, target, body=body, headers=forwarded)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
