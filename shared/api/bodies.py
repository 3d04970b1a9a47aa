"""Parsing and validating request bodies: every rule here answers 400/413/415, before any I/O."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from .. import access, strictjson
from ..accessmanager.directory import ORGANIZATION_NAME, SPACE_NAME
from ..authz import MAX_REQUEST_TTL
from ..config import STORE_ID
from ..errors import bad_request, problem
from ..paths import validate_object, validate_path
from .http import HttpRequest

FORMATS = ("native", "iceberg", "credential_process", "console", "duckdb")
METHODS = ("GET", "PUT", "DELETE")


@dataclass(frozen=True)
class CredentialRequest:
    store: str
    path: str
    access: str
    ttl_seconds: int | None
    format: str


@dataclass(frozen=True)
class SignedUrlRequest:
    store: str
    object: str
    method: str
    ttl_seconds: int | None
    content_type: str | None


def json_body(request: HttpRequest, max_bytes: int) -> dict:
    if len(request.body) > max_bytes:
        raise problem("body-too-large", f"the body is limited to {max_bytes} bytes")
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise problem("unsupported-media-type", "send 'Content-Type: application/json'")
    try:
        doc = strictjson.loads(request.body)
    except strictjson.DuplicateMember as exc:
        raise bad_request(f"{exc}: a request has one value per field", "duplicate-field") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request("the body is not valid UTF-8 JSON", "malformed-json") from None
    if not isinstance(doc, dict):
        raise bad_request("the body must be a JSON object", "malformed-json")
    return doc


def _fields(doc: dict, allowed: tuple[str, ...], required: tuple[str, ...]) -> None:
    unknown = sorted(set(doc) - set(allowed))
    if unknown:
        raise bad_request(f"unknown field '{unknown[0]}'; allowed: {', '.join(allowed)}", "unknown-field")
    for name in required:
        if name not in doc:
            raise bad_request(f"the field '{name}' is required", "missing-field")


def _string(doc: dict, name: str, default=None, max_len: int = 1024) -> str | None:
    value = doc.get(name, default)
    if value is not None and (not isinstance(value, str) or len(value) > max_len):
        raise bad_request(f"'{name}' must be a string of at most {max_len} characters", "bad-type")
    return value


def ttl(doc: dict) -> int | None:
    value = doc.get("ttl_seconds")
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 900.0 is the integer 900, as JSON Schema reads it (the OpenAPI document's type)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("'ttl_seconds' must be an integer number of seconds", "bad-ttl")
    if value <= 0:
        raise bad_request("'ttl_seconds' must be positive", "bad-ttl")
    if value > MAX_REQUEST_TTL:
        raise bad_request(
            f"'ttl_seconds' must be at most {MAX_REQUEST_TTL} (7 days); shorter maxima of the "
            "grant and the provider are applied by clamping",
            "bad-ttl",
        )
    return value


def _store(doc: dict) -> str:
    store = _string(doc, "store", max_len=63)
    if not store:
        raise bad_request("'store' must be a non-empty string", "bad-type")
    return store


def credential_request(doc: dict) -> CredentialRequest:
    _fields(doc, ("store", "path", "access", "ttl_seconds", "format"), ("store", "access"))
    level = _string(doc, "access")
    if level not in access.LEVELS:
        raise bad_request(f"'access' must be one of {', '.join(access.LEVELS)}", "bad-access")
    fmt = _string(doc, "format", "native")
    if fmt not in FORMATS:
        raise bad_request(f"'format' must be one of {', '.join(FORMATS)}", "bad-format")
    path = _string(doc, "path", "")
    try:
        path = validate_path(path)
    except ValueError as exc:
        raise bad_request(str(exc), "bad-path") from None
    return CredentialRequest(store=_store(doc), path=path, access=level, ttl_seconds=ttl(doc), format=fmt)


def credential_query(store: str, query: dict[str, str]) -> CredentialRequest:
    """A credential request given as ``?path=&access=&ttl_seconds=`` (the container-credentials route)."""
    _fields(query, ("path", "access", "ttl_seconds"), ("access",))
    doc: dict = {"store": store, **query}
    if "ttl_seconds" in doc:
        text = doc["ttl_seconds"]
        if not (text.isascii() and text.isdigit() and len(text) <= 9):
            raise bad_request("'ttl_seconds' must be an integer number of seconds", "bad-ttl")
        doc["ttl_seconds"] = int(text)
    return credential_request(doc)


def signed_url_request(doc: dict) -> SignedUrlRequest:
    _fields(doc, ("store", "object", "method", "ttl_seconds", "content_type"), ("store", "object"))
    method = (_string(doc, "method", "GET") or "").upper()
    if method not in METHODS:
        raise bad_request(f"'method' must be one of {', '.join(METHODS)}", "bad-method")
    obj = _string(doc, "object")
    try:
        obj = validate_object(obj)
    except ValueError as exc:
        raise bad_request(str(exc), "bad-path") from None
    content_type = _string(doc, "content_type", max_len=255)
    if content_type is not None and (not content_type.isprintable() or "/" not in content_type):
        raise bad_request("'content_type' must be a media type such as text/csv", "bad-type")
    return SignedUrlRequest(
        store=_store(doc), object=obj, method=method, ttl_seconds=ttl(doc), content_type=content_type
    )


@dataclass(frozen=True)
class CredentialListQuery:
    store: str | None
    state: str | None
    user: str | None
    everyone: bool
    limit: int
    cursor: Any


LIST_STATES = ("pending", "active", "revoking")


def credential_list_query(query: dict[str, str], default_limit: int, max_limit: int) -> CredentialListQuery:
    """``GET /api/v1/credentials?store=&state=&user=&all=&limit=&cursor=``, checked before any I/O."""
    _fields(query, ("store", "state", "user", "all", "limit", "cursor"), ())
    store = query.get("store")
    if store is not None and not STORE_ID.match(store):
        raise bad_request("'store' must be a store id", "bad-type")
    state = query.get("state")
    if state is not None and state not in LIST_STATES:
        raise bad_request(f"'state' must be one of {', '.join(LIST_STATES)}", "bad-type")
    user = query.get("user")
    if user is not None and not (0 < len(user) <= 1024 and user.isprintable()):
        raise bad_request("'user' must name an owner (issuer|subject)", "bad-type")
    everyone = query.get("all", "false")
    if everyone not in ("true", "false"):
        raise bad_request("'all' must be true or false", "bad-type")
    text = query.get("limit", str(default_limit))
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= max_limit):
        raise bad_request(f"'limit' must be an integer from 1 to {max_limit}", "bad-type")
    return CredentialListQuery(
        store=store,
        state=state,
        user=user,
        everyone=everyone == "true",
        limit=int(text),
        cursor=decode_cursor(query.get("cursor")),
    )


def encode_cursor(cursor: Any) -> str | None:
    """A ledger's page cursor as an opaque, URL-safe string (None stays None)."""
    if cursor is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> Any:
    if text is None:
        return None
    try:
        if len(text) > 2048:
            raise ValueError
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, RecursionError):
        raise bad_request("'cursor' is not one this service handed out", "bad-cursor") from None


