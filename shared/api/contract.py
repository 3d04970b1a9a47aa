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
from ..paths import MAX_PATH_CHARS, OBJECT_PATTERN, PATH_PATTERN

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
    media_type: str = "application/json"  # of the success response
    parameters: tuple[dict[str, Any], ...] = ()
    errors: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    media_types: tuple[str, ...] = ()  # a response that is not JSON: its media types (the page's files)
    trailing_slash: bool = False  # the path also matches with a trailing '/' (as Azure Functions routes it)

    @property
    def route(self) -> str:
        """The path under the base path, as Azure Functions and API Gateway route it."""
        return self.path.removeprefix(BASE_PATH + "/")


def _path_param(name: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, **schema}}


STORE_PATTERN = "^[a-z0-9][a-z0-9-]{0,62}$"  # a store id (shared.config.STORE_ID)
PRINTABLE_PATTERN = "^[ -~]+$"  # printable ASCII: the portable part of what the service reads as printable


# The access-manager API (docs/accessmanager.md): that service's paths under our base path, its query names.
ORGANIZATION_PATTERN = "^[a-z0-9]{3,24}$"
SPACE_PATTERN = "^[a-z0-9-]{3,63}$"
_ORGANIZATION = {
    "name": "organization",
    "in": "query",
    "required": True,
    "description": "the organization (a storage account)",
    "schema": {"type": "string", "pattern": ORGANIZATION_PATTERN},
}
_SPACE = {
    "name": "space",
    "in": "query",
    "required": True,
    "description": "the space (a container of the organization)",
    "schema": {"type": "string", "pattern": SPACE_PATTERN},
}
_ROOT_DIR = {
    "name": "rootDir",
    "in": "query",
    "description": "the directory of the loadingzone this upload wrote to (literal path rules, no leading or "
    "trailing '/')",
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_PATH_CHARS,
        "pattern": OBJECT_PATTERN,
        "default": "none",
    },
}
_PERMISSIONS = {
    "name": "permissions",
    "in": "query",
    "description": "only what the caller holds this permission on (any letter case); GET or none: what the caller "
    "may use at all",
    "schema": {"type": "string", "enum": ["READ", "WRITE", "DELETE", "GET"]},
}
_ORGA_ID = {
    "name": "orgaId",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
}
_AM_ERRORS = (400, 401, 403, 404, 409, 503)


def _sas(path: str, operation_id: str, function: str, summary: str) -> Operation:
    return Operation(
        "POST",
        f"/api/v2.0/accessmanager/{path}",
        operation_id,
        function,
        summary,
        response="SasToken",
        response_description="The SAS token alone, as text (no leading '?')",
        media_type="text/plain",
        parameters=(_ORGANIZATION, _SPACE),
        errors=_AM_ERRORS,
    )


ACCESSMANAGER_OPERATIONS: tuple[Operation, ...] = (
    _sas("read", "amRead", "am_read", "A container SAS to list and read a space"),
    _sas(
        "upload",
        "amUpload",
        "am_upload",
        "A container SAS to upload into the organization's loadingzone (needs write rights on the space)",
    ),
    _sas(
        "upload/main",
        "amUploadMain",
        "am_upload_main",
        "A container SAS to upload straight into the space (needs delete rights on it)",
    ),
    _sas("delete", "amDelete", "am_delete", "A container SAS to list, read, write and delete in a space"),
    Operation(
        "POST",
        "/api/v2.0/accessmanager/commit",
        "amCommit",
        "am_commit",
        "Signal that an upload to the loadingzone is complete: the files under rootDir, and one commit event",
        response="CommitFiles",
        response_description="The names of the loadingzone's files under rootDir/",
        parameters=(_ORGANIZATION, _SPACE, _ROOT_DIR),
        errors=_AM_ERRORS,
    ),
    Operation(
        "GET",
        "/api/v1.0/organization",
        "omListOrganizations",
        "om_list_organizations",
        "The organizations the caller may use, or holds a permission on a space of",
        response="OrganizationList",
        parameters=(_PERMISSIONS,),
        errors=(400, 401, 404, 503),
    ),
    Operation(
        "GET",
        "/api/v1.0/organization/name/{name}",
        "omOrganizationByName",
        "om_organization_by_name",
        "One organization the caller may use, by name",
        response="Organization",
        parameters=(
            {
                "name": "name",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": ORGANIZATION_PATTERN},
            },
        ),
        errors=(400, 401, 403, 404, 503),
    ),
    Operation(
        "GET",
        "/api/v2.0/organization/{orgaId}/space",
        "omListSpaces",
        "om_list_spaces",
        "The spaces of one organization the caller holds a permission on",
        response="SpaceList",
        parameters=(_ORGA_ID, _PERMISSIONS),
        errors=(400, 401, 403, 404, 503),
    ),
    Operation(
        "GET",
        "/api/v1.0/space/{orgaId}",
        "omListSpacesV1",
        "om_list_spaces_v1",
        "The spaces of one organization the caller holds a permission on (the older path)",
        response="SpaceList",
        parameters=(_ORGA_ID, _PERMISSIONS),
        errors=(400, 401, 403, 404, 503),
    ),
)
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
        "/api/v1/openapi-3.0.json",
        "openapi30",
        "openapi_30",
        "This document in OpenAPI 3.0 (what API Gateway imports)",
        auth=False,
        response="OpenApi",
        response_description="The OpenAPI 3.0 document",
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
            {"name": "store", "in": "query", "schema": {"type": "string", "pattern": STORE_PATTERN}},
            {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["pending", "active", "revoking"]}},
            {
                "name": "user",
                "in": "query",
                "description": "administrators: the owner (issuer|subject) to list",
                "schema": {"type": "string", "minLength": 1, "maxLength": 1024, "pattern": PRINTABLE_PATTERN},
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
            _path_param("store", maxLength=63, pattern=STORE_PATTERN),
            {
                "name": "path",
                "in": "query",
                "schema": {"type": "string", "maxLength": MAX_PATH_CHARS, "pattern": PATH_PATTERN},
            },
            {"name": "access", "in": "query", "required": True, "schema": {"type": "string", "enum": list(LEVELS)}},
            {"name": "ttl_seconds", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 604800}},
        ),
        errors=(400, 401, 403, 404, 503),
    ),
    *ACCESSMANAGER_OPERATIONS,
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
