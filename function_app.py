"""Azure Functions adapter (Python v2 programming model): the HTTP contract (docs/api.md) and the sweep timer.

Every function only translates ``func.HttpRequest`` into the core's request and the core's
response back (docs/design.md, Layers); the route table is the core's contract
(``shared.api.contract``), one function per route. Functions are
anonymous at the platform level because the bearer-token check is the service's own; put API
Management in front for keys, quotas and products (docs/deploy.md).

``host.json`` sets the route prefix ``api``, so the routes below omit it and the request path the
core sees is ``/api/v1/...`` exactly as on the other platforms.
"""

import logging
import os
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from shared import logsafe
from shared.api import HttpRequest, HttpResponse, adapter
from shared.api.contract import OPERATIONS

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# (function name, route under the "api" prefix, methods): one function per operation of the contract.
# The catch-all takes every other path and method, so an unknown route or a wrong method gets the
# core's problem+json 404/405 rather than the platform's empty 404 (literal routes take precedence).
ROUTES = tuple((op.function, op.route, (op.method,)) for op in OPERATIONS) + (("not_a_route", "{*path}", ALL_METHODS),)
SWEEP_SCHEDULE = "0 */5 * * * *"  # NCRONTAB, every five minutes


def _sweep_budget(raw: str | None, default: float = 240.0, ceiling: float = 280.0) -> float:
    """The timer's budget in seconds; a bad value falls back to the default instead of breaking every route.
    Clamped below host.json's 5-minute functionTimeout."""
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        value = default
    return min(max(value, 0.0), ceiling) if value == value else default  # value != value: NaN


SWEEP_BUDGET_SECONDS = _sweep_budget(os.environ.get("TVS_SWEEP_BUDGET_SECONDS"))


def core_request(req: func.HttpRequest, context: func.Context | None) -> HttpRequest:
    """The neutral request for ``req``; the invocation id is the request id unless the client sent one."""
    url = urlsplit(req.url)
    headers = dict(req.headers.items())
    return HttpRequest(
        method=req.method,
        path=url.path,
        headers=headers,
        query=dict(parse_qsl(url.query, keep_blank_values=True)),
        body=req.get_body() or b"",
        request_id=adapter.request_id(headers, getattr(context, "invocation_id", None)) or "",
    )


def platform_response(response: HttpResponse) -> func.HttpResponse:
    return func.HttpResponse(body=response.body, status_code=response.status, headers=response.headers)


def serve(req: func.HttpRequest, context: func.Context | None = None) -> func.HttpResponse:
    logsafe.install()  # idempotent; the worker's log handler may be attached after this module is imported
    return platform_response(adapter.serve(core_request(req, context)))


def _register(name: str, route: str, methods: tuple[str, ...]) -> None:
    @app.function_name(name)
    @app.route(route=route, methods=list(methods))
    def http_function(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return serve(req, context)


for _name, _route, _methods in ROUTES:
    _register(_name, _route, _methods)


@app.function_name("sweep")
@app.timer_trigger(schedule=SWEEP_SCHEDULE, arg_name="timer", run_on_startup=False, use_monitor=True)
def sweep(timer: func.TimerRequest) -> None:
    """Take back expired revocable credentials; a configuration error fails the run (and is reported)."""
    logsafe.install()
    adapter.sweep(SWEEP_BUDGET_SECONDS)  # the core writes the run's summary to the audit log


logsafe.install()
logging.getLogger("azure").setLevel(logging.WARNING)  # the storage SDK logs every HTTP exchange at INFO
adapter.warm_up()  # cold start: an invalid configuration is logged now, naming its key
