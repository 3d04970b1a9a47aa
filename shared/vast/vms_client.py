"""A small client for the VAST VMS S3-key endpoints (stdlib ``http.client`` over TLS).

- Keys are made and removed through the admin endpoints, for a given user: local users by id
  (``/api/users/{id}/access_keys/``), directory users by uid or SID
  (``/api/users/non_local_keys/``). Access keys travel only in JSON bodies, never in a URL, so
  their ``/``, ``+`` and ``=`` need no escaping; query values are URL-encoded.
- TLS certificates are verified by default (system store or ``ca_bundle``). Turning it off is an
  explicit ``verify_tls=False`` and logged once per VMS at WARNING.
- Short timeouts: ``timeout`` bounds each whole answer (not each socket read, so a VMS that
  trickles its answer cannot outlast it). A request path wraps its calls in :meth:`VmsClient.deadline`:
  an attempt or a backoff that cannot finish by then is not started (VmsUnavailable), so the caller
  answers 503 before its platform's own time limit.
- Listing and deleting are retried (a delete's 404 counts as done); a create is sent once: when
  its answer is lost the outcome is unknown (:class:`VmsOutcomeUnknown`) and the caller reconciles
  by listing the user's keys, never by creating again.
- Secrets never reach a log line: only method, endpoint and status are logged.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.client
import io
import json
import logging
import random
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from .mapping import VastUser

log = logging.getLogger("tvs.vast.vms")
_warned_insecure: set[str] = set()
_warn_lock = threading.Lock()
RETRY_STATUS = (429, 500, 502, 503, 504)
MAX_PAGES = 100


class VmsError(Exception):
    """VMS refused or failed. ``status`` is the HTTP status (0 for a network failure)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


class VmsUnavailable(VmsError):
    """VMS could not be reached or answered 5xx (after retries, for the calls that retry)."""


class VmsOutcomeUnknown(VmsError):
    """A create was sent but its answer was lost: the key may or may not exist."""


class VmsNotFound(VmsError):
    """404: an unknown user (create, list) -- for a delete, 404 means done and is not raised."""


class VmsAuthError(VmsError):
    """401/403: the service's VMS credentials are wrong or lack the rights."""


class VmsKeyCap(VmsError):
    """VMS refused a create: the user already holds the maximum number of keys."""


@dataclass(frozen=True)
class KeyPair:
    access_key: str
    secret_key: str = field(repr=False)


@dataclass(frozen=True)
class ListedKey:
    access_key: str
    creation_time: datetime | None
    enabled: bool = True


def is_cap_refusal(status: int, detail: str) -> bool:
    """VAST's "already has 2 access keys" answer; the wording is not in the schema, so match loosely."""
    text = detail.lower()
    return status == 400 and "access key" in text and ("2" in text or "maximum" in text)


def longest_call_seconds(timeout: float, retries: int, connect_timeout: float = 3.0, backoff: float = 0.2) -> float:
    """The longest one retried call may take with these settings (see :meth:`VmsClient.longest_call_seconds`)."""
    attempts = retries + 1
    sleeps = sum(backoff * 2**a * 1.5 for a in range(attempts - 1))
    return attempts * (connect_timeout + timeout) + sleeps


