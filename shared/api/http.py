"""Neutral request and response types shared by every adapter."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:=-]{1,128}\Z")  # "=": API Gateway request ids end with it


class Headers(dict):
    """Case-insensitive header map (keys stored lower-case)."""

    def __init__(self, items: Mapping[str, str] | None = None):
        super().__init__()
        for k, v in (items or {}).items():
            self[k.lower()] = v

    def get(self, key: str, default=None):
        return super().get(key.lower(), default)


@dataclass
class HttpRequest:
    method: str
    path: str  # e.g. /api/v1/credentials, without the query string
    headers: Mapping[str, str] = field(default_factory=Headers)  # any mapping; kept as a case-insensitive Headers
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    request_id: str = ""  # the client's (or the platform's) when well formed, else a new one

    def __post_init__(self):
        if not isinstance(self.headers, Headers):
            self.headers = Headers(self.headers)
        self.method = self.method.upper()
        rid = self.request_id or self.headers.get("x-request-id")
        self.request_id = rid if isinstance(rid, str) and _REQUEST_ID.match(rid) else str(uuid.uuid4())


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
}


def json_response(status: int, payload: Any, request_id: str, headers: Mapping[str, str] | None = None) -> HttpResponse:
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    out = {"Content-Type": "application/json", **SECURITY_HEADERS, "X-Request-Id": request_id}
    out.update(headers or {})
    return HttpResponse(status, out, body)


def problem_response(problem: Problem, request_id: str, instance: str | None = None) -> HttpResponse:
    payload = problem.to_body()
    if instance:
        payload["instance"] = instance
    payload["request_id"] = request_id
    resp = json_response(problem.status, payload, request_id, problem.headers)
    resp.headers["Content-Type"] = "application/problem+json"
    return resp
