"""A fault-injecting HTTP proxy for the dependency-fault tests: it sits in front of a real upstream
(moto server, Azurite, an identity provider's keys) on 127.0.0.1 and, request by request, passes the
request through or answers in its place: a status (500, 503, 429, a throttling error document), an
HTML page, a redirect, a dropped connection, a delay or a hang.

Every request is read whole and sent upstream with ``Connection: close``, so each one opens its own
connection and meets the fault rules on its own, whatever the client's connection pooling. With
``tls`` (a server and a client ``SSLContext``) it terminates TLS from the client and speaks TLS to
the upstream, so faults can be injected in front of an https emulator too.

Rules are tried in the order they were added; a rule applies to requests its ``when`` accepts
(default: all) and is used up after ``times`` of them (default: never). Requests no rule takes pass.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Rule:
    action: str  # answer | drop | hang | delay
    when: Callable[[Request], bool] = lambda request: True
    times: int | None = None
    status: int = 503
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    hits: int = 0


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1", tls: tuple | None = None):
        self.upstream = (upstream_host, upstream_port)
        self._server_tls, self._client_tls = tls or (None, None)
        self.rules: list[Rule] = []
        self.seen: list[Request] = []  # every request that reached the proxy, in order
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"{'https' if self._server_tls else 'http'}://127.0.0.1:{self.port}"

    # -- rules ---------------------------------------------------------------------------------------
    def add(self, action: str, **kw) -> Rule:
        rule = Rule(action, **kw)
        with self._lock:
            self.rules.append(rule)
        return rule

    def answer(self, status: int, body: bytes = b"", content_type: str = "application/json", **kw) -> Rule:
        headers = {"Content-Type": content_type, **kw.pop("headers", {})}
        return self.add("answer", status=status, body=body, headers=headers, **kw)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.seen.clear()

    def _rule_for(self, request: Request) -> Rule | None:
        with self._lock:
            self.seen.append(request)
            for rule in self.rules:
                if (rule.times is None or rule.hits < rule.times) and rule.when(request):
                    rule.hits += 1
                    return rule
        return None

    # -- serving -------------------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        self._listener.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(30)
            if self._server_tls is not None:
                conn = self._server_tls.wrap_socket(conn, server_side=True)
            request, raw = _read_request(conn)
            if request is None:
                return
            rule = self._rule_for(request)
            if rule is None or rule.action == "delay":
                if rule is not None:
                    self._stopping.wait(rule.seconds)
                self._forward(conn, raw)
            elif rule.action == "answer":
                head = [f"HTTP/1.1 {rule.status} Fault", f"Content-Length: {len(rule.body)}", "Connection: close"]
                head += [f"{k}: {v}" for k, v in rule.headers.items()]
                conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + rule.body)
            elif rule.action == "hang":
                self._stopping.wait(rule.seconds or 60)
            # "drop": close without a word
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _forward(self, conn: socket.socket, raw: bytes) -> None:
        upstream = socket.create_connection(self.upstream, timeout=30)
        try:
            if self._client_tls is not None:
                upstream = self._client_tls.wrap_socket(upstream, server_hostname=self.upstream[0])
            upstream.sendall(raw)
            while chunk := upstream.recv(65536):
                conn.sendall(chunk)
        finally:
            upstream.close()


def _read_request(conn: socket.socket) -> tuple[Request | None, bytes]:
    """One whole request (head and a Content-Length body), rewritten to ``Connection: close``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    deadline = time.monotonic() + 10
    while len(rest) < length and time.monotonic() < deadline:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    kept = [line for line in lines[1:] if not line.lower().startswith(("connection:", "keep-alive:"))]
    raw = "\r\n".join([lines[0], *kept, "Connection: close"]).encode("latin-1") + b"\r\n\r\n" + rest
    return Request(method, path, headers, rest), raw


def tls_pair(ca, cert, key) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """TLS for a proxy in front of an https emulator: served with the test certificate, and trusting
    the test CA towards the upstream."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(str(cert), str(key))
    client = ssl.create_default_context(cafile=str(ca))
    return server, client
