"""API Gateway HTTP API (payload format 2.0) -> the core -> API Gateway: the Lambda HTTP handler.

SAM handler string ``lambda/api.handler``. The route table lives in one place, the core's: the
resolver's single catch-all route hands every request to the core, which answers 404/405 itself,
exactly as on Azure Functions and the local service. The template still lists the contract's routes
on the HTTP API (plus ``$default``) so they show in API Gateway's console, logs and throttling.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl

from shared.api import HttpRequest, HttpResponse, adapter

from .observability import APIGatewayHttpResolver, MetricUnit, Response, correlation_paths, logger, metrics

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
app = APIGatewayHttpResolver()


def core_request(event) -> HttpRequest:
    """The neutral request for an HTTP API v2 event (``APIGatewayProxyEventV2``).

    The path is the one after the stage (``rawPath`` carries ``/{stage}`` on a named stage), the
    body is decoded from base64 when API Gateway encoded it, the ``cookies`` field goes back into
    a ``Cookie`` header, and duplicate query parameters keep the last value, as on the other
    adapters. The request id is API Gateway's unless the client sent one.
    """
    headers = dict(event.headers)
    if event.cookies:
        headers["cookie"] = "; ".join(event.cookies)
    body = event.body or ""
    try:
        data = base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")
    except (binascii.Error, ValueError):
        data = b"\xff"  # not base64 after all: the core refuses it like any body it cannot read (4xx)
    return HttpRequest(
        method=event.http_method,
        path=event.path or "/",
        headers=headers,
        query=dict(parse_qsl(event.raw_query_string or "", keep_blank_values=True)),
        body=data,
        request_id=adapter.request_id(headers, event.request_context.request_id) or "",
    )


def platform_response(response: HttpResponse) -> Response:
    # The core's bodies are JSON (UTF-8 text): sent as text, API Gateway needs no base64 round trip.
    return Response(status_code=response.status, headers=dict(response.headers), body=response.body.decode("utf-8"))


@app.route(".+", method=METHODS)
def every_request() -> Response:
    response = adapter.serve(core_request(app.current_event))
    metrics.add_metric(name=f"Http{response.status // 100}xx", unit=MetricUnit.Count, value=1)
    return platform_response(response)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    """The Lambda entry point: always an HTTP API response, never an unhandled exception."""
    return app.resolve(event, context)


adapter.warm_up()  # cold start: an invalid configuration is logged now, naming its key