class VmsClient:
    """Thread-safe: each thread keeps its own keep-alive connection."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: tuple,
        verify_tls: bool = True,
        ca_bundle: str | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        retries: int = 2,
        page_size: int = 100,
        backoff: float = 0.2,
    ):
        parts = urlsplit(base_url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("the VMS URL must be http(s)://host[:port]")
        self.base_url = base_url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        if auth[0] == "basic":
            self._authorization = "Basic " + base64.b64encode(f"{auth[1]}:{auth[2]}".encode()).decode()
        elif auth[0] == "api-token":
            self._authorization = f"Api-Token {auth[1]}"
        else:
            raise ValueError("auth must be ('basic', user, password) or ('api-token', token)")
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.retries, self.page_size, self.backoff = retries, page_size, backoff
        self._ssl = self._ssl_context(verify_tls, ca_bundle) if self._https else None
        self._local = threading.local()

    def longest_call_seconds(self) -> float:
        """The longest one retried call (list, delete) may take: every attempt connecting and then
        waiting the read timeout, plus the longest backoff between attempts. A caller with a
        deadline (the sweep) stops starting work this long before it."""
        return longest_call_seconds(self.timeout, self.retries, self.connect_timeout, self.backoff)

    @contextlib.contextmanager
    def deadline(self, seconds: float):
        """Every call this thread makes inside the block ends within ``seconds`` from now, retries and
        backoff included: an answer is cut at the deadline, and an attempt or a backoff that cannot
        finish by then is not started (:class:`VmsUnavailable`; a create is then certainly not sent)."""
        outer = getattr(self._local, "deadline", None)
        until = time.monotonic() + max(0.0, seconds)
        self._local.deadline = until if outer is None else min(outer, until)
        try:
            yield
        finally:
            self._local.deadline = outer

    def _left(self) -> float | None:
        """Seconds left before this thread's deadline (None: no deadline)."""
        until = getattr(self._local, "deadline", None)
        return None if until is None else until - time.monotonic()

    def _ssl_context(self, verify: bool, ca_bundle: str | None) -> ssl.SSLContext:
        if verify:
            return ssl.create_default_context(cafile=ca_bundle)
        with _warn_lock:
            if self.base_url not in _warned_insecure:
                _warned_insecure.add(self.base_url)
                log.warning(
                    "TLS certificate verification is OFF for VMS %s (verify_tls: false in the store "
                    "configuration): anyone on the path can read the keys this service creates",
                    self.base_url,
                )
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx

    # -- connections ----------------------------------------------------------------------------
    def _connection(self, fresh_after: float | None, left: float | None) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        idle = time.monotonic() - getattr(self._local, "used", 0.0)
        if conn is not None and fresh_after is not None and idle > fresh_after:
            conn.close()  # a POST must not land on a connection the server may have dropped while idle
            conn = None
        if conn is None:
            if self._https:
                conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self.connect_timeout, context=self._ssl
                )
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self.connect_timeout)
            self._local.conn = conn
        if conn.sock is None:
            conn.timeout = self.connect_timeout if left is None else min(self.connect_timeout, left)
            conn.connect()  # failures here are certain: nothing was sent
            conn.sock.settimeout(self.timeout)  # type: ignore[attr-defined]  # connect() opened it
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def close(self) -> None:
        """Close this thread's connection."""
        self._drop()

    def _once(self, method: str, path: str, body: Any, fresh_after: float | None) -> tuple[int, Any]:
        """One exchange. Raises ``_NotSent`` when the request surely never left, OSError-likes otherwise.

        The whole answer must arrive within ``timeout`` of sending (and before this thread's deadline):
        every socket read waits only for what is left of it."""
        left = self._left()
        try:
            conn = self._connection(fresh_after, left)
        except (OSError, ssl.SSLError) as exc:
            self._drop()
            raise _NotSent(exc) from None
        now = time.monotonic()
        deadline = now + self.timeout if left is None else min(now + self.timeout, self._local.deadline)
        conn.sock.settimeout(max(0.001, deadline - now))
        conn.response_class = functools.partial(_Response, deadline=deadline)  # type: ignore[assignment]
        headers = {"Authorization": self._authorization, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, self._prefix + path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except BaseException:
            self._drop()
            raise
        self._local.used = time.monotonic()
        if resp.will_close:
            self._drop()
        try:
            payload = json.loads(raw) if raw.strip() else None
        except ValueError:
            payload = None
        log.debug("VMS %s %s -> %s", method, path.split("?")[0], resp.status)
        return resp.status, payload

    def _call(self, method: str, path: str, body: Any = None, *, idempotent: bool) -> tuple[int, Any]:
        attempts = 1 + (self.retries if idempotent else 0)
        late = "VMS did not answer within the request's deadline"
        for attempt in range(attempts):
            last = attempt == attempts - 1
            left = self._left()
            if left is not None and left <= 0:
                raise VmsUnavailable(late)  # nothing sent for this attempt
            try:
                status, payload = self._once(method, path, body, None if idempotent else 2.0)
            except _NotSent as exc:
                if last:
                    raise VmsUnavailable(f"VMS is unreachable ({type(exc.cause).__name__})") from None
            except (OSError, http.client.HTTPException) as exc:
                if not idempotent:
                    raise VmsOutcomeUnknown(f"VMS did not answer the create ({type(exc).__name__})") from None
                if last:
                    raise VmsUnavailable(f"VMS did not answer ({type(exc).__name__})") from None
            else:
                if status not in RETRY_STATUS:
                    return status, payload
                if not idempotent:
                    raise VmsOutcomeUnknown(f"VMS answered {status} to the create", status)
                if last:
                    raise VmsUnavailable(f"VMS answered {status}", status)
            pause = self.backoff * (2**attempt) * (0.5 + random.random())
            left = self._left()
            if left is not None and left <= pause:
                raise VmsUnavailable(late)  # the next attempt could not even start in time
            time.sleep(pause)
        raise AssertionError("unreachable")

    @staticmethod
    def _check(status: int, payload: Any, what: str) -> None:
        if 200 <= status < 300:
            return
        detail = payload.get("detail", "") if isinstance(payload, dict) else ""
        detail = detail if isinstance(detail, str) else ""
        if status in (401, 403):
            raise VmsAuthError(f"VMS refused the service's credentials for {what} ({status})", status)
        if status == 404:
            raise VmsNotFound(f"VMS does not know the user ({what})", status)
        if is_cap_refusal(status, detail):
            raise VmsKeyCap("the VAST user already holds the maximum number of S3 keys", status)
        raise VmsError(f"VMS refused {what} ({status})", status)

    # -- endpoints --------------------------------------------------------------------------------
    @staticmethod
    def _user_body(user: VastUser) -> dict[str, Any]:
        body: dict[str, Any] = {"uid": user.uid} if user.uid is not None else {"sid": user.sid}
        if user.tenant_id is not None:
            body["tenant_id"] = user.tenant_id
        return body

    def create_key(self, user: VastUser) -> KeyPair:
        """Create a key pair for ``user``; sent exactly once (see :class:`VmsOutcomeUnknown`)."""
        if user.user_id is not None:
            body = {"tenant_id": user.tenant_id} if user.tenant_id is not None else {}
            status, payload = self._call("POST", f"/api/users/{user.user_id}/access_keys/", body, idempotent=False)
        else:
            status, payload = self._call("POST", "/api/users/non_local_keys/", self._user_body(user), idempotent=False)
        self._check(status, payload, "the create")
        if not (
            isinstance(payload, dict)
            and isinstance(payload.get("access_key"), str)
            and isinstance(payload.get("secret_key"), str)
        ):
            raise VmsOutcomeUnknown("VMS answered the create without a key pair", status)
        return KeyPair(payload["access_key"], payload["secret_key"])

    def delete_key(self, user: VastUser, access_key: str) -> bool:
        """Delete ``access_key`` of ``user``: True if deleted now, False if VMS no longer has it (404)."""
        if user.user_id is not None:
            status, payload = self._call(
                "DELETE", f"/api/users/{user.user_id}/access_keys/", {"access_key": access_key}, idempotent=True
            )
        else:
            status, payload = self._call(
                "DELETE",
                "/api/users/non_local_keys/",
                {"access_key": access_key, **self._user_body(user)},
                idempotent=True,
            )
        if status == 404:
            return False
        self._check(status, payload, "the delete")
        return True

    def list_keys(self, user: VastUser) -> list[ListedKey]:
        """Every key ``user`` holds in VMS (following DRF pages)."""
        if user.user_id is not None:
            query: dict[str, Any] = {"user_id": user.user_id}
            path = "/api/locals3keys/"
        else:
            query = {"uid": user.uid} if user.uid is not None else {"sid": user.sid}
            path = "/api/users/non_local_keys/"
        if user.tenant_id is not None:
            query["tenant_id"] = user.tenant_id
        query["page_size"] = self.page_size
        url, out = f"{path}?{urlencode(query)}", []
        for _ in range(MAX_PAGES):
            status, payload = self._call("GET", url, idempotent=True)
            self._check(status, payload, "the listing")
            items = payload.get("results", []) if isinstance(payload, dict) else payload
            out += [_listed(item) for item in items or () if isinstance(item, dict) and "access_key" in item]
            nxt = payload.get("next") if isinstance(payload, dict) else None
            if not nxt:
                return out
            url = self._next_url(nxt, url)
        raise VmsUnavailable("VMS paginates the key listing without end")

    def _next_url(self, nxt: str, current: str) -> str:
        """The path and query (under the VMS URL's prefix) of a ``next`` link on our own VMS.

        A link to another scheme, host or port is refused: the listing never follows it."""
        parts = urlsplit(str(nxt))
        if parts.scheme or parts.netloc:
            default = 443 if self._https else 80
            try:
                port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError:
                port = -1
            if (
                parts.scheme != ("https" if self._https else "http")
                or (parts.hostname or "") != self._host.lower()
                or port != (self._port or default)
            ):
                raise VmsError("VMS paginates the key listing to another host; not followed")
        path = parts.path or current.split("?")[0]
        if self._prefix and (path == self._prefix or path.startswith(self._prefix + "/")):
            path = path[len(self._prefix) :] or "/"
        return path + (f"?{parts.query}" if parts.query else "")


class _DeadlineReader(io.RawIOBase):
    """A socket's bytes, each read waiting only for what is left until ``deadline`` (monotonic)."""

    def __init__(self, sock, deadline: float):
        super().__init__()
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the VMS answer did not arrive in time")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


class _Response(http.client.HTTPResponse):
    """An answer read under one deadline for all of it (status line, headers and body)."""

    def __init__(self, sock, *args, deadline: float, **kwargs):
        super().__init__(sock, *args, **kwargs)
        self.fp.close()  # the socket's own reader: only drops its reference, the connection keeps the socket
        self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))


class _NotSent(Exception):
    def __init__(self, cause: BaseException):
        super().__init__(str(cause))
        self.cause = cause


def _listed(item: dict) -> ListedKey:
    created = item.get("creation_time")
    when = None
    if isinstance(created, str):
        try:
            when = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)  # VMS times are UTC; a naive one must still compare
    return ListedKey(str(item["access_key"]), when, bool(item.get("enabled", True)))
