"""The Lambda handlers: what an HTTP API v2 event becomes, the request id and correlation id, the
refusal to serve on a bad configuration, and the scheduled sweep's budget."""

from __future__ import annotations

import importlib
import io
import json
import logging

import pytest

from shared.api import reset_service
from tests.adapters.channels import FakeLambdaContext, LambdaChannel, UnsweepableStore, http_api_event
from tests.support import token

api = importlib.import_module("lambda.api")
sweep = importlib.import_module("lambda.sweep")


def _core_request(event: dict):
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    return api.core_request(APIGatewayProxyEventV2(event))


def test_the_handler_modules_load_by_the_path_the_lambda_runtime_uses():
    assert callable(importlib.import_module("lambda.api").handler)
    assert callable(importlib.import_module("lambda.sweep").handler)


def test_a_named_stage_is_not_part_of_the_path_the_core_sees():
    request = _core_request(http_api_event("GET", "/api/v1/health", stage="prod"))
    assert request.path == "/api/v1/health"


def test_a_base64_body_reaches_the_core_as_the_bytes_the_client_sent():
    body = '{"store": "s", "note": "\u00e9t\u00e9"}'.encode()
    request = _core_request(
        http_api_event("POST", "/api/v1/credentials", {"Content-Type": "application/json"}, body, base64_body=True)
    )
    assert request.body == body


def test_a_text_body_reaches_the_core_as_utf8_bytes():
    body = '{"path": "users/\u00e9/"}'.encode()
    request = _core_request(http_api_event("POST", "/api/v1/credentials", {"Content-Type": "application/json"}, body))
    assert request.body == body


def test_cookies_go_back_into_one_cookie_header():
    request = _core_request(http_api_event("GET", "/api/v1/health", {"Cookie": "a=1; b=2"}))
    assert request.headers.get("cookie") == "a=1; b=2"


def test_the_query_string_reaches_the_core():
    request = _core_request(
        http_api_event("GET", "/api/v1/aws/container-credentials/s", query={"path": "users/alice/", "access": "read"})
    )
    assert request.query == {"path": "users/alice/", "access": "read"}


def test_the_api_gateway_request_id_is_the_request_id_when_the_client_sends_none(service):
    reply = LambdaChannel().send("GET", "/api/v1/health", request_id="Kd7nVgEHCGYEMJg=")
    assert reply.header("X-Request-Id") == "Kd7nVgEHCGYEMJg="


def test_the_clients_request_id_wins_over_api_gateways(service):
    reply = LambdaChannel().send("GET", "/api/v1/health", headers={"X-Request-Id": "client-42"}, request_id="gw-1=")
    assert reply.header("X-Request-Id") == "client-42"


def test_a_named_stage_serves_the_same_routes(service):
    reply = LambdaChannel().send("GET", "/api/v1/health", stage="prod")
    assert (reply.status, reply.json()["status"]) == (200, "ok")


def test_audit_records_are_json_objects_carrying_the_correlation_id(service, idp):
    handler = logging.getLogger("tvs").handlers[0]  # Powertools' JSON handler on the "tvs" logger
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        LambdaChannel().send(
            "GET", "/api/v1/stores", headers={"Authorization": "Bearer not-a-token"}, request_id="corr-1="
        )
    finally:
        handler.setStream(previous)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    audit = next(line for line in lines if isinstance(line.get("message"), dict))
    assert (audit["message"]["event"], audit["message"]["outcome"], audit["correlation_id"]) == (
        "request",
        "denied",
        "corr-1=",
    )


def test_no_log_line_carries_the_bearer_token(service, idp):
    secret_token = token(idp, "alice", ["demo-users"])
    handler = logging.getLogger("tvs").handlers[0]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        LambdaChannel().send("GET", "/api/v1/stores", headers={"Authorization": f"Bearer {secret_token}"})
        LambdaChannel().send("GET", "/api/v1/stores", headers={"Authorization": f"Bearer {secret_token[:-4]}AAAA"})
    finally:
        handler.setStream(previous)
    assert stream.getvalue() and secret_token.split(".")[2] not in stream.getvalue()


def test_an_invalid_configuration_answers_503_without_naming_it(monkeypatch):
    reset_service(None)
    monkeypatch.setenv("TVS_CONFIG", json.dumps({"issuers": "one"}))
    monkeypatch.setenv("TVS_MODE", "deployed")
    reply = LambdaChannel().send("GET", "/api/v1/health")
    assert (reply.status, reply.json()["type"], reply.header("Retry-After")) == (
        503,
        "https://tvs.dev/problems/service-misconfigured",
        "300",
    )
    assert "issuers" not in reply.body.decode()


def test_the_sweep_budget_is_the_remaining_time_less_a_margin():
    assert sweep.budget_seconds(FakeLambdaContext(remaining_ms=300_000)) == pytest.approx(290.0, abs=0.5)


def test_the_sweep_budget_is_never_negative():
    assert sweep.budget_seconds(FakeLambdaContext(remaining_ms=3_000)) == 0.0


def test_the_scheduled_handler_runs_the_cores_sweep(service):
    summary = sweep.handler({"source": "aws.scheduler"}, FakeLambdaContext(remaining_ms=60_000))
    assert summary == {"stores": 0, "revoked": 0, "failed": 0, "reconciled": 0, "remaining": 0, "errors": []}


def test_the_scheduled_handler_fails_on_an_invalid_configuration(monkeypatch):
    from shared.errors import ConfigError

    reset_service(None)
    monkeypatch.setenv("TVS_CONFIG", "[]")
    with pytest.raises(ConfigError):
        sweep.handler({"source": "aws.scheduler"}, FakeLambdaContext())


def test_a_response_goes_back_as_text_not_base64(service):
    result = api.handler(http_api_event("GET", "/api/v1/health"), FakeLambdaContext())
    assert result["isBase64Encoded"] is False and json.loads(result["body"])["status"] == "ok"


def test_a_body_that_is_not_base64_is_refused_as_a_client_error(service, idp):
    event = http_api_event(
        "POST", "/api/v1/credentials", {"Content-Type": "application/json", "Authorization": f"Bearer {token(idp)}"}
    )
    event.update(body="%%%not base64", isBase64Encoded=True)
    result = api.handler(event, FakeLambdaContext())
    assert result["statusCode"] == 400


def test_base64_encoding_of_the_body_does_not_change_the_answer(service, idp):
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token(idp)}"}
    body = json.dumps({"store": "s", "access": "read", "colour": "red"}).encode()
    plain = LambdaChannel().send("POST", "/api/v1/credentials", headers, body, base64_body=False)
    encoded = LambdaChannel().send("POST", "/api/v1/credentials", headers, body, base64_body=True)
    assert (plain.status, plain.json()["detail"]) == (encoded.status, encoded.json()["detail"])


def test_a_store_that_cannot_be_swept_fails_the_scheduled_run(service):
    from shared.api.adapter import SweepIncomplete

    service._vendors["s"] = UnsweepableStore()
    with pytest.raises(SweepIncomplete) as err:
        sweep.handler({"source": "aws.scheduler"}, FakeLambdaContext(remaining_ms=60_000))
    assert err.value.summary["errors"] == [{"store": "s", "error": "store-unavailable"}]
