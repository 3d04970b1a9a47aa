"""The OpenAPI 3.1 document of exactly the routes this build serves (API.md).

Each route's operation is described here; a route that is not in the table is not in the
document. Importable into API Management and API Gateway.
"""
from __future__ import annotations

from typing import Iterable

from ..access import LEVELS

PROBLEM = {"description": "problem+json", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _errors(*codes: int) -> dict:
    return {str(c): {"$ref": f"#/components/responses/E{c}"} for c in codes}


def _json(schema_ref: str, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _body(schema_ref: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


OPERATIONS: dict[tuple[str, str], dict] = {
    ("GET", "/api/v1/health"): {"operationId": "health", "summary": "Liveness", "security": [],
                                "responses": {"200": _json("Health")}},
    ("GET", "/api/v1/openapi.json"): {"operationId": "openapi", "summary": "This document", "security": [],
                                      "responses": {"200": {"description": "OpenAPI 3.1 document",
                                                            "content": {"application/json": {"schema": {"type": "object"}}}}}},
    ("GET", "/api/v1/stores"): {"operationId": "listStores", "summary": "What the caller may ask for",
                                "responses": {"200": _json("StoreList"), **_errors(401, 503)}},
    ("POST", "/api/v1/credentials"): {"operationId": "createCredential",
                                      "summary": "Vend a credential for a store, a path prefix and an access level",
                                      "requestBody": _body("CredentialRequest"),
                                      "responses": {"200": _json("Credential"), **_errors(400, 401, 403, 404, 409, 413, 415, 429, 503)}},
    ("POST", "/api/v1/signed-urls"): {"operationId": "createSignedUrl", "summary": "A URL for one object and one method",
                                      "requestBody": _body("SignedUrlRequest"),
                                      "responses": {"200": _json("SignedUrl"), **_errors(400, 401, 403, 404, 413, 415, 429, 503)}},
    ("DELETE", "/api/v1/credentials/{credential_id}"): {
        "operationId": "revokeCredential", "summary": "Revoke a revocable credential (VAST keys)",
        "parameters": [{"name": "credential_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"204": {"description": "Revoked"}, **_errors(401, 403, 404, 409, 503)}},
    ("GET", "/api/v1/aws/container-credentials/{store}"): {
        "operationId": "containerCredentials", "summary": "AWS container-credentials shape",
        "parameters": [{"name": "store", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "path", "in": "query", "schema": {"type": "string"}},
                       {"name": "access", "in": "query", "schema": {"type": "string", "enum": list(LEVELS)}}],
        "responses": {"200": {"description": "AWS SDK container credentials",
                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ContainerCredentials"}}}},
                      **_errors(400, 401, 403, 404, 503)}},
}

SCHEMAS = {
    "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
        "type": {"type": "string", "format": "uri"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "request_id": {"type": "string"}}},
    "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}, "version": {"type": "string"}}},
    "StoreList": {"type": "object", "properties": {"stores": {"type": "array", "items": {"type": "object", "properties": {
        "store": {"type": "string"}, "kind": {"type": "string"}, "description": {"type": "string"},
        "grants": {"type": "array", "items": {"type": "object", "properties": {
            "prefix": {"type": "string"}, "access": {"type": "string", "enum": list(LEVELS)},
            "max_ttl_seconds": {"type": "integer"}}}}}}}}},
    "CredentialRequest": {"type": "object", "additionalProperties": False, "required": ["store", "access"], "properties": {
        "store": {"type": "string", "maxLength": 63},
        "path": {"type": "string", "maxLength": 1024, "description": "a prefix ending in '/', or one object; default: everything"},
        "access": {"type": "string", "enum": list(LEVELS)},
        "ttl_seconds": {"type": "integer", "minimum": 1, "maximum": 604800,
                        "description": "clamped down to the grant's and the provider's maximum"},
        "format": {"type": "string", "enum": ["native", "iceberg", "credential_process", "console"], "default": "native"}}},
    "Credential": {"type": "object", "properties": {
        "credential_id": {"type": "string"}, "store": {"type": "string"}, "provider": {"type": "string"},
        "scope": {"type": "object"}, "access": {"type": "string"}, "issued_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": "string", "format": "date-time"}, "credentials": {"type": "object"},
        "storage_options": {"type": "object"}}},
    "SignedUrlRequest": {"type": "object", "additionalProperties": False, "required": ["store", "object"], "properties": {
        "store": {"type": "string"}, "object": {"type": "string", "maxLength": 1024},
        "method": {"type": "string", "enum": ["GET", "PUT", "DELETE"], "default": "GET"},
        "ttl_seconds": {"type": "integer", "minimum": 1, "maximum": 604800},
        "content_type": {"type": "string"}}},
    "SignedUrl": {"type": "object", "required": ["url", "method", "headers", "expires_at"], "properties": {
        "url": {"type": "string"}, "method": {"type": "string"}, "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "expires_at": {"type": "string", "format": "date-time"}, "store": {"type": "string"}, "object": {"type": "string"},
        "credential_id": {"type": "string"}}},
    "ContainerCredentials": {"type": "object", "required": ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"],
                             "properties": {k: {"type": "string"} for k in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration")}},
}

ERROR_TEXT = {400: "Bad request", 401: "Missing or invalid bearer token", 403: "Not granted", 404: "Not found",
              409: "Conflict", 413: "Body too large", 415: "Not JSON", 429: "Throttled", 503: "Upstream unavailable"}


def openapi_document(routes: Iterable) -> dict:
    paths: dict[str, dict] = {}
    for route in routes:
        op = OPERATIONS.get((route.method, route.template))
        if op is None:
            continue  # a route must be described here to be published
        paths.setdefault(route.template, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Token vending service", "version": "1.0.0",
                 "description": "Short-lived, least-privilege credentials for object storage."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": SCHEMAS,
            "responses": {f"E{c}": {**PROBLEM, "description": t} for c, t in ERROR_TEXT.items()},
        },
    }
