"""The three ways a request reaches the core, driven the way each platform drives its adapter.

- :class:`AzureChannel`: the Functions host's router (literal routes before the catch-all, the
  route prefix ``api``) picks a function of ``function_app`` and calls it with a
  ``func.HttpRequest`` and a context carrying an invocation id.
- :class:`LambdaChannel`: an API Gateway HTTP API payload 2.0 event (stage ``$default``, binary
  bodies base64-encoded, cookies in their own field) and a Lambda context, into ``lambda.api.handler``.
- :class:`LocalChannel`: real HTTP to the local server.

Each answers a :class:`Reply`, so a test can compare what a client would see.
"""

from __future__ import annotations

import base64
import http.client
import importlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from shared.kinds.contract import RevocableVendor

TEXT_TYPES = ("application/json", "text/")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def _lower(headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


_azure_functions: list = []


def azure_functions() -> list:
    """The functions of ``function_app`` as the host indexes them (``get_functions`` works once per app)."""
    if not _azure_functions:
        _azure_functions.extend(importlib.import_module("function_app").app.get_functions())
    return _azure_functions


class AzureChannel:
    name = "azure"

    def __init__(self):
        self.routes = []
        for fn in azure_functions():
            trigger = fn.get_trigger().get_dict_repr()
            if trigger.get("type") != "httpTrigger":
                continue
            template = "api/" + trigger["route"]
            regex = re.sub(r"\\\{\\\*\w+\\\}", ".*", re.escape(template))
            regex = re.sub(r"\\\{\w+\\\}", "[^/]+", regex)
            methods = {str(getattr(m, "value", m)) for m in trigger["methods"]}
            catch_all = "{*" in template
            self.routes.append((catch_all, re.compile(f"^/{regex}$"), methods, fn))
        self.routes.sort(key=lambda r: r[0])  # literal routes take precedence over the catch-all

    def function_for(self, method: str, path: str):
        for _, pattern, methods, fn in self.routes:
            if pattern.match(path) and method in methods:
                return fn
        return None

    def send(
        self,
        method: str,
        path: str,
        headers: dict | None = None,
        body: bytes = b"",
        query: dict | None = None,
        invocation_id: str | None = None,
    ) -> Reply:
        import azure.functions as func

        fn = self.function_for(method, path)
        if fn is None:
            return Reply(404, {}, b"")  # what the host answers for a path no function takes
        qs = urlencode(query or {})
        req = func.HttpRequest(
            method=method,
            url=f"http://localhost:7071{path}{'?' + qs if qs else ''}",
            headers=dict(headers or {}),
            params=dict(query or {}),
            route_params={},
            body=body,
        )
        context = type(
            "Context",
            (),
            {"invocation_id": invocation_id or str(uuid.uuid4()), "function_name": fn.get_function_name()},
        )()
        resp = fn.get_user_function()(req, context)
        return Reply(resp.status_code, _lower(resp.headers), resp.get_body())


class FakeLambdaContext:
    function_name = "tvs-api"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:tvs-api"
    log_group_name = "/aws/lambda/tvs-api"
    log_stream_name = "2026/11/22/[$LATEST]0123456789abcdef"

    def __init__(self, remaining_ms: int = 29_000):
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def http_api_event(
    method: str,
    path: str,
    headers: dict | None = None,
    body: bytes = b"",
    query: dict | None = None,
    stage: str = "$default",
    request_id: str | None = None,
    base64_body: bool | None = None,
) -> dict:
    """An API Gateway HTTP API payload 2.0 event as API Gateway builds it."""
    headers = _lower(headers or {})
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    ctype = headers.get("content-type", "")
    if base64_body is None:
        base64_body = bool(body) and not ctype.startswith(TEXT_TYPES)
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"host": "abc123.execute-api.eu-west-3.amazonaws.com", **headers},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-3.amazonaws.com",
            "domainPrefix": "abc123",
            "requestId": request_id or f"{uuid.uuid4().hex[:12]}=",
            "routeKey": "$default",
            "stage": stage,
            "time": "22/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795341600000,
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": headers.get("user-agent", "test"),
            },
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if cookies:
        event["cookies"] = cookies
    if body:
        event["body"] = base64.b64encode(body).decode() if base64_body else body.decode("utf-8")
    return event


class LambdaChannel:
    name = "lambda"

    def __init__(self):
        self.module = importlib.import_module("lambda.api")

    def send(
        self,
        method: str,
        path: str,
        headers: dict | None = None,
        body: bytes = b"",
        query: dict | None = None,
        **event_options,
    ) -> Reply:
        result = self.module.handler(
            http_api_event(method, path, headers, body, query, **event_options), FakeLambdaContext()
        )
        raw = result.get("body") or ""
        data = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
        return Reply(result["statusCode"], _lower(result.get("headers") or {}), data)


class LocalChannel:
    name = "local"

    def __init__(self, server):
        self.server = server

    def send(
        self, method: str, path: str, headers: dict | None = None, body: bytes = b"", query: dict | None = None
    ) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            qs = urlencode(query or {})
            conn.request(method, path + ("?" + qs if qs else ""), body=body or None, headers=dict(headers or {}))
            resp = conn.getresponse()
            return Reply(resp.status, _lower(dict(resp.getheaders())), resp.read())
        finally:
            conn.close()


class UnsweepableStore(RevocableVendor):
    """A revocable store whose ledger cannot be reached."""

    provider = "fake"

    def __init__(self):
        pass

    def issue(self, grant):
        raise NotImplementedError

    def owner_of(self, credential_id):
        return None

    def revoke(self, credential_id, reason):
        raise NotImplementedError

    def describe(self, record):
        raise NotImplementedError

    def reclaim_expired(self, budget_seconds):
        return {"revoked": 0, "failed": 0, "reconciled": 0, "remaining": 0, "error": "store-unavailable"}
