"""The request pipeline: route -> authenticate -> validate -> authorize -> vend -> audit.

:class:`VendingService` is created once per process (:func:`get_service`) and is thread-safe.
Every outcome is an :class:`HttpResponse`; an unexpected exception becomes a 500 problem with no
detail (and is a bug to fix), never a stack trace.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from .. import audit, kinds
from ..accessmanager.service import AccessManager
from ..cache import CredentialCache
from ..clock import utcnow
from ..config import Config, load_config
from ..errors import Problem, missing_token, not_found, problem, throttled
from ..identity.tokens import TokenValidator
from ..kinds.contract import IssuedCredential, Vendor, VendorContext
from ..ledger import LazyLedger
from ..ratelimit import TokenBuckets
from ..secrets import SecretResolver
from .context import RequestContext, Route
from .http import HttpRequest, HttpResponse, problem_response
from .reclaim import reclaim_expired
from .routes import build_routes

log = logging.getLogger("tvs.service")


class VendingService:
    """Holds the configuration, the token validator, one vendor per store and the caches."""

    def __init__(
        self,
        config: Config,
        validator: TokenValidator | None = None,
        secrets: SecretResolver | None = None,
        clock=utcnow,
    ):
        self.config = config
        self.validator = validator or TokenValidator(config)
        self.clock = clock
        secrets = secrets or SecretResolver()
        ledger = LazyLedger(config.ledger, secrets) if config.ledger else None
        self.vendor_context = VendorContext(secrets=secrets, local_mode=config.local, clock=clock, ledger=ledger)
        self._vendors: dict[str, Vendor] = {}
        self._vendor_lock = threading.Lock()
        limits = config.limits.credential_cache
        self.credential_cache: CredentialCache[IssuedCredential] | None = (
            CredentialCache(
                max_entries=limits.max_entries,
                max_reuse=timedelta(seconds=limits.max_reuse_seconds),
                safety_buffer=timedelta(seconds=limits.safety_buffer_seconds),
                clock=clock,
                issued_at=lambda c: c.issued_at,
                expires_at=lambda c: c.expires_at,
            )
            if limits.enabled
            else None
        )
        self.accessmanager = (
            AccessManager(config.accessmanager, self.vendor, secrets, clock) if config.accessmanager else None
        )
        self.routes: list[Route] = build_routes()
        rate = config.limits.rate_limit
        self.rate_limit = (
            TokenBuckets(rate.requests_per_second, rate.burst, rate.max_principals) if rate.enabled else None
        )

    # -- vendors ------------------------------------------------------------------------------
    def vendor(self, store_id: str) -> Vendor:
        with self._vendor_lock:
            vendor = self._vendors.get(store_id)
            if vendor is None:
                store = self.config.stores[store_id]
                vendor_class = kinds.kind_of(store.kind).vendor_class()
                vendor = self._vendors[store_id] = vendor_class(store, self.vendor_context)
            return vendor

    # -- pipeline -----------------------------------------------------------------------------
    def handle(self, request: HttpRequest) -> HttpResponse:
        principal = None
        try:
            self._within_limits(request)
            route, params = self._route(request)
            ctx = RequestContext(self, request, params)
            if route.auth:
                ctx.principal = principal = self.validator.validate(self._token(request, route.raw_token))
                self._rate_limited(principal.key)
            return route.handler(ctx)
        except Problem as refusal:
            if refusal.status in (401, 403, 429):
                audit.record(
                    "request",
                    "denied",
                    principal=principal,
                    status=refusal.status,
                    reason=refusal.slug,
                    request_id=request.request_id,
                    route=request.path[:200],
                    **refusal.audit,
                )
            return problem_response(refusal, request.request_id)
        except Exception as exc:  # noqa: BLE001 - the last line: a bug, reported without detail
            log.error(
                "unhandled error %s on %s %s",
                type(exc).__name__,
                request.method,
                request.path[:200],
                extra={"request_id": request.request_id},
            )
            return problem_response(
                problem("internal-error", "an unexpected error happened; quote the request id when reporting it"),
                request.request_id,
            )

    def _within_limits(self, request: HttpRequest) -> None:
        """The request's size, the same on every adapter: headers (431) and body (413), before routing."""
        limits = self.config.limits
        size = sum(len(name) + len(value) + 4 for name, value in request.headers.items())  # "name: value\r\n"
        if size > limits.max_header_bytes:
            raise problem("headers-too-large", f"the request headers are limited to {limits.max_header_bytes} bytes")
        if len(request.body) > limits.max_body_bytes:
            raise problem("body-too-large", f"the body is limited to {limits.max_body_bytes} bytes")

    def _rate_limited(self, key: str) -> None:
        if self.rate_limit is None:
            return
        wait = self.rate_limit.take(key)
        if wait > 0:
            retry_after = TokenBuckets.retry_after(wait)
            raise throttled(
                f"too many requests from this caller; at most {self.rate_limit.rate:g} per second "
                f"(bursts of {self.rate_limit.burst})",
                retry_after=retry_after,
            )

    def _route(self, request: HttpRequest) -> tuple[Route, dict[str, str]]:
        allowed = []
        for route in self.routes:
            m = route.pattern.match(request.path)
            if m:
                # HEAD only where answering it costs nothing: a HEAD that minted a credential it never
                # returns would be waste.
                if route.method == request.method or (
                    request.method == "HEAD" and route.method == "GET" and not route.auth
                ):
                    return route, m.groupdict()
                allowed.append(route.method)
        if allowed:
            raise problem(
                "method-not-allowed",
                f"{request.method} is not allowed here",
                headers={"Allow": ", ".join(sorted(set(allowed)))},
            )
        raise not_found("no such route")

    @staticmethod
    def _token(request: HttpRequest, raw_allowed: bool) -> str:
        header = request.headers.get("authorization")
        if not header:
            raise missing_token()
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        if raw_allowed and " " not in header.strip():
            return header.strip()
        raise missing_token()

    def reclaim_expired(self, budget_seconds: float = 50.0) -> dict:
        """The scheduled sweep: take back what has expired in every revocable store."""
        return reclaim_expired(self, budget_seconds)


_service: VendingService | None = None
_service_lock = threading.Lock()


def get_service() -> VendingService:
    """The process-wide service, built from ``$TVS_CONFIG`` on first use (raises ConfigError)."""
    global _service
    with _service_lock:
        if _service is None:
            _service = VendingService(load_config())
        return _service


def reset_service(service: VendingService | None = None) -> None:
    """Replace the process-wide service (tests, and the local server at start-up)."""
    global _service
    with _service_lock:
        _service = service
