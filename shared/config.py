"""The configuration document (docs/design.md, Configuration): issuers, stores, grants and limits.

One JSON document, named by ``TVS_CONFIG`` (a file path, or the document inline when it starts
with ``{``). :func:`load_config` validates all of it before the service answers anything and
raises :class:`ConfigError` naming the first offending key, e.g. ``stores.sales.ttl.max``.
Store blocks are validated by their store kind (``shared.kinds``), so adding a kind never
touches this file.
"""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from . import access, kinds
from .accessmanager.directory import AccessManagerConfig, parse_accessmanager
from .config_source import fetch_document, is_remote
from .errors import ConfigError
from .kinds import ValidationContext
from .ledger import validate_ledger
from .origins import web_origin
from .paths import PLACEHOLDERS, validate_prefix_template
from .sections import Section

CONFIG_ENV = "TVS_CONFIG"
MODE_ENV = "TVS_MODE"
DEV_ISSUER = "http://127.0.0.1:7071/dev-idp"
CLAIM_PROFILES = ("generic", "entra", "cognito", "keycloak")
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
STORE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")


@dataclass(frozen=True)
class IssuerConfig:
    name: str
    issuer: str
    audiences: tuple[str, ...]
    algorithms: tuple[str, ...]
    jwks_uri: str | None
    discovery_url: str | None
    leeway_seconds: int
    profile: str
    groups_claim: str | None
    roles_claim: str | None
    tenants: tuple[str, ...]
    dev: bool
    max_stale_seconds: int
    refetch_cooldown_seconds: int
    http_timeout_seconds: float
    any_tenant: bool = False  # a {tenantid} issuer open to every tenant: every grant for it must match on tenant
    https_only: bool = True  # deployed mode: a jwks_uri found through discovery must be https too
    immutable_claims: tuple[str, ...] = ()  # mutable-by-default claims this issuer manages (prefix placeholders)
    max_unknown_kids_per_minute: int = 10  # distinct unknown kids that may ask for a refetch, per minute


@dataclass(frozen=True)
class StoreConfig:
    id: str
    kind: str
    ttl_default: int
    ttl_max: int
    options: Mapping[str, Any]  # validated and normalized by the provider module
    description: str = ""


@dataclass(frozen=True)
class Match:
    """Who a grant is for: every listed condition must hold; within a list, any value will do."""

    issuers: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()


@dataclass(frozen=True)
class GrantRule:
    name: str
    match: Match
    stores: tuple[str, ...]  # ("*",) means every configured store
    prefix: str  # "" is the whole container/bucket; may hold {placeholders}
    access: str
    max_ttl_seconds: int


@dataclass(frozen=True)
class CacheLimits:
    enabled: bool = True
    max_entries: int = 10_000
    max_reuse_seconds: int = 900
    safety_buffer_seconds: int = 120


@dataclass(frozen=True)
class TokenCacheLimits:
    enabled: bool = True
    max_entries: int = 10_000
    max_seconds: int = 60


@dataclass(frozen=True)
class RateLimit:
    """A token bucket per principal (issuer|subject): ``burst`` requests at once, refilled at
    ``requests_per_second``; at most ``max_principals`` buckets (least recently used out). Off by default:
    a gateway in front usually limits rates (docs/gateways.md)."""

    enabled: bool = False
    requests_per_second: float = 10.0
    burst: int = 20
    max_principals: int = 10_000


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 16_384
    max_header_bytes: int = 32_768
    max_ttl_seconds: int = 43_200
    credential_cache: CacheLimits = field(default_factory=CacheLimits)
    token_cache: TokenCacheLimits = field(default_factory=TokenCacheLimits)
    rate_limit: RateLimit = field(default_factory=RateLimit)


@dataclass(frozen=True)
class PageConfig:
    """The self-service page's sign-in (docs/design.md, Self-service page): an OIDC public client
    using the authorization code flow with PKCE in the browser."""

    client_id: str
    authority: str  # the provider's issuer URL; its discovery document names the endpoints
    scopes: tuple[str, ...]
    authorization_endpoint: str | None  # both or neither: when set, discovery is not used
    token_endpoint: str | None
    title: str
    connect_origins: tuple[str, ...]  # more origins the page may call (a storage endpoint not in the stores)


