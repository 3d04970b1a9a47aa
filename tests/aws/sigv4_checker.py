"""Recomputes the SigV4 signature of a presigned S3 URL (standard library only, no botocore).

moto server serves a presigned URL without checking its signature, so the tests check it here:
a URL is valid only for the method, object, headers and secret it was signed for.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, quote, urlsplit


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signature_is_valid(url: str, method: str, secret_access_key: str, headers: dict[str, str] | None = None) -> bool:
    """True when the URL's ``X-Amz-Signature`` is the one ``secret_access_key`` gives for this request."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = dict(query)
    signature = given.get("X-Amz-Signature", "")
    _key_id, date, region, service, terminal = given["X-Amz-Credential"].split("/")
    signed_names = given["X-Amz-SignedHeaders"].split(";")
    all_headers = {"host": parts.netloc, **{k.lower(): v.strip() for k, v in (headers or {}).items()}}
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query) if k != "X-Amz-Signature"
    )
    canonical_headers = "".join(f"{name}:{all_headers.get(name, '')}\n" for name in signed_names)
    canonical_request = "\n".join(
        [method, parts.path, canonical_query, canonical_headers, ";".join(signed_names), "UNSIGNED-PAYLOAD"]
    )
    scope = f"{date}/{region}/{service}/{terminal}"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", given["X-Amz-Date"], scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_access_key}".encode(), date), region), service), terminal)
    return hmac.compare_digest(hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest(), signature)
