"""The local HTTP adapter: stdlib ``ThreadingHTTPServer`` in front of the core and the dev IdP.

Like the cloud adapters it only translates requests and responses.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from shared.api import HttpRequest, VendingService
from shared.api.http import Headers, problem_response
from shared.errors import Problem, bad_request, problem

from .devidp import DevIdentityProvider

DEV_IDP_PREFIX = "/dev-idp/"
# How long a request body may take to arrive once its headers have: a client that announces more
# bytes than it sends gets a 400 after this, instead of holding a handler thread for the idle timeout.
BODY_TIMEOUT_SECONDS = 5.0
# Requests the core answers at once (the others wait their turn in arrival order, see FifoGate).
CONCURRENT_REQUESTS = 8


class FifoGate:
    """At most ``slots`` holders at once, admitted in arrival order.

    Every connection has its thread (an idle keep-alive connection costs a blocked thread, no CPU),
    but only a few run the core at a time, first come first served: with dozens of threads runnable
    at once, the interpreter lock hands the CPU round unfairly and a few requests wait far longer
    than the rest (bench/bench_load.py)."""

    def __init__(self, slots: int):
        self._free = slots
        self._lock = threading.Lock()
        self._waiting: deque[threading.Event] = deque()

    def __enter__(self) -> None:
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the slot is handed over by the holder that leaves

    def __exit__(self, *exc) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


class _ThreadingServer(ThreadingHTTPServer):
    # The listen backlog. socketserver's default of 5 drops the connections of a burst beyond it, and
    # their clients retry only after a second: 64 concurrent clients then see a p99 a hundred times the
    # p50 (bench/bench_load.py). The kernel caps it at net.core.somaxconn.
    request_queue_size = 1024
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client that went away mid-answer (a browser leaving a page) is no error worth a traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class LocalServer:
    def __init__(
        self,
        service: VendingService,
        idp: DevIdentityProvider | None,
        host: str = "127.0.0.1",
        port: int = 7071,
        body_timeout_seconds: float = BODY_TIMEOUT_SECONDS,
    ):
        self.service, self.idp = service, idp
        self.gate = FifoGate(CONCURRENT_REQUESTS)
        handler = type("Handler", (_Handler,), {"server_ref": self, "body_timeout": body_timeout_seconds})
        self.httpd = _ThreadingServer((host, port), handler)
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start_background(self) -> LocalServer:
        self._thread = threading.Thread(target=self.serve_forever, name="tvs-local", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving and frees the port; safe on a server that never started (shutdown would wait forever)."""
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread = None
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    server_ref: LocalServer
    protocol_version = "HTTP/1.1"
    server_version = "tvs-local"
    sys_version = ""
    timeout = 30  # a client that stops sending mid-request frees its thread
    body_timeout = BODY_TIMEOUT_SECONDS

    def log_message(self, fmt, *args):  # the audit log says what matters; no URLs with tokens on stderr
        pass

    def _read_body(self) -> bytes | None:
        """The body, or None once a 400/411 has been sent (the connection is then closed: the bytes that
        follow cannot be told apart from a next request)."""
        if self.headers.get("Transfer-Encoding"):
            self._refuse(problem("length-required", "send the body with a Content-Length, not chunked"))
            return None
        values = {v.strip() for field in self.headers.get_all("Content-Length") or () for v in field.split(",")}
        if not values:
            return b""
        if len(values) > 1:  # RFC 9112 §6.3: differing lengths make the framing invalid
            self._refuse(bad_request("the request carries differing Content-Length values", "bad-content-length"))
            return None
        length = values.pop()
        if not (length.isascii() and length.isdigit()):
            self._refuse(bad_request("Content-Length must be a decimal number of bytes", "bad-content-length"))
            return None
        n = int(length)
        limit = self.server_ref.service.config.limits.max_body_bytes + 1
        want = min(n, limit)
        body = self._read_exactly(want)
        if len(body) < want:
            self._refuse(bad_request(f"the body ended before its Content-Length of {n} bytes", "body-incomplete"))
            return None
        if n > limit:
            self.close_connection = True  # the rest of an oversized body is never read
        return body

    def _read_exactly(self, n: int) -> bytes:
        """Up to ``n`` bytes, within ``body_timeout`` for the whole body (a client trickling bytes cannot
        stretch it); fewer when the client stops sending or closes."""
        deadline = time.monotonic() + self.body_timeout
        chunks, got = [], 0
        try:
            while got < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.connection.settimeout(left)
                chunk = self.rfile.read1(n - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        except TimeoutError:
            pass
        finally:
            self.connection.settimeout(self.timeout)
        return b"".join(chunks)

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
        idp = self.server_ref.idp
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        if idp is not None and url.path.startswith(DEV_IDP_PREFIX):
            # Never behind the gate: the core fetches the development IdP's keys from this very server.
            body = self._read_body()
            if body is not None:
                headers = Headers(_joined(self.headers))
                self._send(*idp.serve(self.command, url.path[len(DEV_IDP_PREFIX) :], body, query, headers))
            return
        body = self._read_body()  # outside the gate: a slow client holds its own thread only
        if body is None:
            return
        with self.server_ref.gate:
            request = HttpRequest(
                method=self.command, path=url.path, headers=_joined(self.headers), query=query, body=body
            )
            response = self.server_ref.service.handle(request)
            self._send(response.status, response.headers, response.body)

    def __getattr__(self, name: str):
        # Every method reaches the core, whose router answers 404 or 405 with Allow as problem+json
        # (http.server would answer a method without a do_<METHOD> with an HTML 501).
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:  # type: ignore[override]
        """Errors http.server finds itself (a malformed request line, an oversized header) as problem+json."""
        if self.request_version == "HTTP/0.9" or not getattr(self, "request_version", None):
            self.request_version = "HTTP/1.1"  # always answer with a status line and headers
        self.close_connection = True
        slug = {414: "uri-too-long", 431: "headers-too-large"}.get(code, "bad-request-line")
        refusal = problem(slug, explain or message or "the request cannot be parsed")
        response = problem_response(refusal, str(uuid.uuid4()))
        self._send(refusal.status, {**response.headers, "Connection": "close"}, response.body)


def _joined(headers) -> dict[str, str]:
    """Repeated headers joined with ", ", as API Gateway and the Functions host deliver them (RFC 9110 §5.3)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