@dataclass(frozen=True)
class Config:
    mode: str
    issuers: tuple[IssuerConfig, ...]
    stores: Mapping[str, StoreConfig]
    grants: tuple[GrantRule, ...]
    limits: Limits
    admin_groups: tuple[tuple[str, str], ...]  # (issuer name, group): a group is only ever its own issuer's
    ledger: Mapping[str, Any] | None = None  # the key ledger of revocable kinds (shared.ledger.validate_ledger)
    accessmanager: AccessManagerConfig | None = None  # organizations and spaces (docs/accessmanager.md)
    page: PageConfig | None = None  # the self-service page; None: the deployment serves none

    @property
    def local(self) -> bool:
        return self.mode == "local"


def load_config(source: str | None = None, mode: str | None = None) -> Config:
    """Read and validate the document named by ``source`` (or ``$TVS_CONFIG``)."""
    source = source if source is not None else os.environ.get(CONFIG_ENV)
    mode = mode if mode is not None else os.environ.get(MODE_ENV, "deployed")
    if not source:
        raise ConfigError(CONFIG_ENV, "is not set: name a configuration file or give the document inline")
    if source.lstrip().startswith("{"):
        text = source
    elif is_remote(source):  # ssm:/name or s3://bucket/key (TvsConfigSource on AWS)
        text = fetch_document(source)
    else:
        text = _read(source)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError("(document)", f"is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    return parse_config(raw, mode)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise ConfigError(CONFIG_ENV, f"cannot read the configuration file: {exc.strerror}") from None


def parse_config(raw: object, mode: str = "deployed") -> Config:
    if mode not in ("local", "deployed"):
        raise ConfigError(MODE_ENV, "must be 'local' or 'deployed'")
    doc = Section(
        "",
        raw,
        (
            "$schema",
            "description",
            "issuers",
            "stores",
            "grants",
            "limits",
            "admin_groups",
            "ledger",
            "accessmanager",
            "page",
        ),
    )
    limits = _parse_limits(
        doc.section(
            "limits",
            ("max_body_bytes", "max_header_bytes", "max_ttl_seconds", "credential_cache", "token_cache", "rate_limit"),
            {},
        )
    )
    issuers = _parse_issuers(doc, mode)
    stores = _parse_stores(doc, mode, limits, issuers)
    grants = _parse_grants(doc, stores, issuers)
    ledger = _parse_ledger(doc, mode, stores)
    accessmanager = (
        parse_accessmanager(doc.raw["accessmanager"], mode, stores, issuers, limits.max_ttl_seconds)
        if doc.has("accessmanager")
        else None
    )
    return Config(
        mode=mode,
        issuers=issuers,
        stores=MappingProxyType(stores),
        grants=grants,
        limits=limits,
        admin_groups=_parse_admin_groups(doc, issuers),
        ledger=MappingProxyType(ledger) if ledger else None,
        accessmanager=accessmanager,
        page=_parse_page(doc, mode),
    )


PAGE_TITLE = "Storage access"
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,256}\Z")  # RFC 6749 §3.3 scope-token
_CLIENT_ID = re.compile(r"^[\x21-\x7e]{1,256}\Z")


