"""The local HTTP adapter: stdlib ``ThreadingHTTPServer`` in front of the core and the dev IdP.

Like the cloud adapters it only translates requests and responses.
"""
from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from shared.api import HttpRequest, VendingService
from shared.api.http import problem_response
from shared.errors import Problem, bad_request

from .devidp import DevIdentityProvider

DEV_IDP_PREFIX = "/dev-idp/"


class LocalServer:
    def __init__(self, service: VendingService, idp: DevIdentityProvider | None, host: str = "127.0.0.1",
                 port: int = 7071):
        self.service, self.idp = service, idp
        handler = type("Handler", (_Handler,), {"server_ref": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start_background(self) -> "LocalServer":
        self._thread = threading.Thread(target=self.serve_forever, name="tvs-local", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    server_ref: LocalServer
    protocol_version = "HTTP/1.1"
    server_version = "tvs-local"
    sys_version = ""
    timeout = 30  # a client that stops sending mid-request frees its thread

    def log_message(self, fmt, *args):  # the audit log says what matters; no URLs with tokens on stderr
        pass

    def _read_body(self) -> bytes | None:
        """The body, or None once a 400/411 has been sent (the connection is then closed: the bytes that
        follow cannot be told apart from a next request)."""
        if self.headers.get("Transfer-Encoding"):
            self._refuse(Problem(411, "length-required", "Length required",
                                 "send the body with a Content-Length, not chunked"))
            return None
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not (length.isascii() and length.isdigit()):
            self._refuse(bad_request("Content-Length must be a decimal number of bytes", "bad-content-length"))
            return None
        n = int(length)
        limit = self.server_ref.service.config.limits.max_body_bytes + 1
        body = self.rfile.read(min(n, limit))
        if n > limit:
            self.close_connection = True  # the rest of an oversized body is never read
        return body

    def _refuse(self, problem: Problem) -> None:
        self.close_connection = True
        response = problem_response(problem, str(uuid.uuid4()))
        self._send(problem.status, {**response.headers, "Connection": "close"}, response.body)

    def _send(self, status: int, headers: dict, body: bytes) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            return
        idp = self.server_ref.idp
        if idp is not None and url.path.startswith(DEV_IDP_PREFIX):
            status, payload = idp.handle(self.command, url.path[len(DEV_IDP_PREFIX):], body)
            self._send(status, {"Content-Type": "application/json", "Cache-Control": "no-store"}, json.dumps(payload).encode())
            return
        request = HttpRequest(method=self.command, path=url.path, headers=_joined(self.headers),
                              query=dict(parse_qsl(url.query, keep_blank_values=True)), body=body)
        response = self.server_ref.service.handle(request)
        self._send(response.status, response.headers, response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


def _joined(headers) -> dict[str, str]:
    """Repeated headers joined with ", ", as API Gateway and the Functions host deliver them (RFC 9110 §5.3)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
