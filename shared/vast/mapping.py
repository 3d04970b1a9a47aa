"""Which VAST user a caller's keys belong to: from verified claims or a configured table.

A VAST S3 key acts as one VAST user, with whatever that user's identity policies allow, so the
mapping is an authorization decision: it reads only verified token claims (``Principal``), and
a caller with no mapping gets a 403, never a default user.

Store block ``mapping``::

    {"users": {"alice": {"user_id": 1001}, "carol": {"uid": 50001, "issuer": "corp"}},
     "claims": {"sid": "onprem_sid", "uid": "uid_number"}}

``users`` (subject -> VAST user, for one issuer name; required with several issuers) is tried
first, then the ``claims`` in the order sid, uid, user_id (with several issuers, ``claims.issuers``
names whose claims are trusted). Local VAST users are named by id; directory users by NFS uid or
SMB SID. Claim values are ASCII digits or a SID, nothing else.

Built-in and privileged users (root, uid 0; VAST's first local user, the cluster's ``admin``;
LocalSystem and the built-in administrator SIDs; and any the store's ``protected`` block names)
are never reached through claims, and a table entry reaches one only with ``"privileged": true``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, problem
from ..identity.principal import Principal
from ..sections import Section

SID = re.compile(r"^S-1-\d+(-\d+){1,14}\Z", re.ASCII)
MAX_UID = 2**32 - 1
CLAIM_KINDS = ("sid", "uid", "user_id")
# Never reached through claims (and through the table only when an entry says "privileged": true).
PROTECTED_UIDS = frozenset({0})  # root
PROTECTED_USER_IDS = frozenset({1})  # VAST's first local user: the cluster's built-in admin
# LocalSystem, LocalService, NetworkService; the BUILTIN domain (Administrators and the other built-in groups).
PROTECTED_SID = re.compile(r"^S-1-5-(18|19|20|32-\d+)\Z")
# Domain accounts and groups with well-known relative ids: Administrator, krbtgt, Domain Admins,
# Domain Controllers, Schema Admins, Enterprise Admins, Group Policy Creator Owners.
PROTECTED_RIDS = frozenset({500, 502, 512, 516, 518, 519, 520})


@dataclass(frozen=True)
class VastUser:
    """One VAST user: exactly one of ``user_id`` (local), ``uid`` or ``sid`` (directory)."""

    user_id: int | None = None
    uid: int | None = None
    sid: str | None = None
    tenant_id: int | None = None

    @property
    def local(self) -> bool:
        return self.user_id is not None

    @property
    def key(self) -> str:
        """A stable name, e.g. ``local:1001``, ``uid:50001``, ``sid:S-1-5-21-...``."""
        if self.user_id is not None:
            return f"local:{self.user_id}"
        return f"uid:{self.uid}" if self.uid is not None else f"sid:{self.sid}"

    def as_ref(self) -> dict[str, Any]:
        ref = {"user_id": self.user_id, "uid": self.uid, "sid": self.sid, "tenant_id": self.tenant_id}
        return {k: v for k, v in ref.items() if v is not None}

    @classmethod
    def from_ref(cls, ref: Mapping[str, Any]) -> VastUser:
        return cls(**{k: ref.get(k) for k in ("user_id", "uid", "sid", "tenant_id")})


def _user(kind: str, value: Any, tenant_id: int | None) -> VastUser | None:
    """A VastUser from one identifier, or None when the value is not a valid one."""
    if kind == "sid":
        return VastUser(sid=value, tenant_id=tenant_id) if isinstance(value, str) and SID.match(value) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_UID or (kind == "user_id" and value < 1):
        return None
    return VastUser(uid=value, tenant_id=tenant_id) if kind == "uid" else VastUser(user_id=value, tenant_id=tenant_id)


def is_protected(user: VastUser, protected: Mapping[str, Any]) -> bool:
    """True for a built-in or privileged VAST user (see the module docstring), or one the store protects."""
    if user.uid is not None:
        return user.uid in PROTECTED_UIDS or user.uid in protected.get("uids", ())
    if user.user_id is not None:
        return user.user_id in PROTECTED_USER_IDS or user.user_id in protected.get("user_ids", ())
    sid = user.sid or ""
    rid = sid.rsplit("-", 1)[-1]
    return (
        bool(PROTECTED_SID.match(sid))
        or (sid.startswith("S-1-5-21-") and int(rid) in PROTECTED_RIDS)
        or sid in protected.get("sids", ())
    )


def validate_mapping(s: Section, tenant_id: int | None, issuers: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate a store's ``mapping`` block; returns ``{"users", "claims", "claim_issuers", "protected", "tenant_id"}``.

    With more than one issuer, each table entry names its issuer and the claims name the issuers
    they are read from: a subject or a claim of one identity provider is not one of another.
    """
    several = len(issuers) > 1
    claims = s.section("claims", CLAIM_KINDS + ("issuers",), {})
    claim_names = {kind: claims.string(kind) for kind in CLAIM_KINDS if claims.has(kind)}
    claim_issuers = _issuer_names(claims, "issuers", issuers)
    if several and claim_names and not claim_issuers:
        raise ConfigError(
            claims.path("issuers"),
            "is required when more than one issuer is configured: name the "
            "issuers whose claims map callers to VAST users",
        )
    p = s.section("protected", ("uids", "user_ids", "sids"), {})
    protected = {"uids": _ids(p, "uids"), "user_ids": _ids(p, "user_ids"), "sids": p.strings("sids", ())}
    users_raw = s.get("users", dict, {})
    users: dict[str, dict[str, Any]] = {}
    for subject, entry in users_raw.items():
        e = Section(f"{s.path('users')}.{subject}", entry, CLAIM_KINDS + ("issuer", "tenant_id", "privileged"))
        kinds = [k for k in CLAIM_KINDS if e.has(k)]
        if len(kinds) != 1:
            raise ConfigError(e.key, "must name exactly one of user_id, uid, sid")
        user = _user(kinds[0], e.raw[kinds[0]], e.integer("tenant_id", tenant_id, 1, 2**31 - 1))
        if user is None:
            raise ConfigError(e.path(kinds[0]), "is not a valid VAST user id / uid / SID")
        if is_protected(user, protected) and not e.get("privileged", bool, False):
            raise ConfigError(
                e.path("privileged"),
                f"must be true to map a caller to {user.key}, a built-in or "
                "privileged VAST user (say so explicitly, or map another user)",
            )
        issuer = e.get("issuer", str, None)
        if issuer is None and several:
            raise ConfigError(
                e.path("issuer"),
                "is required when more than one issuer is configured: the same "
                "subject at another identity provider is someone else",
            )
        if issuer is not None and issuers and issuer not in issuers:
            raise ConfigError(e.path("issuer"), f"unknown issuer {issuer!r}")
        users[subject] = {"user": user, "issuer": issuer}
    if not users and not claim_names:
        raise ConfigError(s.key, "must map callers to VAST users: give 'users', 'claims' or both")
    return {
        "users": users,
        "claims": claim_names,
        "claim_issuers": claim_issuers,
        "protected": protected,
        "tenant_id": tenant_id,
    }