def _parse_page(doc: Section, mode: str) -> PageConfig | None:
    """The optional ``page`` block: the self-service page and the public client it signs in with."""
    if not doc.has("page"):
        return None
    s = doc.section(
        "page",
        ("client_id", "authority", "scopes", "authorization_endpoint", "token_endpoint", "title", "connect_origins"),
    )
    local = mode == "local"
    client_id = s.string("client_id")
    if not _CLIENT_ID.match(client_id):
        raise ConfigError(s.path("client_id"), "must be 1-256 printable ASCII characters without spaces")
    urls: dict[str, str | None] = {}
    for name in ("authority", "authorization_endpoint", "token_endpoint"):
        value = s.url(name, None if name != "authority" else ..., allow_http=local)
        if value is not None and web_origin(value) is None:
            raise ConfigError(s.path(name), "must be a URL whose host is a DNS name or an IPv4 address")
        urls[name] = value
    if (urls["authorization_endpoint"] is None) != (urls["token_endpoint"] is None):
        missing = "token_endpoint" if urls["token_endpoint"] is None else "authorization_endpoint"
        raise ConfigError(
            s.path(missing), "is required with the other endpoint (name both, or neither to use discovery)"
        )
    scopes = s.strings("scopes", ("openid",))
    for i, scope in enumerate(scopes):
        if not _SCOPE.match(scope):
            raise ConfigError(f"{s.path('scopes')}[{i}]", "must be one OAuth scope (no spaces, quotes or backslashes)")
    title = s.string("title", PAGE_TITLE)
    if not 1 <= len(title) <= 80 or not title.isprintable():
        raise ConfigError(s.path("title"), "must be 1-80 printable characters")
    origins = []
    for i, value in enumerate(s.strings("connect_origins", ())):
        origin, parts = web_origin(value), urlsplit(value)
        scheme_ok = parts.scheme == "https" or (local and parts.scheme == "http")
        bare = parts.path in ("", "/") and not (parts.query or parts.fragment or "@" in parts.netloc)
        if origin is None or not scheme_ok or not bare:
            raise ConfigError(
                f"{s.path('connect_origins')}[{i}]",
                "must be an origin (scheme, host and port only), e.g. https://acct.blob.core.windows.net"
                + ("" if local else "; https only"),
            )
        origins.append(origin)
    return PageConfig(
        client_id=client_id,
        authority=str(urls["authority"]),
        scopes=scopes,
        authorization_endpoint=urls["authorization_endpoint"],
        token_endpoint=urls["token_endpoint"],
        title=title,
        connect_origins=tuple(origins),
    )


def _parse_ledger(doc: Section, mode: str, stores: Mapping[str, StoreConfig]) -> dict | None:
    """The ``ledger`` block; required as soon as a store's kind is revocable (it records what it hands out)."""
    if doc.has("ledger"):
        return validate_ledger("ledger", doc.raw["ledger"], mode)
    for store in stores.values():
        if kinds.kind_of(store.kind).revocable:
            raise ConfigError(
                "ledger",
                f"is required: store '{store.id}' ({store.kind}) records every key it hands "
                "out in a ledger (backend sqlite, dynamodb or azure-table)",
            )
    return None


def _parse_limits(s: Section) -> Limits:
    c = s.section("credential_cache", ("enabled", "max_entries", "max_reuse_seconds", "safety_buffer_seconds"), {})
    t = s.section("token_cache", ("enabled", "max_entries", "max_seconds"), {})
    r = s.section("rate_limit", ("enabled", "requests_per_second", "burst", "max_principals"), {})
    return Limits(
        rate_limit=RateLimit(
            enabled=r.get("enabled", bool, False),
            requests_per_second=float(r.integer("requests_per_second", 10, 1, 10_000)),
            burst=r.integer("burst", 20, 1, 100_000),
            max_principals=r.integer("max_principals", 10_000, 1, 1_000_000),
        ),
        # A bearer token alone may be 16,384 characters (shared/identity/jws.py): the floor leaves room for it.
        max_header_bytes=s.integer("max_header_bytes", 32_768, 20_480, 1_048_576),
        token_cache=TokenCacheLimits(
            enabled=t.get("enabled", bool, True),
            max_entries=t.integer("max_entries", 10_000, 1, 1_000_000),
            max_seconds=t.integer("max_seconds", 60, 1, 300),
        ),
        max_body_bytes=s.integer("max_body_bytes", 16_384, 256, 1_048_576),
        max_ttl_seconds=s.integer("max_ttl_seconds", 43_200, 60, 604_800),
        credential_cache=CacheLimits(
            enabled=c.get("enabled", bool, True),
            max_entries=c.integer("max_entries", 10_000, 1, 1_000_000),
            max_reuse_seconds=c.integer("max_reuse_seconds", 900, 0, 86_400),
            safety_buffer_seconds=c.integer("safety_buffer_seconds", 120, 0, 3_600),
        ),
    )


