"""What a handler sees: the route it answers (an operation of the contract and its handler) and the
request's context (the service, the request, the path parameters, the verified caller)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..identity.principal import Principal
from .contract import Operation
from .http import HttpRequest, HttpResponse, json_response

if TYPE_CHECKING:  # the service holds the routes: a runtime import would be a cycle
    from .service import VendingService


@dataclass
class Route:
    operation: Operation
    handler: Callable[[RequestContext], HttpResponse]
    pattern: re.Pattern = field(init=False)

    def __post_init__(self):
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.operation.path))
        if self.operation.trailing_slash:
            regex += "/?"
        self.pattern = re.compile(f"^{regex}\\Z")

    @property
    def method(self) -> str:
        return self.operation.method

    @property
    def template(self) -> str:
        return self.operation.path

    @property
    def auth(self) -> bool:
        return self.operation.auth

    @property
    def raw_token(self) -> bool:
        return self.operation.raw_token


@dataclass
class RequestContext:
    service: VendingService
    request: HttpRequest
    params: dict[str, str]
    principal: Principal | None = None

    @property
    def caller(self) -> Principal:
        """The verified caller of a route that requires a token (the pipeline checked it first)."""
        if self.principal is None:
            raise RuntimeError("a route without authentication asked for its caller")
        return self.principal

    def json(self, status: int, payload: Any, headers: dict | None = None) -> HttpResponse:
        return json_response(status, payload, self.request.request_id, headers)
