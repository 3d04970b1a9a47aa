"""The development identity provider (local mode only; docs/api.md, Development identity provider).

Issues ES256 access tokens for any subject, groups and roles it is asked for, so demos and tests can
play every role (the access-manager roles such as ``org_demo_access`` go in ``roles``), and make
expired or foreign tokens on purpose through ``claims``.
"""

from __future__ import annotations

import json
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

DEV_AUDIENCE = "api://tvs-local"
DEFAULT_LIFETIME = 3600


class DevIdentityProvider:
    def __init__(self, issuer: str, audience: str = DEV_AUDIENCE):
        self.issuer = issuer
        self.audience = audience
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.kid = uuid.uuid4().hex[:16]
        self._jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self._key.public_key()))
        self._jwk.update({"kid": self.kid, "use": "sig", "alg": "ES256"})

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/jwks",
            "token_endpoint": f"{self.issuer}/token",
            "id_token_signing_alg_values_supported": ["ES256"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
        }

    def jwks(self) -> dict:
        return {"keys": [self._jwk]}

    def mint(
        self, sub: str, groups: list[str] | None = None, claims: dict | None = None, roles: list[str] | None = None
    ) -> dict:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "iat": now,
            "nbf": now,
            "exp": now + DEFAULT_LIFETIME,
            "jti": uuid.uuid4().hex,
            "groups": list(groups or []),
        }
        if roles:
            body["roles"] = list(roles)
        body.update(claims or {})
        token = jwt.encode(body, self._key, algorithm="ES256", headers={"kid": self.kid, "typ": "at+jwt"})
        return {"access_token": token, "token_type": "Bearer", "expires_in": max(0, int(body["exp"]) - now)}

    def handle(self, method: str, subpath: str, body: bytes) -> tuple[int, dict]:
        """Serve ``/dev-idp/<subpath>``; returns (status, JSON body)."""
        if method == "GET" and subpath == ".well-known/openid-configuration":
            return 200, self.discovery()
        if method == "GET" and subpath == "jwks":
            return 200, self.jwks()
        if method == "POST" and subpath == "token":
            try:
                req = json.loads(body or b"{}")
                sub = req["sub"]
                groups = req.get("groups", [])
                roles = req.get("roles", [])
                claims = req.get("claims", {})
                if (
                    not isinstance(sub, str)
                    or not sub
                    or not isinstance(groups, list)
                    or not isinstance(roles, list)
                    or not all(isinstance(r, str) for r in roles)
                    or not isinstance(claims, dict)
                ):
                    raise ValueError
                return 200, self.mint(sub, groups, claims, roles)
            except (ValueError, KeyError, TypeError, RecursionError, OverflowError):
                return 400, {
                    "type": "about:blank",
                    "title": "Bad request",
                    "status": 400,
                    "detail": "send {\"sub\": str, \"groups\": [str], \"roles\": [str], \"claims\": {}} "
                    "(exp, iat and nbf numbers)",
                }
        return 404, {"type": "about:blank", "title": "Not found", "status": 404, "detail": "no such dev-idp route"}
