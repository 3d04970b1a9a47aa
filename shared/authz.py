"""Authorization: who may do what (docs/design.md, Authorization). Pure: no I/O, no clock, no SDK.

``authorize`` turns a verified :class:`Principal` and a request into a :class:`Grant` (the
scope, access and TTL a provider must mint exactly), or raises a 403 :class:`Problem`.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import access as levels
from .config import Config, GrantRule, StoreConfig
from .errors import Problem, forbidden
from .identity.principal import Principal
from .paths import fill_prefix

MAX_REQUEST_TTL = 604_800  # no provider's credential lives longer; more is a caller's mistake


@dataclass(frozen=True)
class Grant:
    """What one credential may do. ``path`` is a prefix (ends with '/', or '' for all) or one object."""

    principal: Principal
    store: StoreConfig
    path: str
    access: str
    ttl_seconds: int
    rule: str

    @property
    def is_prefix(self) -> bool:
        return self.path == "" or self.path.endswith("/")


def rule_applies(rule: GrantRule, principal: Principal) -> bool:
    m = rule.match
    checks = (
        (m.issuers, (principal.issuer_name,)),
        (m.subjects, (principal.subject,)),
        (m.groups, principal.groups),
        (m.roles, principal.roles),
        (m.scopes, principal.scopes),
        (m.tenants, (principal.tenant_id,) if principal.tenant_id else ()),
    )
    return all(not wanted or set(wanted) & set(have) for wanted, have in checks)


def _rule_stores(rule: GrantRule, config: Config) -> tuple[str, ...]:
    return tuple(config.stores) if rule.stores == ("*",) else rule.stores


def effective_rules(config: Config, principal: Principal, store_id: str) -> list[tuple[GrantRule, str]]:
    """The rules that give ``principal`` anything on ``store_id``, with their prefixes filled in."""
    out = []
    for rule in config.grants:
        if store_id not in _rule_stores(rule, config) or not rule_applies(rule, principal):
            continue
        prefix = fill_prefix(rule.prefix, principal.placeholder_values())
        if prefix is not None:
            out.append((rule, prefix))
    return out


def authorize(
    config: Config, principal: Principal, store_id: str, path: str, access: str, ttl_seconds: int | None
) -> Grant:
    """Decide one request. The store must exist (the caller checks, to answer 404 first)."""
    store = config.stores[store_id]
    matching = [
        (rule, prefix)
        for rule, prefix in effective_rules(config, principal, store_id)
        if path.startswith(prefix) and levels.covers(rule.access, access)
    ]
    if not matching:
        detail = f"you are not granted '{access}' on store '{store_id}' at '{path or '/'}'"
        if principal.groups_omitted and any(rule.match.groups for rule in config.grants):
            detail += (
                "; your token carries no groups because you are in too many (the identity provider's group "
                "overage), so no group grant can apply: ask an administrator for an app role instead"
            )
        raise forbidden(detail)
    best = max(matching, key=lambda rp: rp[0].max_ttl_seconds)
    cap = min(best[0].max_ttl_seconds, store.ttl_max, config.limits.max_ttl_seconds)
    wanted = store.ttl_default if ttl_seconds is None else ttl_seconds
    return Grant(
        principal=principal,
        store=store,
        path=path,
        access=access,
        ttl_seconds=max(1, min(wanted, cap)),
        rule=best[0].name,
    )


def visible_grants(config: Config, principal: Principal) -> list[dict]:
    """What the caller may ask for, per store (``GET /api/v1/stores``): per prefix, each access level
    with the longest TTL it may have; an entry that another covers (higher access, TTL as long) is left out."""
    out = []
    for store_id, store in config.stores.items():
        offers = {
            (prefix, rule.access, min(rule.max_ttl_seconds, store.ttl_max))
            for rule, prefix in effective_rules(config, principal, store_id)
        }
        kept = [
            (p, a, t)
            for p, a, t in offers
            if not any(
                p2 == p and (a2, t2) != (a, t) and levels.rank(a2) >= levels.rank(a) and t2 >= t
                for p2, a2, t2 in offers
            )
        ]
        if kept:
            out.append(
                {
                    "store": store_id,
                    "kind": store.kind,
                    "description": store.description,
                    "grants": [
                        {"prefix": p, "access": a, "max_ttl_seconds": t}
                        for p, a, t in sorted(kept, key=lambda e: (e[0], levels.rank(e[1])))
                    ],
                }
            )
    return out


def is_admin(config: Config, principal: Principal) -> bool:
    """A member of one of ``admin_groups`` of the principal's own issuer."""
    return any((principal.issuer_name, group) in config.admin_groups for group in principal.groups)


def may_revoke(config: Config, principal: Principal, owner: str) -> bool:
    """A revocable credential may be taken back by the caller it was issued to (``owner`` is that
    caller's ``Principal.key``) or by an administrator; to anyone else it does not exist."""
    return owner == principal.key or is_admin(config, principal)


__all__ = ["Grant", "Problem", "authorize", "visible_grants", "is_admin", "may_revoke", "MAX_REQUEST_TTL"]