def _issuer_names(s: Section, name: str, issuers: tuple[str, ...]) -> tuple[str, ...]:
    names = s.strings(name, ())
    for i, issuer in enumerate(names):
        if issuers and issuer not in issuers:
            raise ConfigError(f"{s.path(name)}[{i}]", f"unknown issuer {issuer!r}")
    return names


def _ids(s: Section, name: str) -> frozenset[int]:
    values = s.get(name, list, [])
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_UID:
            raise ConfigError(f"{s.path(name)}[{i}]", "must be an integer id")
    return frozenset(values)


def vast_user_for(principal: Principal, mapping: Mapping[str, Any]) -> VastUser:
    """The VAST user ``principal`` acts as, or a 403 Problem when there is none."""
    entry = mapping["users"].get(principal.subject)
    if entry is not None and entry["issuer"] in (None, principal.issuer_name):
        return entry["user"]
    trusted = mapping.get("claim_issuers") or ()
    for kind, claim in mapping["claims"].items():
        if trusted and principal.issuer_name not in trusted:
            break
        if claim in principal.extra:
            user = _user(kind, principal.extra[claim], mapping["tenant_id"])
            if user is None:
                raise problem("vast-user-unmapped", f"the claim '{claim}' does not hold a valid VAST {kind}")
            if is_protected(user, mapping.get("protected") or {}):
                raise problem(
                    "vast-user-privileged",
                    f"the claim '{claim}' names a built-in or privileged VAST user; such a user is reached "
                    "only through an explicit entry of the store's mapping table",
                )
            return user
    raise problem(
        "vast-user-unmapped",
        "your identity is not mapped to a VAST user for this store (no table entry and no mapping claim)",
    )
