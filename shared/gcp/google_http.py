"""The HTTP google-auth calls Google through, and what Google's answers mean to a caller.

Every call to Google (the OAuth token endpoint, STS, IAM Credentials) goes through one
``google.auth.transport.Request``-compatible callable per store, built on first use with short
timeouts. Each vend wraps it in a :class:`Call`, which remembers the last refusal it saw (API,
HTTP status, Google's error code; never Google's message, never a token), so an exception raised
deep in google-auth maps to a problem a caller can act on:

- 429 or ``RESOURCE_EXHAUSTED`` -> 503 ``upstream-throttled`` (Retry-After 5);
- 5xx, timeouts, connection errors -> 503 ``upstream-unavailable`` (Retry-After 5);
- ``generateAccessToken`` refusing the asked lifetime (400 ``INVALID_ARGUMENT``) -> 400 ``bad-ttl``: the
  caller may ask for less (the organization policy sets the most);
- any other refusal (400/401/403/404: a missing role, a trust condition that does not match, a
  deleted key, an unknown provider) -> 503 ``upstream-refused`` (Retry-After 60), naming the API and code;
- no credentials at all (ADC found nothing) -> 503 ``upstream-refused``.

An emulator store names ``google_apis_url``: every Google API host is then rewritten to it (its
paths do not collide: ``/token``, ``/v1/token``, ``/v1/projects/-/serviceAccounts/...``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import Problem, bad_request, unavailable

log = logging.getLogger("tvs.gcs")
CONNECT_TIMEOUT = 2
READ_TIMEOUT = 5  # a vend makes at most three calls: they end well within a gateway's 29 s
GOOGLE_APIS = {
    "oauth2.googleapis.com": "OAuth token endpoint",
    "sts.googleapis.com": "STS",
    "iamcredentials.googleapis.com": "IAM Credentials",
}
THROTTLED = frozenset({"RESOURCE_EXHAUSTED", "rate_limit_exceeded", "quota_exceeded"})


class Transport:
    """The process's transport for one store: a requests session, built once, under a lock no call holds."""

    def __init__(self, rewrite_to: str | None = None):
        self.rewrite_to = rewrite_to
        self._lock = threading.Lock()
        self._request: Callable[..., Any] | None = None

    def use(self, request: Callable[..., Any]) -> None:
        """Send every call through ``request`` instead (a fake Google in tests and benchmarks)."""
        with self._lock:
            self._request = request

    def _inner(self) -> Callable[..., Any]:
        request = self._request
        if request is None:
            with self._lock:
                if self._request is None:
                    import google.auth.transport.requests
                    import requests

                    self._request = google.auth.transport.requests.Request(requests.Session())
                request = self._request
        return request

    def call(self) -> Call:
        """A transport for one vend, remembering the refusals it sees."""
        return Call(self._inner(), self.rewrite_to)


class Call:
    """``google.auth.transport.Request``-compatible: forwards with timeouts, remembers the last refusal."""

    def __init__(self, inner: Callable[..., Any], rewrite_to: str | None):
        self._inner = inner
        self._rewrite_to = rewrite_to
        self.failure: tuple[str, str, int, str] | None = None  # (api, operation, status, code)

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        target = url
        host = urlsplit(url).hostname or ""
        if self._rewrite_to and host in GOOGLE_APIS:
            base = urlsplit(self._rewrite_to)
            parts = urlsplit(url)
            target = urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
        response = self._inner(
            url=target,
            method=method,
            body=body,
            headers=headers,
            timeout=timeout if timeout is not None and timeout < READ_TIMEOUT else (CONNECT_TIMEOUT, READ_TIMEOUT),
            **kwargs,
        )
        if response.status >= 400 and host in GOOGLE_APIS:  # not a metadata-server probe
            operation = urlsplit(url).path.rsplit(":", 1)[-1] if ":" in urlsplit(url).path else urlsplit(url).path
            self.failure = (GOOGLE_APIS.get(host, host), operation, response.status, error_code(response.data))
        return response


def error_code(data: Any) -> str:
    """Google's error code in a response body: OAuth's ``error`` string or the API's ``error.status``."""
    try:
        doc = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except (ValueError, AttributeError, UnicodeDecodeError):
        return "unknown"
    error = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(error, str):
        return error[:64]
    if isinstance(error, dict):
        return str(error.get("status") or error.get("code") or "unknown")[:64]
    return "unknown"


def problem_for(exc: BaseException, call: Call, lifetime: int | None = None) -> Problem:
    """The caller-facing problem for a failed exchange with Google (see the module docstring)."""
    if isinstance(exc, Problem):
        return exc
    from google.auth import exceptions

    if not isinstance(exc, (exceptions.GoogleAuthError, OSError)):
        raise exc  # not a failure of Google or of the network: a bug, reported as such
    if call.failure is not None:
        api, operation, status, code = call.failure
        log.warning("Google %s %s failed: HTTP %s %s", api, operation, status, code)
        if status == 429 or code in THROTTLED:
            return unavailable(f"Google {api} is throttling this service; retry shortly", 5, "upstream-throttled")
        if status >= 500:
            return unavailable(f"Google {api} could not complete {operation} (HTTP {status})", 5)
        if operation == "generateAccessToken" and status == 400 and code == "INVALID_ARGUMENT" and lifetime:
            return bad_request(
                f"Google refused a token lifetime of {lifetime} s for this store (a service account's tokens "
                "last at most 1 hour unless the organization policy allows 12); ask for a shorter ttl_seconds",
                "bad-ttl",
            )
        return unavailable(
            f"Google {api} refused the service ({operation}: {code}); check the store's credentials, the "
            "service account's roles and the federation's trust conditions",
            60,
            "upstream-refused",
        )
    if isinstance(exc, exceptions.DefaultCredentialsError):
        log.warning("no Google credentials: %s", type(exc).__name__)
        return unavailable("the service has no Google credentials for this store", 60, "upstream-refused")
    if isinstance(exc, (exceptions.TransportError, OSError)):
        log.warning("Google did not answer: %s", type(exc).__name__)
        return unavailable(f"Google did not answer ({type(exc).__name__})", 5)
    log.warning("Google credentials failed: %s", type(exc).__name__)
    return unavailable(
        f"the store's Google credentials could not be used ({type(exc).__name__}); its operators find the reason "
        "in the log",
        60,
        "upstream-refused",
    )
