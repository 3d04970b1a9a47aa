"""A tiny RSA identity provider for token tests: a JWKS, and tokens with any header and claims."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class RsaIdp:
    def __init__(self, issuer: str, kid: str = "k1"):
        self.issuer = issuer
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.up = True
        self.fetches = 0
        self.urls: list[str] = []

    def jwk(self, kid: str | None = None) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": kid or self.kid, "use": "sig", "alg": "RS256"})
        return jwk

    def rotate(self, kid: str) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid

    def fetch(self, url: str, timeout: float) -> dict:
        self.fetches += 1
        self.urls.append(url)
        if not self.up:
            raise OSError("connection refused")
        if url.endswith("openid-configuration"):
            return {"issuer": self.issuer, "jwks_uri": self.issuer + "/keys"}
        return {"keys": [self.jwk()]}

    def claims(self, **over) -> dict:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": "tvs", "sub": "alice", "iat": now, "exp": now + 600}
        body.update(over)
        return {k: v for k, v in body.items() if v is not None}

    def token(self, headers: dict | None = None, key=None, **claims) -> str:
        return jwt.encode(
            self.claims(**claims), key or self.key, algorithm="RS256", headers={"kid": self.kid, **(headers or {})}
        )

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def hmac_with_public_key(self, **claims) -> str:
        """The classic confusion attack: HS256 keyed with the issuer's public key."""
        header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": self.kid}).encode())
        payload = b64(json.dumps(self.claims(**claims)).encode())
        sig = hmac.new(self.public_pem(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{b64(sig)}"

    def unsigned(self, **claims) -> str:
        header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": self.kid}).encode())
        return f"{header}.{b64(json.dumps(self.claims(**claims)).encode())}."
