"""The ``VmsSimulator`` object: lifecycle, fault injection, inspection."""

from __future__ import annotations

import base64
import hmac
import socket
import ssl
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from .handler import SimHandler, SimServer
from .store import ApiError, KeyGenerator, Store

DEFAULT_LOCAL_USERS = {1: "admin", 1001: "alice", 1002: "bob"}
DEFAULT_NON_LOCAL_USERS = (
    {"uid": 50001, "sid": "S-1-5-21-1004336348-1177238915-682003330-1101", "name": "carol"},
    {"uid": 50002, "name": "dave"},
    {"sid": "S-1-5-21-1004336348-1177238915-682003330-1103", "name": "erin"},
)
OPS = ("create", "delete", "list", "modify")
_NO_CREDS = {"detail": "Authentication credentials were not provided."}


class VmsSimulator:
    """A fake VAST VMS serving the S3-key endpoints on 127.0.0.1 in a background thread."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "admin",
        password: str = "123456",
        api_token: str | None = "vms-simulator-token",
        local_users: Mapping[int, str] | None = None,
        non_local_users: Iterable[dict] | None = None,
        tenants: Mapping[int, str] | None = None,
        caller_user_id: int = 1,
        max_keys_per_user: int = 2,
        hang_seconds: float = 30.0,
        certfile: str | None = None,
        keyfile: str | None = None,
        seed: int | None = None,
        special_key_every: int = 3,
        verbose: bool = False,
    ):
        """Configure users, credentials and TLS; nothing listens until ``start()``.

        ``caller_user_id`` is the local user that ``/api/s3keys/`` acts for (the
        authenticated VMS caller); it is added under ``username`` if missing.
        """
        local = dict(DEFAULT_LOCAL_USERS if local_users is None else local_users)
        local.setdefault(caller_user_id, username)
        self.store = Store(
            local_users=local,
            tenants=tenants or {1: "default"},
            non_local_users=DEFAULT_NON_LOCAL_USERS if non_local_users is None else non_local_users,
            max_keys=max_keys_per_user,
            keygen=KeyGenerator(seed, special_key_every),
        )
        self._lock = self.store.lock
        self._host, self._port = host, port
        self._basic = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._token = api_token
        self._caller_id = caller_user_id
        self.hang_seconds = hang_seconds
        self.verbose = verbose
        self._ssl = None
        if certfile:
            self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ssl.load_cert_chain(certfile, keyfile)
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._conns: set = set()
        self.url: str | None = None
        self.reset()

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> str:
        """Bind, serve in a daemon thread, and return the base URL."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._stopping.clear()
        self._server = SimServer((self._host, self._port), SimHandler)
        self._server.sim = self
        host, port = self._server.server_address[:2]
        self.url = f"{'https' if self._ssl else 'http'}://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="vms-simulator", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving; wakes hanging/delayed requests and drops open connections."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> VmsSimulator:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- fault injection ---------------------------------------------------
    def fail_next(self, n: int, status: int = 500, ops: Iterable[str] = ("create", "delete", "list")) -> None:
        """The next ``n`` authenticated requests of an op in ``ops`` answer ``status``, changing nothing."""
        ops = frozenset(ops)
        if not ops <= set(OPS):
            raise ValueError(f"ops must be among {OPS}")
        with self._lock:
            self._fail_rules.append([int(n), int(status), ops])

    def timeout_after_create(self, n: int, mode: str = "hang") -> None:
        """The next ``n`` creates make the key, then never answer.

        ``mode="hang"`` waits ``hang_seconds`` (cut short by ``stop()``) before
        dropping the connection; ``"close"`` drops it at once.
        """
        if mode not in ("hang", "close"):
            raise ValueError("mode must be 'hang' or 'close'")
        with self._lock:
            self._timeouts.extend([mode] * int(n))

    def latency(self, seconds: float) -> None:
        """Delay every ``/api/`` answer by ``seconds``, after its side effects."""
        with self._lock:
            self._latency = float(seconds)

    def clear_faults(self) -> None:
        """Drop all pending faults and the latency."""
        with self._lock:
            self._fail_rules, self._timeouts, self._latency = [], [], 0.0

    def faults(self) -> dict:
        """Pending faults, as JSON-able data."""
        with self._lock:
            return {
                "fail_next": [{"n": n, "status": s, "ops": sorted(o)} for n, s, o in self._fail_rules],
                "timeout_after_create": list(self._timeouts),
                "latency": self._latency,
            }

    def reset(self, keys: bool = True, faults: bool = True, counters: bool = True) -> None:
        """Forget keys, faults and/or call counters (users are kept)."""
        with self._lock:
            if keys:
                self.store.clear_keys()
            if faults:
                self.clear_faults()
            if counters:
                self._calls = dict.fromkeys(OPS, 0)

    # -- inspection ----------------------------------------------------------
    @property
    def calls(self) -> dict:
        """Authenticated API requests per op, including ones answered by an injected fault."""
        with self._lock:
            return dict(self._calls)

    @property
    def create_calls(self) -> int:
        return self.calls["create"]

    @property
    def delete_calls(self) -> int:
        return self.calls["delete"]

    def add_local_user(self, user_id: int, name: str, tenant_id: int = 1) -> None:
        """Seed a local user."""
        self.store.add_local_user(user_id, name, tenant_id)

    def add_non_local_user(self, name: str, uid: int | None = None, sid: str | None = None, tenant_id: int = 1) -> None:
        """Seed a directory (non-local) user known by uid and/or sid."""
        self.store.add_non_local_user(name, uid, sid, tenant_id)

    def _user(self, user_id: Any = None, uid: Any = None, sid: Any = None):
        if user_id is not None:
            return self.store.local_user(user_id)
        return self.store.non_local_user(uid, sid)

    def add_key(
        self,
        user_id: int | None = None,
        *,
        uid: int | None = None,
        sid: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        enabled: bool = True,
        tenant_id: int | None = None,
        enforce_cap: bool = True,
    ) -> dict:
        """Give a user a key directly, as if they made it themselves outside the service.

        Raises ``NotFound`` (a LookupError) for unknown users and ``ApiError`` past the cap.
        """
        user = self._user(user_id, uid, sid)
        return self.store.dump(
            self.store.create_key(
                user, tenant_id, access_key=access_key, secret_key=secret_key, enabled=enabled, enforce_cap=enforce_cap
            )
        )

    def keys_of_local_user(self, user_id: int) -> list[dict]:
        """Keys (with secrets) of a local user; ``NotFound`` if the user is unknown."""
        return [self.store.dump(k) for k in self.store.keys_of(self.store.local_user(user_id))]

    def keys_of_non_local(self, uid: int | None = None, sid: str | None = None) -> list[dict]:
        """Keys (with secrets) of a directory user found by uid or sid."""
        return [self.store.dump(k) for k in self.store.keys_of(self.store.non_local_user(uid, sid))]

    def all_keys(self) -> list[dict]:
        """Every key in id order, with secret and owner identity."""
        return [self.store.dump(k) for k in self.store.all_keys()]

    # -- used by the handler -------------------------------------------------
    def _enter(self, op: str) -> int | None:
        """Count a call and return an injected failure status, if one is due."""
        with self._lock:
            self._calls[op] += 1
            for rule in self._fail_rules:
                if op in rule[2]:
                    rule[0] -= 1
                    if rule[0] <= 0:
                        self._fail_rules.remove(rule)
                    return rule[1]
        return None

    def _take_timeout(self) -> str | None:
        with self._lock:
            return self._timeouts.pop(0) if self._timeouts else None

    def _check_auth(self, header: str | None) -> None:
        scheme, _, cred = (header or "").strip().partition(" ")
        scheme, cred = scheme.lower(), cred.strip()
        if scheme == "basic" and cred:
            if not hmac.compare_digest(cred.encode(), self._basic.encode()):
                raise ApiError(401, {"detail": "Invalid username/password."})
        elif scheme == "api-token" and cred and self._token is not None:
            if not hmac.compare_digest(cred.encode(), self._token.encode()):
                raise ApiError(401, {"detail": "Invalid token."})
        else:
            raise ApiError(401, dict(_NO_CREDS))