# -- the access-manager API (docs/accessmanager.md): query parameters, checked before any I/O ----------
PERMISSION_FILTERS = ("READ", "WRITE", "DELETE", "GET")
MAX_ORGANIZATION_ID = 2**63 - 1


@dataclass(frozen=True)
class AccessManagerQuery:
    organization: str
    space: str
    root_dir: str | None = None


def _name(query: dict[str, str], key: str, pattern, rule: str) -> str:
    value = query[key]
    if not pattern.match(value):
        raise bad_request(f"'{key}' must be {rule}; '{_shown(value)}' is not", "bad-name")
    return value


def _shown(value: str) -> str:
    """A refused value, safe to repeat in a detail: printable ASCII, at most 64 characters."""
    text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in value[:64])
    return text + ("…" if len(value) > 64 else "")


def organization_name(value: str) -> str:
    return _name({"organization": value}, "organization", ORGANIZATION_NAME, "3-24 characters of a-z and 0-9")


def accessmanager_query(query: dict[str, str], with_root_dir: bool = False) -> AccessManagerQuery:
    """``?organization=&space=`` (and ``rootDir=`` for commit). Names follow that service's rules,
    exactly: no other letter case, no other Unicode form, nothing that could mean more than itself."""
    allowed = ("organization", "space", "rootDir") if with_root_dir else ("organization", "space")
    _fields(query, allowed, ("organization", "space"))
    organization = _name(query, "organization", ORGANIZATION_NAME, "3-24 characters of a-z and 0-9")
    space = _name(query, "space", SPACE_NAME, "3-63 characters of a-z, 0-9 and '-'")
    if not with_root_dir:
        return AccessManagerQuery(organization, space)
    root_dir = query.get("rootDir", "none")  # that service's default when a client leaves it out
    try:
        if root_dir == "" or root_dir.startswith("/") or root_dir.endswith("/"):
            raise ValueError("'rootDir' is a directory without a leading or trailing '/'")
        validate_path(root_dir, "'rootDir'")
    except ValueError as exc:
        raise bad_request(str(exc), "bad-path") from None
    return AccessManagerQuery(organization, space, root_dir)


def permission_filter(query: dict[str, str]) -> str | None:
    """``?permissions=READ|WRITE|DELETE|GET`` in any letter case (as that service reads it); GET or
    none: no filter."""
    _fields(query, ("permissions",), ())
    value = query.get("permissions")
    if value is None:
        return None
    upper = value.upper() if value.isascii() else ""
    if upper not in PERMISSION_FILTERS:
        raise bad_request(f"'permissions' must be one of {', '.join(PERMISSION_FILTERS)}", "bad-access")
    return None if upper == "GET" else upper


def organization_id(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 19) or int(text) < 1 or int(text) > MAX_ORGANIZATION_ID:
        raise bad_request("the organization id is a positive integer", "bad-type")
    return int(text)
