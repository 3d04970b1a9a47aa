"""Bearer-token validation (issue: identity).

Guarantees of :meth:`TokenValidator.validate`:
- the issuer is matched exactly against configuration (multi-tenant Entra: the ``{tenantid}``
  template filled from ``tid``, which must be on the tenant allow-list);
- the algorithms come from configuration, never from the token; symmetric algorithms are never
  accepted, so a token "signed" with an issuer's public key as an HMAC secret fails;
- ``exp``, ``iat`` and ``sub`` are required; ``nbf``/``iat`` in the future fail; leeway is small;
- the audience is checked (Cognito access tokens carry it as ``client_id``);
- ID tokens are refused where the issuer marks them (Cognito ``token_use``, Keycloak ``typ``);
- keys come only from the configured JWKS (see :mod:`.jwks`).
Every failure is a 401 Problem whose detail never repeats the token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import jwt

from ..config import Config, IssuerConfig
from ..errors import Problem, invalid_token
from .jwks import JwksCache, fetch_json
from .jws import MAX_TOKEN_CHARS, MalformedToken, parse_compact
from .principal import Principal
from .token_cache import VerifiedTokenCache

# Where each issuer family puts groups, roles and scopes.
PROFILES: dict[str, dict[str, str]] = {
    "generic": {"groups": "groups", "roles": "roles", "scopes": "scope"},
    "entra": {"groups": "groups", "roles": "roles", "scopes": "scp"},
    "cognito": {"groups": "cognito:groups", "roles": "cognito:roles", "scopes": "scope"},
    "keycloak": {"groups": "groups", "roles": "realm_access.roles", "scopes": "scope"},
}


def _claim(claims: Mapping, path: str):
    value = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _values(value) -> tuple[str, ...]:
    """Groups and roles: an array of strings; a single string is one value, never split (so that
    ``"not admins"`` is not the group ``admins``)."""
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, (list, tuple)):
        return tuple(v for v in value if isinstance(v, str) and v)
    return ()


def _scopes(value) -> tuple[str, ...]:
    """Scopes: space-separated by definition (RFC 8693 ``scope``, Entra ``scp``), or an array."""
    if isinstance(value, str):
        return tuple(value.split())
    return _values(value)


def _groups_omitted(claims: Mapping, groups_claim: str) -> bool:
    """Entra's group overage: past 200 groups the token carries a pointer to Microsoft Graph
    (``_claim_names.groups``) or ``hasgroups: true`` instead of the groups."""
    names = claims.get("_claim_names")
    overage = isinstance(names, dict) and groups_claim in names
    return (overage or claims.get("hasgroups") is True) and _claim(claims, groups_claim) is None


# A tenant id fills the issuer template and becomes part of the principal's key: one plain identifier.
TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}\Z", re.ASCII)


class TokenValidator:
    """Validates bearer tokens against the configured issuers. One per process."""

    def __init__(self, config: Config, fetch: Callable[[str, float], dict] = fetch_json, clock=None):
        self._issuers = config.issuers
        # With one fixed issuer the unverified claims need not be read to pick it.
        self._only = (
            config.issuers[0] if len(config.issuers) == 1 and "{tenantid}" not in config.issuers[0].issuer else None
        )
        kwargs = {"fetch": fetch} if clock is None else {"fetch": fetch, "clock": clock}
        self._jwks = {i.name: JwksCache(i, **kwargs) for i in config.issuers}
        limits = config.limits.token_cache
        self._seen = (
            VerifiedTokenCache(limits.max_entries, limits.max_seconds, **({} if clock is None else {"clock": clock}))
            if limits.enabled
            else None
        )

    def validate(self, token: str | None) -> Principal:
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise invalid_token("the bearer token is not a JWS compact token")
        if self._seen is not None:
            seen = self._seen.get(token)
            if seen is not None:
                return seen
        principal = self._verify(token)
        if self._seen is not None:
            self._seen.put(token, principal)
        return principal

    def _verify(self, token: str) -> Principal:
        try:
            jws = parse_compact(token)  # strict: before PyJWT, which decodes leniently
        except MalformedToken as exc:
            raise invalid_token(str(exc)) from None
        header, unverified = jws.header, jws.payload
        issuer = self._only or self._issuer_for(unverified)
        alg = header.get("alg")
        if alg not in issuer.algorithms:
            raise invalid_token("the token's algorithm is not allowed for its issuer")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise invalid_token("the token's key id is not a string")
        key = self._jwks[issuer.name].key(kid)
        claims = self._decode(token, issuer, key, unverified)
        return self._principal(issuer, claims)

    def _issuer_for(self, unverified: Mapping) -> IssuerConfig:
        iss = unverified.get("iss")
        for issuer in self._issuers:
            if issuer.issuer == iss:
                return issuer
            tid = unverified.get("tid")
            if (
                "{tenantid}" in issuer.issuer
                and isinstance(tid, str)
                and TENANT_ID.match(tid)
                and issuer.issuer.replace("{tenantid}", tid) == iss
            ):
                return issuer
        raise invalid_token("the token's issuer is not trusted")

    def _decode(self, token: str, issuer: IssuerConfig, key: jwt.PyJWK, unverified: Mapping) -> dict:
        expected_iss = issuer.issuer
        if "{tenantid}" in expected_iss:
            expected_iss = expected_iss.replace("{tenantid}", str(unverified.get("tid")))
        cognito = issuer.profile == "cognito"
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(issuer.algorithms),
                audience=None if cognito else list(issuer.audiences),
                issuer=expected_iss,
                leeway=issuer.leeway_seconds,
                options={"require": ["exp", "iat", "sub"], "verify_aud": not cognito},
            )
        except jwt.ExpiredSignatureError:
            raise invalid_token("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise invalid_token("the token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise invalid_token("the token is not meant for this service (audience)") from None
        except jwt.InvalidIssuerError:
            raise invalid_token("the token's issuer is not trusted") from None
        except jwt.MissingRequiredClaimError as exc:
            raise invalid_token(f"the token lacks the required claim '{exc.claim}'") from None
        except jwt.InvalidSignatureError:
            raise invalid_token("the token's signature does not verify") from None
        except jwt.PyJWTError:
            raise invalid_token("the token is not valid") from None
        for name in ("exp", "iat", "nbf"):
            value = claims.get(name)
            if name in claims and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise invalid_token(f"the token's '{name}' is not a number (RFC 7519 NumericDate)")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise invalid_token("the token's subject is empty")
        if cognito:
            if claims.get("token_use") != "access":
                raise invalid_token("an ID token is not an access token")
            if claims.get("client_id") not in issuer.audiences:
                raise invalid_token("the token is not meant for this service (client_id)")
        if issuer.profile == "keycloak" and claims.get("typ") not in (None, "Bearer"):
            raise invalid_token("an ID or refresh token is not an access token")
        if issuer.tenants and claims.get("tid") not in issuer.tenants:
            raise invalid_token("the token's tenant is not allowed")
        return claims

    def _principal(self, issuer: IssuerConfig, claims: dict) -> Principal:
        names = dict(PROFILES[issuer.profile])
        if issuer.groups_claim:
            names["groups"] = issuer.groups_claim
        if issuer.roles_claim:
            names["roles"] = issuer.roles_claim
        scopes = _scopes(_claim(claims, names["scopes"])) or _scopes(claims.get("scp"))
        return Principal(
            issuer_name=issuer.name,
            issuer=claims["iss"],
            subject=claims["sub"],
            tenant_id=claims.get("tid") if isinstance(claims.get("tid"), str) else None,
            object_id=claims.get("oid") if isinstance(claims.get("oid"), str) else None,
            groups=_values(_claim(claims, names["groups"])),
            roles=_values(_claim(claims, names["roles"])),
            scopes=scopes,
            username=next(
                (
                    claims[k]
                    for k in ("preferred_username", "username", "cognito:username")
                    if isinstance(claims.get(k), str)
                ),
                None,
            ),
            email=claims.get("email") if isinstance(claims.get("email"), str) else None,
            expires_at=int(claims["exp"]),
            groups_omitted=_groups_omitted(claims, names["groups"]),
            extra={k: v for k, v in claims.items() if isinstance(v, (str, int)) and k not in ("iss", "sub", "aud")},
        )


__all__ = ["TokenValidator", "Problem"]
