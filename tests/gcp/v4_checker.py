"""Checks a V4 signed URL of Cloud Storage the way Google does, from its documented signing process
(standard library and ``cryptography`` only; nothing of google-cloud-storage's signer).

The emulator serves any URL without looking at its signature, so the tests check it here:

1. the canonical request is ``METHOD``, the URL's path (as sent, percent-encoded), the canonical
   query string (every parameter but ``X-Goog-Signature``, names and values percent-encoded with
   only unreserved characters left as they are, sorted), the canonical headers (lower-case names,
   values trimmed with inner white space collapsed, sorted, ``name:value`` each on its own line, and
   an empty line), the signed header names joined with ``;``, and ``UNSIGNED-PAYLOAD``;
2. the string to sign is ``GOOG4-RSA-SHA256``, ``X-Goog-Date``, the credential scope
   (``<date>/<location>/storage/goog4_request``) and the hex SHA-256 of the canonical request;
3. ``X-Goog-Signature`` is the hex RSASSA-PKCS1-v1_5 SHA-256 signature of the string to sign, by the
   key of the service account the credential names.

A URL is valid for a request only with the same method, path, query, and exactly the signed headers
with the same values: a changed method, object, header or expiry fails the check.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def string_to_sign(url: str, method: str, headers: dict[str, str] | None = None) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = dict(query)
    sent = {"host": parts.netloc, **{k.lower().strip(): " ".join(v.split()) for k, v in (headers or {}).items()}}
    signed = given["X-Goog-SignedHeaders"].split(";")
    canonical_query = "&".join(sorted(f"{_encode(k)}={_encode(v)}" for k, v in query if k != "X-Goog-Signature"))
    canonical_headers = "".join(f"{name}:{sent.get(name, '')}\n" for name in sorted(signed))
    canonical_request = "\n".join(
        [method, parts.path, canonical_query, canonical_headers, ";".join(sorted(signed)), "UNSIGNED-PAYLOAD"]
    )
    scope = given["X-Goog-Credential"].split("/", 1)[1]
    return "\n".join(
        ["GOOG4-RSA-SHA256", given["X-Goog-Date"], scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )


def signature_is_valid(url: str, method: str, public_key, headers: dict[str, str] | None = None) -> bool:
    """True when the URL's signature is ``public_key``'s for this method, path, query and headers.

    Every header the client sends must be signed (a URL signed without ``Content-Type`` does not
    allow choosing one), and every signed header must be sent with the signed value.
    """
    given = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    signed = set(given["X-Goog-SignedHeaders"].split(";"))
    if not {k.lower() for k in (headers or {})} <= signed:
        return False
    try:
        signature = bytes.fromhex(given["X-Goog-Signature"])
        public_key.verify(signature, string_to_sign(url, method, headers).encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, KeyError):
        return False
    return True


def signer_of(url: str) -> str:
    """The service account the URL's credential names."""
    return dict(parse_qsl(urlsplit(url).query))["X-Goog-Credential"].split("/", 1)[0]


def expiry_of(url: str) -> datetime:
    """``X-Goog-Date`` + ``X-Goog-Expires``: when Google stops accepting the URL."""
    given = dict(parse_qsl(urlsplit(url).query))
    signed_at = datetime.strptime(given["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return signed_at + timedelta(seconds=int(given["X-Goog-Expires"]))