_ISSUER_FIELDS = (
    "name",
    "issuer",
    "audiences",
    "algorithms",
    "jwks_uri",
    "discovery_url",
    "leeway_seconds",
    "claims_profile",
    "groups_claim",
    "roles_claim",
    "tenants",
    "dev",
    "max_stale_seconds",
    "refetch_cooldown_seconds",
    "http_timeout_seconds",
    "any_tenant",
    "immutable_claims",
    "max_unknown_kids_per_minute",
)
TENANT_TEMPLATE = "{tenantid}"
PRINCIPAL_KEY_SEPARATOR = "|"  # Principal.key is "<issuer>|<subject>": an issuer never contains it


def _parse_issuers(doc: Section, mode: str) -> tuple[IssuerConfig, ...]:
    raw = doc.get("issuers", list)
    if not raw:
        raise ConfigError("issuers", "must list at least one issuer")
    out: list[IssuerConfig] = []
    for i, item in enumerate(raw):
        issuer = _parse_issuer(Section(f"issuers[{i}]", item, _ISSUER_FIELDS), mode)
        if issuer.name in {o.name for o in out}:
            raise ConfigError(f"issuers[{i}].name", f"duplicate issuer name {issuer.name!r}")
        out.append(issuer)
    return tuple(out)


def _parse_issuer(s: Section, mode: str) -> IssuerConfig:
    issuer = s.string("issuer")
    dev = s.get("dev", bool, False) or issuer == DEV_ISSUER
    if dev and mode != "local":
        raise ConfigError(
            s.path("issuer"), "the development identity provider is allowed only in local mode (TVS_MODE=local)"
        )
    if not issuer.startswith("https://") and mode != "local":
        raise ConfigError(s.path("issuer"), "must be an https URL")
    if PRINCIPAL_KEY_SEPARATOR in issuer:
        raise ConfigError(s.path("issuer"), f"must not contain '{PRINCIPAL_KEY_SEPARATOR}'")
    tenants, any_tenant = _tenancy(s, issuer)
    algorithms = s.strings("algorithms", ("RS256",))
    for j, alg in enumerate(algorithms):
        if alg not in ALGORITHMS:
            raise ConfigError(
                f"{s.path('algorithms')}[{j}]", f"must be an asymmetric algorithm: {', '.join(ALGORITHMS)}"
            )
    jwks_uri, discovery = _key_source(s, issuer, mode)
    audiences = s.strings("audiences")
    if not audiences:
        raise ConfigError(s.path("audiences"), "must list at least one audience")
    return IssuerConfig(
        name=s.string("name", issuer),
        issuer=issuer,
        audiences=audiences,
        algorithms=algorithms,
        jwks_uri=jwks_uri,
        discovery_url=discovery,
        leeway_seconds=s.integer("leeway_seconds", 30, 0, 300),
        profile=s.string("claims_profile", "generic", choices=CLAIM_PROFILES),
        groups_claim=s.get("groups_claim", str, None),
        roles_claim=s.get("roles_claim", str, None),
        tenants=tenants,
        dev=dev,
        any_tenant=any_tenant,
        https_only=mode != "local",
        immutable_claims=_immutable_claims(s),
        max_stale_seconds=s.integer("max_stale_seconds", 86_400, 0, 7 * 86_400),
        refetch_cooldown_seconds=s.integer("refetch_cooldown_seconds", 60, 1, 3_600),
        max_unknown_kids_per_minute=s.integer("max_unknown_kids_per_minute", 10, 1, 1_000),
        http_timeout_seconds=float(s.integer("http_timeout_seconds", 3, 1, 30)),
    )


# Claims their owner (or a tenant administrator) can change: not identities (Entra ID warns against
# authorizing on them). A grant's prefix names them only where the issuer says they are managed.
MUTABLE_CLAIMS = ("preferred_username", "email")


def _immutable_claims(s: Section) -> tuple[str, ...]:
    claims = s.strings("immutable_claims", ())
    for j, claim in enumerate(claims):
        if claim not in MUTABLE_CLAIMS:
            raise ConfigError(f"{s.path('immutable_claims')}[{j}]", f"must be one of {', '.join(MUTABLE_CLAIMS)}")
    return claims


