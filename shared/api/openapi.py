"""The OpenAPI 3.1 document of exactly the routes this build serves (docs/api.md), generated from the
contract (:mod:`shared.api.contract`): a route cannot be served without being published, nor published
without being served. Importable into API Management and API Gateway.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..access import LEVELS
from ..paths import MAX_PATH_CHARS, OBJECT_PATTERN, PATH_PATTERN
from .bodies import FORMATS
from .contract import API_VERSION, STORE_PATTERN, Operation

PROBLEM = {
    "description": "problem+json",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


# Answered on every route by the pipeline itself (shared/api/service.py): the request's size (413, 431) and a
# configuration the service cannot start with (503); on authenticated routes, the per-caller rate limit (429).
EVERY_ROUTE_ERRORS = (413, 431, 503)
AUTHENTICATED_ROUTE_ERRORS = (429,)


def _operation(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    if not op.auth:
        doc["security"] = []
    if op.parameters:
        doc["parameters"] = [dict(p) for p in op.parameters]
    if op.request:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.request}"}}},
        }
    ok: dict[str, Any] = {"description": op.response_description}
    if op.response:
        ok["content"] = {op.media_type: {"schema": {"$ref": f"#/components/schemas/{op.response}"}}}
    elif op.media_types:
        ok["content"] = {media_type: {"schema": {"type": "string"}} for media_type in op.media_types}
    if op.response_status in (301, 302, 303, 307, 308):
        ok["headers"] = {"Location": {"description": "relative to the request URL", "schema": {"type": "string"}}}
    errors = sorted({*op.errors, *EVERY_ROUTE_ERRORS, *(AUTHENTICATED_ROUTE_ERRORS if op.auth else ())})
    doc["responses"] = {
        str(op.response_status): ok,
        **{str(c): {"$ref": f"#/components/responses/E{c}"} for c in errors},
    }
    return doc


SCHEMAS = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "request_id": {"type": "string"},
        },
    },
    "OpenApi": {"type": "object"},
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string"}, "version": {"type": "string"}},
    },
    "StoreList": {
        "type": "object",
        "properties": {
            "stores": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "store": {"type": "string"},
                        "kind": {"type": "string"},
                        "description": {"type": "string"},
                        "grants": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["prefix", "access", "max_ttl_seconds", "produces"],
                                "properties": {
                                    "prefix": {"type": "string"},
                                    "access": {"type": "string", "enum": list(LEVELS)},
                                    "max_ttl_seconds": {"type": "integer"},
                                    "produces": {
                                        "type": "array",
                                        "description": "what this grant can produce on this store: one credential for "
                                        "the prefix, per-object signed URLs under it, both or neither",
                                        "items": {"type": "string", "enum": ["credential", "signed-url"]},
                                    },
                                },
                            },
                        },
                    },
                },
            }
        },
    },
    "CredentialRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["store", "access"],
        "properties": {
            "store": {"type": "string", "minLength": 1, "maxLength": 63, "pattern": STORE_PATTERN},
            "path": {
                "type": "string",
                "maxLength": MAX_PATH_CHARS,
                "pattern": PATH_PATTERN,
                "description": "a prefix ending in '/', or one object; default: everything. Literal: the pattern is "
                "the portable subset of the rules (docs/design.md, Literal paths); other Unicode text in NFC form "
                "is accepted too",
            },
            "access": {"type": "string", "enum": list(LEVELS)},
            "ttl_seconds": {
                "type": "integer",
                "minimum": 1,
                "maximum": 604800,
                "description": "clamped down to the grant's and the provider's maximum",
            },
            "format": {
                "type": "string",
                "enum": list(FORMATS),
                "default": "native",
            },
        },
    },
    "Credential": {
        "type": "object",
        "properties": {
            "credential_id": {"type": "string"},
            "store": {"type": "string"},
            "provider": {"type": "string"},
            "scope": {"type": "object"},
            "access": {"type": "string"},
            "issued_at": {"type": "string", "format": "date-time"},
            "expires_at": {"type": "string", "format": "date-time"},
            "credentials": {"type": "object"},
            "storage_options": {"type": "object"},
        },
    },
    "SignedUrlRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["store", "object"],
        "properties": {
            "store": {"type": "string", "minLength": 1, "maxLength": 63, "pattern": STORE_PATTERN},
            "object": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_PATH_CHARS,
                "pattern": OBJECT_PATTERN,
                "description": "one object, literal as a credential's path",
            },
            "method": {"type": "string", "enum": ["GET", "PUT", "DELETE"], "default": "GET"},
            "ttl_seconds": {"type": "integer", "minimum": 1, "maximum": 604800},
            "content_type": {"type": "string", "maxLength": 255, "pattern": "^[ -~]*/[ -~]*$"},
        },
    },
    "CredentialList": {
        "type": "object",
        "required": ["credentials", "next"],
        "properties": {
            "credentials": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["credential_id", "store", "provider", "scope", "issued_at", "expires_at", "state"],
                    "properties": {
                        "credential_id": {"type": "string"},
                        "store": {"type": "string"},
                        "provider": {"type": "string"},
                        "access_key_id": {"type": ["string", "null"]},
                        "scope": {"type": "object"},
                        "issued_at": {"type": "string", "format": "date-time"},
                        "expires_at": {"type": "string", "format": "date-time"},
                        "state": {"type": "string", "enum": ["pending", "active", "revoking"]},
                        "owner": {"type": "string"},
                    },
                },
            },
            "next": {"type": ["string", "null"], "description": "the cursor of the next page; null after the last"},
        },
    },
    "SignedUrl": {
        "type": "object",
        "required": ["url", "method", "headers", "expires_at"],
        "properties": {
            "url": {"type": "string"},
            "method": {"type": "string"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "expires_at": {"type": "string", "format": "date-time"},
            "store": {"type": "string"},
            "object": {"type": "string"},
            "credential_id": {"type": "string"},
        },
    },
    "Me": {
        "type": "object",
        "required": ["owner", "issuer", "subject", "groups", "roles", "admin"],
        "properties": {
            "owner": {"type": "string", "description": "issuer|subject: the owner field of revocable credentials"},
            "issuer": {"type": "string", "description": "the configured issuer's name"},
            "subject": {"type": "string"},
            "username": {"type": ["string", "null"]},
            "email": {"type": ["string", "null"]},
            "groups": {"type": "array", "items": {"type": "string"}},
            "roles": {"type": "array", "items": {"type": "string"}},
            "admin": {"type": "boolean", "description": "a member of admin_groups: may list and revoke others' keys"},
            "expires_at": {"type": ["string", "null"], "format": "date-time", "description": "the token's expiry"},
        },
    },
    "PageConfig": {
        "type": "object",
        "required": ["title", "sign_in", "features"],
        "properties": {
            "title": {"type": "string"},
            "sign_in": {
                "type": "object",
                "description": "an OIDC public client: authorization code flow with PKCE (S256)",
                "required": ["client_id", "authority", "scopes"],
                "properties": {
                    "client_id": {"type": "string"},
                    "authority": {"type": "string", "description": "the issuer URL; discovery names the endpoints"},
                    "scopes": {"type": "array", "items": {"type": "string"}},
                    "authorization_endpoint": {"type": ["string", "null"]},
                    "token_endpoint": {"type": ["string", "null"]},
                },
            },
            "features": {
                "type": "object",
                "properties": {
                    "organizations": {
                        "type": "boolean",
                        "description": "the access-manager organization listing is served",
                    }
                },
            },
        },
    },
    "ContainerCredentials": {
        "type": "object",
        "required": ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"],
        "properties": {k: {"type": "string"} for k in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration")},
    },
}

_CONFIDENTIALITY = {"type": "string", "enum": ["PUBLIC", "INTERNAL", "PRIVATE"]}
SCHEMAS.update(
    {
        "SasToken": {
            "type": "string",
            "minLength": 1,
            "description": "a container SAS (query string without '?'): sp=rl to read, racwl to upload, "
            "racwdl to delete",
        },
        "CommitFiles": {
            "type": "array",
            "maxItems": 10000,
            "description": "blob names in the loadingzone, sorted; the response header X-Commit-Id names the event",
            "items": {"type": "string"},
        },
        "Organization": {
            "type": "object",
            "required": ["id", "name", "confidentiality"],
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "name": {"type": "string", "pattern": "^[a-z0-9]{3,24}$"},
                "displayName": {"type": "string"},
                "description": {"type": "string"},
                "confidentiality": _CONFIDENTIALITY,
                "state": {"type": "string", "enum": ["OPEN"]},
                "owners": {"type": "array", "items": {"type": "string"}},
                "tags": {"type": "array", "items": {"type": "object"}},
            },
        },
        "OrganizationList": {"type": "array", "items": {"$ref": "#/components/schemas/Organization"}},
        "Space": {
            "type": "object",
            "required": ["name", "confidentiality", "organizationId"],
            "properties": {
                "id": {"type": ["integer", "null"], "minimum": 1},
                "name": {"type": "string", "pattern": "^[a-z0-9-]{3,63}$"},
                "displayName": {"type": "string"},
                "identifier": {"type": "string", "description": "the container (or S3 prefix) of the space"},
                "description": {"type": "string"},
                "confidentiality": _CONFIDENTIALITY,
                "organizationId": {"type": "integer", "minimum": 1},
                "state": {"type": "string", "enum": ["OPEN"]},
                "capabilities": {"type": "array", "items": {"type": "string", "enum": ["STORAGE"]}},
                "owners": {"type": "array", "items": {"type": "string"}},
                "tags": {"type": "array", "items": {"type": "object"}},
            },
        },
        "SpaceList": {"type": "array", "items": {"$ref": "#/components/schemas/Space"}},
    }
)

ERROR_TEXT = {
    400: "Bad request",
    401: "Missing or invalid bearer token",
    403: "Not granted",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    415: "Not JSON",
    429: "Throttled",
    431: "Request headers too large",
    503: "Upstream unavailable",
}


OPENAPI_VERSIONS = {"3.1": "3.1.0", "3.0": "3.0.3"}


def openapi_document(operations: Iterable[Operation], version: str = "3.1") -> dict:
    """The document in OpenAPI 3.1 (the default) or 3.0 (what API Gateway imports); the same routes
    and schemas either way, from the one contract."""
    paths: dict[str, dict] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    doc = {
        "openapi": OPENAPI_VERSIONS[version],
        "info": {
            "title": "Token vending service",
            "version": API_VERSION,
            "description": "Short-lived, least-privilege credentials for object storage.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": SCHEMAS,
            "responses": {f"E{c}": {**PROBLEM, "description": t} for c, t in ERROR_TEXT.items()},
        },
    }
    return _as_openapi_30(doc) if version == "3.0" else doc


def _as_openapi_30(node: Any) -> Any:
    """Rewrite the JSON Schema 2020-12 forms OpenAPI 3.0 lacks: a type list with "null" becomes
    ``nullable``, ``const`` an one-value ``enum``, ``examples`` one ``example``."""
    if isinstance(node, list):
        return [_as_openapi_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _as_openapi_30(v) for k, v in node.items()}
    kind = out.get("type")
    if isinstance(kind, list):
        others = [t for t in kind if t != "null"]
        out["type"] = others[0] if len(others) == 1 else others
        if "null" in kind:
            out["nullable"] = True
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if isinstance(out.get("examples"), list) and "paths" not in out:
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    return out
