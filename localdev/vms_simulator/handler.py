"""Request handling: routing, auth order, DRF-style answers, pagination, faults."""

from __future__ import annotations

import json
import math
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from .admin import handle_admin
from .store import ApiError, NotFound

if TYPE_CHECKING:
    from .simulator import VmsSimulator

_METHOD_OP = {"POST": "create", "DELETE": "delete", "GET": "list", "PATCH": "modify"}


class SimServer(ThreadingHTTPServer):
    """Per-connection threads; tracebacks only when the simulator is verbose."""

    daemon_threads = True
    block_on_close = False
    sim: VmsSimulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.sim.verbose:
            super().handle_error(request, client_address)


class SimHandler(BaseHTTPRequestHandler):
    """Serves ``/api/`` (VMS endpoints) and ``/_sim/`` (simulator control)."""

    protocol_version = "HTTP/1.1"  # keep-alive: sweeps of thousands of keys reuse connections
    server_version = "VmsSimulator/1"
    timeout = 120  # idle keep-alive connections must not pin threads forever
    # Headers and body leave in separate writes: without TCP_NODELAY, Nagle plus the client's
    # delayed ACK stalls every keep-alive answer by ~40 ms.
    disable_nagle_algorithm = True
    server: SimServer

    def setup(self) -> None:
        ctx = self.server.sim._ssl
        if ctx is not None:
            # Handshake here, in the per-connection thread, so a stalled client cannot block accept().
            self.request.settimeout(10)
            self.request = ctx.wrap_socket(self.request, server_side=True)
        super().setup()
        with self.server.sim._lock:
            self.server.sim._conns.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.sim._lock:
                self.server.sim._conns.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sim.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_DELETE = do_PATCH = do_PUT = do_GET

    def _dispatch(self) -> None:
        sim = self.server.sim
        split = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        # Decode per segment so an access key may travel as one segment with '/' as %2F.
        segs = [unquote(s) for s in split.path.split("/")]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            if segs[1:2] == ["_sim"]:
                status, body = handle_admin(sim, self.command, [s for s in segs[2:] if s], self.query, _json_body(raw))
            elif segs[1:2] == ["api"] and len(segs) > 3 and segs[-1] == "":
                status, body = self._api(sim, segs[2:-1], raw)
                if status is None:
                    return
            else:
                raise NotFound()
        except ApiError as err:
            status, body = err.status, err.body
            if segs[1:2] == ["api"] and sim._latency:
                sim._stopping.wait(sim._latency)
        except Exception as err:  # a simulator bug should look like a server error, not a hang-up
            status, body = 500, {"detail": f"Simulator error: {err!r}"}
        self._send(status, body)

    def _api(self, sim: VmsSimulator, route: list[str], raw: bytes):
        handler = _route(route, self.command)
        sim._check_auth(self.headers.get("Authorization"))
        if handler is None:
            raise ApiError(405, {"detail": f'Method "{self.command}" not allowed.'})
        op = _METHOD_OP[self.command]
        injected = sim._enter(op)
        if injected is not None:
            raise ApiError(injected, {"detail": "Simulated failure (fault injection)."})
        status, body = handler(self, sim, route, _json_body(raw))
        if op == "create":
            mode = sim._take_timeout()
            if mode is not None:
                if mode == "hang":
                    sim._stopping.wait(sim.hang_seconds)
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return None, None
        if sim._latency:
            sim._stopping.wait(sim._latency)
        return status, body

    def _send(self, status: int, body: Any) -> None:
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="api"')
        if status != 204:
            data = json.dumps(body).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204:
            self.wfile.write(data)

    # -- endpoint bodies -----------------------------------------------------
    def _caller(self, sim: VmsSimulator):
        return sim.store.local_user(sim._caller_id)

    def _non_local(self, sim: VmsSimulator, src: dict):
        return sim.store.non_local_user(src.get("uid"), src.get("sid"))

    def _listing(self, sim: VmsSimulator, keys: list) -> tuple[int, Any]:
        """Plain array, or DRF PageNumberPagination when ``page_size`` is given."""
        try:
            size = int(self.query["page_size"])
        except (KeyError, ValueError):
            size = 0
        if size <= 0:  # DRF falls back to "no pagination" on a bad page_size
            return 200, [sim.store.s3key(k) for k in keys]
        try:
            page = int(self.query.get("page", "1"))
        except ValueError:
            raise ApiError(404, {"detail": "Invalid page."}) from None
        pages = max(1, math.ceil(len(keys) / size))
        if not 1 <= page <= pages:
            raise ApiError(404, {"detail": "Invalid page."})
        base = f"{sim.url.split('://')[0]}://{self.headers.get('Host') or sim.url.split('://')[1]}"
        path = urlsplit(self.path).path

        def link(p: int) -> str:
            q = {k: v for k, v in self.query.items() if k != "page"}
            if p > 1:  # DRF drops page=1 from the previous link
                q["page"] = str(p)
            return f"{base}{path}" + (f"?{urlencode(q)}" if q else "")

        return 200, {
            "count": len(keys),
            "next": link(page + 1) if page < pages else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": [sim.store.s3key(k) for k in keys[(page - 1) * size : page * size]],
        }

    def _pair(self, key) -> dict:
        return {"access_key": key.access_key, "secret_key": key.secret_key}

    def _s3keys(self, sim, route, body):
        user = self._caller(sim)
        if self.command == "POST":
            return 201, self._pair(sim.store.create_key(user))
        if self.command == "GET":
            return self._listing(sim, sim.store.keys_of(user))
        sim.store.delete_key(user, route[1])
        return 204, None

    def _local_access_keys(self, sim, route, body):
        user = sim.store.local_user(route[1])
        return self._key_change(sim, user, body)

    def _non_local_keys(self, sim, route, body):
        if self.command == "GET":
            return self._listing(sim, sim.store.keys_of(self._non_local(sim, self.query)))
        return self._key_change(sim, self._non_local(sim, body), body)

    def _key_change(self, sim, user, body):
        if self.command == "POST":
            return 200, self._pair(sim.store.create_key(user, body.get("tenant_id")))
        if "access_key" not in body:
            raise ApiError(400, {"access_key": ["This field is required."]})
        if self.command == "DELETE":
            sim.store.delete_key(user, body["access_key"])
        else:
            if "enabled" not in body:
                raise ApiError(400, {"enabled": ["This field is required."]})
            sim.store.set_enabled(user, body["access_key"], body["enabled"])
        return 204, None

    def _locals3keys(self, sim, route, body):
        return self._listing(sim, sim.store.local_keys(self.query.get("user_id"), self.query.get("tenant_id")))


def _route(route: list[str], method: str):
    """Map ``/api/<route>/`` + method to a handler; raise 404 for unknown paths."""
    n = len(route)
    if route == ["s3keys"]:
        allowed = {"GET": SimHandler._s3keys, "POST": SimHandler._s3keys}
    elif n == 2 and route[0] == "s3keys" and route[1]:
        allowed = {"DELETE": SimHandler._s3keys}
    elif route == ["users", "non_local_keys"]:
        allowed = dict.fromkeys(("GET", "POST", "DELETE", "PATCH"), SimHandler._non_local_keys)
    elif n == 3 and route[0] == "users" and route[2] == "access_keys":
        allowed = dict.fromkeys(("POST", "DELETE", "PATCH"), SimHandler._local_access_keys)
    elif route == ["locals3keys"]:
        allowed = {"GET": SimHandler._locals3keys}
    else:
        raise NotFound()
    return allowed.get(method)


def _json_body(raw: bytes) -> dict:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as err:
        raise ApiError(400, {"detail": f"JSON parse error - {err}"}) from None
    if not isinstance(body, dict):
        raise ApiError(
            400, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(body).__name__}."]}
        )
    return body
