"""The one entry point of the cloud adapters (Azure Functions, AWS Lambda).

An adapter turns its platform's request into an :class:`HttpRequest`, calls :func:`serve` and
turns the :class:`HttpResponse` back; its timer calls :func:`sweep`. What the adapters would
otherwise each repeat lives here, free of any platform import:

- the process-wide service is built at cold start (:func:`warm_up`), so an invalid configuration
  is reported in the platform's start-up log, naming the offending key;
- while the configuration is invalid the service refuses to serve: every request answers
  ``503`` problem+json ``service-misconfigured`` whose body says nothing about the configuration
  (the key is in the operator's log, not in a response to anyone who asks);
- the request id is the client's ``X-Request-Id`` when it is well formed, else the platform's
  own invocation id, so a caller, the platform log and the audit log share one id.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from ..errors import ConfigError, Problem, problem
from .http import _REQUEST_ID, HttpRequest, HttpResponse, problem_response
from .service import VendingService, get_service

log = logging.getLogger("tvs.adapter")

MISCONFIGURED_RETRY_AFTER = 300  # a configuration is fixed by a redeployment, not by retrying at once

_reported: set[str] = set()
_reported_lock = threading.Lock()


def _report(exc: Exception) -> None:
    """Log a start-up failure once per process and distinct message (not once per request)."""
    message = str(exc)
    with _reported_lock:
        if message in _reported:
            return
        _reported.add(message)
    if isinstance(exc, ConfigError):
        log.critical("the service refuses to start: invalid configuration: %s", message)
    else:
        log.critical("the service refuses to start: %s while building it", type(exc).__name__)


def current_service() -> VendingService | None:
    """The process-wide service, or None while it cannot be built (the reason is logged once)."""
    try:
        return get_service()
    except Exception as exc:  # noqa: BLE001 - a configuration error or a bug; neither may crash a request
        _report(exc)
        return None


def warm_up() -> bool:
    """Build the service now (cold start); False when the configuration is invalid."""
    return current_service() is not None


def misconfigured() -> Problem:
    return problem(
        "service-misconfigured",
        "the service cannot start with its current configuration; its operators find the reason in its log",
        headers={"Retry-After": str(MISCONFIGURED_RETRY_AFTER)},
    )


def serve(request: HttpRequest) -> HttpResponse:
    """Answer ``request`` with the process-wide service: always a response, never an exception."""
    service = current_service()
    if service is None:
        return problem_response(misconfigured(), request.request_id)
    return service.handle(request)


class SweepIncomplete(RuntimeError):
    """A store could not be swept at all (its ledger or VMS unreachable); the summary is attached."""

    def __init__(self, summary: dict):
        super().__init__("sweep incomplete: " + ", ".join(f"{e['store']}: {e['error']}" for e in summary["errors"]))
        self.summary = summary


def sweep(budget_seconds: float, *, fail_on_errors: bool = True) -> dict:
    """Run the scheduled sweep within ``budget_seconds``.

    Raises :class:`ConfigError` on an invalid configuration, and :class:`SweepIncomplete` when a
    store could not be swept: a failed scheduled run is what the platform records, retries and
    alerts on (the sweep is idempotent, so a retry is safe).
    """
    summary = get_service().reclaim_expired(max(0.0, budget_seconds))
    if summary.get("errors") and fail_on_errors:
        raise SweepIncomplete(summary)
    return summary


def request_id(headers: Mapping[str, str], platform_id: str | None) -> str | None:
    """The client's well-formed ``X-Request-Id``, else the platform's invocation id."""
    client = next((v for k, v in headers.items() if k.lower() == "x-request-id"), None)
    if isinstance(client, str) and _REQUEST_ID.match(client):
        return client
    return platform_id if isinstance(platform_id, str) and _REQUEST_ID.match(platform_id) else None
