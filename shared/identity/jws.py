"""A strict gate for the JWS compact serialization, before any library parses a token.

PyJWT decodes base64url leniently (padding, a non-canonical last character), which makes one token
many strings: cache keys, audit correlation and replay lists then disagree. A token passes only as
RFC 7515 writes it (docs/design.md, Identity):

- three segments of the base64url alphabet, no padding, no whitespace, at most ``MAX_TOKEN_CHARS``;
- canonical encodings only: each segment is exactly what encoding its bytes gives back;
- a header and a payload that are JSON objects (UTF-8, no NaN/Infinity) without duplicate member
  names, and a non-empty signature;
- no ``crit`` (this service understands no extension) and no ``b64`` other than ``true``.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from .. import strictjson

MAX_TOKEN_CHARS = 16_384
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+\Z", re.ASCII)


class MalformedToken(ValueError):
    """The token is not a strict JWS compact serialization; the message says why (never the token)."""


@dataclass(frozen=True)
class CompactJws:
    header: dict[str, Any]
    payload: dict[str, Any]


def parse_compact(token: object) -> CompactJws:
    """The header and payload of ``token`` (unverified), or :class:`MalformedToken`."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise MalformedToken("the bearer token is not a JWS compact token")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken("the bearer token is not a JWS compact token (three segments)")
    header_b64, payload_b64, signature_b64 = parts
    header = _json_object(_segment(header_b64, "header"), "header")
    payload = _json_object(_segment(payload_b64, "payload"), "payload")
    _segment(signature_b64, "signature")
    if "crit" in header:
        raise MalformedToken("the token's header names critical extensions this service does not understand")
    if header.get("b64", True) is not True:
        raise MalformedToken("the token's header asks for an unencoded payload (b64), which is not accepted")
    if not isinstance(header.get("alg"), str):
        raise MalformedToken("the token's header has no algorithm")
    return CompactJws(header, payload)


def _segment(text: str, what: str) -> bytes:
    if not _SEGMENT.match(text) or len(text) % 4 == 1:
        raise MalformedToken(f"the token's {what} is not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != text:
        raise MalformedToken(f"the token's {what} is not canonically encoded")
    return data


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = strictjson.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedToken(f"the token's {what} is not a JSON object") from None
    if not isinstance(value, dict):
        raise MalformedToken(f"the token's {what} is not a JSON object")
    return value


__all__ = ["CompactJws", "MalformedToken", "MAX_TOKEN_CHARS", "parse_compact"]