def _tenancy(s: Section, issuer: str) -> tuple[tuple[str, ...], bool]:
    """``tenants`` and ``any_tenant``: a multi-tenant issuer names its tenants, or says it takes any."""
    tenants = s.strings("tenants", ())
    any_tenant = s.get("any_tenant", bool, False)
    if any_tenant and TENANT_TEMPLATE not in issuer:
        raise ConfigError(s.path("any_tenant"), f"applies only to a multi-tenant issuer ({TENANT_TEMPLATE} in its URL)")
    if any_tenant and tenants:
        raise ConfigError(
            s.path("any_tenant"), "contradicts 'tenants': name the allowed tenants or set any_tenant, not both"
        )
    if TENANT_TEMPLATE in issuer and not tenants and not any_tenant:
        raise ConfigError(
            s.path("tenants"),
            "is required for a multi-tenant issuer: without it a token of any tenant "
            "is accepted (any tenant's administrator can assign this app's roles); "
            "name the allowed tenant ids, or set any_tenant: true and match every "
            "grant on tenants",
        )
    return tenants, any_tenant


def _key_source(s: Section, issuer: str, mode: str) -> tuple[str | None, str | None]:
    """(jwks_uri, discovery_url): exactly one is set; https outside local mode."""
    jwks_uri = s.url("jwks_uri", None, allow_http=mode == "local")
    discovery = s.url("discovery_url", None, allow_http=mode == "local")
    if jwks_uri:
        return jwks_uri, None
    if discovery:
        return None, discovery
    if TENANT_TEMPLATE in issuer:
        raise ConfigError(
            s.path("jwks_uri"),
            f"is required for a multi-tenant issuer (its discovery URL would "
            f"hold the literal {TENANT_TEMPLATE}), e.g. "
            "https://login.microsoftonline.com/common/discovery/v2.0/keys",
        )
    return None, issuer.rstrip("/") + "/.well-known/openid-configuration"


def _parse_stores(doc: Section, mode: str, limits: Limits, issuers: tuple[IssuerConfig, ...]) -> dict[str, StoreConfig]:
    context = ValidationContext(mode=mode, issuers=tuple(i.name for i in issuers))
    raw = doc.get("stores", dict)
    if not raw:
        raise ConfigError("stores", "must define at least one store")
    stores: dict[str, StoreConfig] = {}
    for store_id, body in raw.items():
        key = f"stores.{store_id}"
        if not STORE_ID.match(store_id):
            raise ConfigError(key, "store ids are 1-63 characters of a-z, 0-9 and '-'")
        if not isinstance(body, Mapping):
            raise ConfigError(key, "must be an object")
        kind = body.get("kind")
        store_kind = kinds.store_kind(kind)
        if store_kind is None:
            raise ConfigError(f"{key}.kind", "is required" if kind is None else f"unknown store kind {kind!r}")
        s = Section(key, body, ("kind", "description", "ttl") + store_kind.fields)
        ttl = s.section("ttl", ("default", "max"), {})
        ttl_max = ttl.integer("max", min(3_600, limits.max_ttl_seconds), 60, limits.max_ttl_seconds)
        ttl_default = ttl.integer("default", min(900, ttl_max), 60, ttl_max)
        options = store_kind.validate(s, context)
        floor = options.get("min_ttl_seconds")
        if floor and ttl_max < floor:
            # Covers the default maximum too (derived from limits.max_ttl_seconds), not only an explicit one.
            raise ConfigError(ttl.path("max"), f"a {kind} credential of this store lives at least {floor} seconds")
        stores[store_id] = StoreConfig(
            id=store_id,
            kind=store_kind.name,
            ttl_default=ttl_default,
            ttl_max=ttl_max,
            options=MappingProxyType(options),
            description=s.get("description", str, ""),
        )
    return stores


