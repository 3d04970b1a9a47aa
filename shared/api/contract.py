"""The HTTP contract, declared once (docs/api.md): every route's method, path and OpenAPI operation.

The router (:mod:`shared.api.routes`), the Azure Functions route table (``function_app.py``), the
OpenAPI document (:mod:`shared.api.openapi`) and the HTTP API routes of ``template.yaml`` (checked by
``tests/deploy/test_template.py``) are all derived from :data:`OPERATIONS`. Adding a route is one
entry here and one handler in ``routes.py`` (CONTRIBUTING.md, "Adding a route").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..access import LEVELS

API_VERSION = "1.0.0"  # the version of this contract: health answers it, the OpenAPI document carries it
BASE_PATH = "/api"


@dataclass(frozen=True)
class Operation:
    """One route. ``function`` names its Azure function; ``request`` and ``response`` name schemas of
    :mod:`shared.api.openapi`; ``errors`` are the problem statuses it may answer."""

    method: str
    path: str
    operation_id: str
    function: str
    summary: str
    auth: bool = True
    raw_token: bool = False  # container credentials: AWS SDKs send the token without "Bearer "
    request: str | None = None
    response: str | None = None
    response_status: int = 200
    response_description: str = "OK"
    parameters: tuple[dict[str, Any], ...] = ()
    errors: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    media_types: tuple[str, ...] = ()  # a response that is not JSON: its media types (the page's files)
    trailing_slash: bool = False  # the path also matches with a trailing '/' (as Azure Functions routes it)

    @property
    def route(self) -> str:
        """The path under the base path, as Azure Functions and API Gateway route it."""
        return self.path.removeprefix(BASE_PATH + "/")


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}


PAGE_MEDIA_TYPES = ("text/html", "text/javascript", "text/css", "image/svg+xml")

OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/api/v1/health", "health", "health", "Liveness", auth=False, response="Health"),
    Operation(
        "GET",
        "/api/v1/openapi.json",
        "openapi",
        "openapi",
        "This document",
        auth=False,
        response="OpenApi",
        response_description="The OpenAPI document",
    ),
    Operation(
        "GET",
        "/api/v1/stores",
        "listStores",
        "list_stores",
        "What the caller may ask for",
        response="StoreList",
        errors=(401, 503),
    ),
    Operation(
        "POST",
        "/api/v1/credentials",
        "createCredential",
        "create_credential",
        "Vend a credential for a store, a path prefix and an access level",
        request="CredentialRequest",
        response="Credential",
        errors=(400, 401, 403, 404, 409, 413, 415, 429, 503),
    ),
    Operation(
        "GET",
        "/api/v1/credentials",
        "listCredentials",
        "list_credentials",
        "The caller's live revocable credentials (administrators: another user's, or all); never a secret",
        response="CredentialList",
        parameters=(
            {"name": "store", "in": "query", "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}},
            {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["pending", "active", "revoking"]}},
            {
                "name": "user",
                "in": "query",
                "description": "administrators: the owner (issuer|subject) to list",
                "schema": {"type": "string", "minLength": 1, "maxLength": 1024},
            },
            {
                "name": "all",
                "in": "query",
                "description": "administrators: every owner",
                "schema": {"type": "string", "enum": ["true", "false"]},
            },
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
            },
            {
                "name": "cursor",
                "in": "query",
                "description": "the 'next' of the previous page",
                "schema": {"type": "string", "minLength": 1, "maxLength": 2048},
            },
        ),
        errors=(400, 401, 403, 404, 503),
    ),
    Operation(
        "DELETE",
        "/api/v1/credentials/{credential_id}",
        "revokeCredential",
        "revoke_credential",
        "Revoke a revocable credential (VAST keys)",
        response_status=204,
        response_description="Revoked",
        parameters=(_path_param("credential_id"),),
        errors=(401, 403, 404, 409, 503),
    ),
    Operation(
        "POST",
        "/api/v1/signed-urls",
        "createSignedUrl",
        "create_signed_url",
        "A URL for one object and one method",
        request="SignedUrlRequest",
        response="SignedUrl",
        errors=(400, 401, 403, 404, 413, 415, 429, 503),
    ),
    Operation(
        "GET",
        "/api/v1/aws/container-credentials/{store}",
        "containerCredentials",
        "container_credentials",
        "AWS container-credentials shape (the raw token is accepted in Authorization)",
        raw_token=True,
        response="ContainerCredentials",
        parameters=(
            _path_param("store"),
            {"name": "path", "in": "query", "schema": {"type": "string", "maxLength": 1024}},
            {"name": "access", "in": "query", "required": True, "schema": {"type": "string", "enum": list(LEVELS)}},
            {"name": "ttl_seconds", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 604800}},
        ),
        errors=(400, 401, 403, 404, 503),
    ),
    Operation(
        "GET",
        "/api/v1/me",
        "whoAmI",
        "who_am_i",
        "The caller as the service sees them: issuer, subject, groups, and whether they administer",
        response="Me",
        errors=(401, 503),
    ),
    Operation(
        "GET",
        "/api/v1/page-config",
        "pageConfig",
        "page_config",
        "How the self-service page signs in (public client settings; no secret)",
        auth=False,
        response="PageConfig",
        errors=(404, 503),
    ),
    Operation(
        "GET",
        "/api/ui",
        "pageRoot",
        "page_root",
        "The self-service page: a redirect to its index (relative, so it works under any base path)",
        auth=False,
        response_status=302,
        response_description="Found: Location ui/index.html",
        errors=(404, 503),
        trailing_slash=True,
    ),
    Operation(
        "GET",
        "/api/ui/{asset}",
        "pageAsset",
        "page_asset",
        "A file of the self-service page (index.html, page.js, page.css, icon.svg)",
        auth=False,
        response_description="The file",
        parameters=(_path_param("asset"),),
        errors=(404, 503),
        media_types=PAGE_MEDIA_TYPES,
    ),
)

__all__ = ["API_VERSION", "BASE_PATH", "OPERATIONS", "Operation"]