def _check_match_issuers(m: Section, match: Match, issuers: tuple[IssuerConfig, ...]) -> None:
    """A subject, group, role or scope means something only at its issuer: with several issuers a match
    names the issuers it trusts; a match that reaches an any-tenant issuer names its tenants."""
    names = [i.name for i in issuers]
    for j, name in enumerate(match.issuers):
        if name not in names:
            raise ConfigError(
                f"{m.path('issuers')}[{j}]", f"unknown issuer {name!r} (issuer names: {', '.join(names)})"
            )
    if len(issuers) > 1 and not match.issuers:
        raise ConfigError(
            m.path("issuers"),
            "is required when more than one issuer is configured: a subject or group "
            "of one identity provider is not the same one at another",
        )
    reached = [i for i in issuers if not match.issuers or i.name in match.issuers]
    if any(i.any_tenant for i in reached) and not match.tenants:
        raise ConfigError(
            m.path("tenants"),
            "is required: the grant reaches an issuer with any_tenant, so it must name the tenants it is for",
        )


def _check_mutable_placeholders(s: Section, prefix: str, match: Match, issuers: tuple[IssuerConfig, ...]) -> None:
    """A prefix placeholder names whose data the caller reaches: never a claim its owner can change
    (a user who renames themselves would reach another user's prefix), unless every issuer the grant
    reaches says that claim is managed and immutable there (``immutable_claims``)."""
    used = {name for _, name, _, _ in string.Formatter().parse(prefix) if name}
    for claim in sorted(used & set(MUTABLE_CLAIMS)):
        reached = [i for i in issuers if not match.issuers or i.name in match.issuers]
        loose = [i.name for i in reached if claim not in i.immutable_claims]
        if loose:
            raise ConfigError(
                s.path("prefix"),
                f"{{{claim}}} is a claim its owner can change at issuer {loose[0]!r}: use {{sub}} or {{oid}}, or list "
                f"{claim!r} in that issuer's immutable_claims if it is managed and cannot change there",
            )


def _parse_admin_groups(doc: Section, issuers: tuple[IssuerConfig, ...]) -> tuple[tuple[str, str], ...]:
    """``["g"]`` with one issuer, or ``{"issuer-name": ["g", ...]}``: the admin groups of each issuer."""
    raw = doc.get("admin_groups", (list, dict), [])
    if isinstance(raw, list):
        groups = doc.strings("admin_groups", ())
        if groups and len(issuers) > 1:
            raise ConfigError(
                "admin_groups",
                "must name the issuer of each group when more than one issuer is "
                'configured: {"<issuer name>": ["<group>", ...]}',
            )
        return tuple((issuers[0].name, g) for g in groups)
    names = {i.name for i in issuers}
    per = Section("admin_groups", raw, tuple(names))
    return tuple((name, g) for name in raw for g in per.strings(name))


def _parse_grants(
    doc: Section, stores: Mapping[str, StoreConfig], issuers: tuple[IssuerConfig, ...]
) -> tuple[GrantRule, ...]:
    raw = doc.get("grants", list, [])
    out = []
    for i, item in enumerate(raw):
        s = Section(f"grants[{i}]", item, ("name", "match", "stores", "prefix", "access", "max_ttl_seconds"))
        m = s.section("match", ("issuers", "subjects", "groups", "roles", "scopes", "tenants"))
        match = Match(
            issuers=m.strings("issuers", ()),
            subjects=m.strings("subjects", ()),
            groups=m.strings("groups", ()),
            roles=m.strings("roles", ()),
            scopes=m.strings("scopes", ()),
            tenants=m.strings("tenants", ()),
        )
        if match == Match():
            raise ConfigError(s.path("match"), "must name at least one condition (a grant for everyone is a mistake)")
        _check_match_issuers(m, match, issuers)
        store_ids = s.strings("stores")
        if store_ids != ("*",):
            for j, sid in enumerate(store_ids):
                if sid not in stores:
                    raise ConfigError(f"{s.path('stores')}[{j}]", f"unknown store {sid!r}")
        prefix = s.string("prefix", "")
        try:
            validate_prefix_template(prefix, PLACEHOLDERS)
        except ValueError as exc:
            raise ConfigError(s.path("prefix"), str(exc)) from None
        _check_mutable_placeholders(s, prefix, match, issuers)
        out.append(
            GrantRule(
                name=s.string("name", f"grant-{i}"),
                match=match,
                stores=store_ids,
                prefix=prefix,
                access=s.string("access", choices=access.LEVELS),
                max_ttl_seconds=s.integer("max_ttl_seconds", 3_600, 60, 604_800),
            )
        )
    return tuple(out)
