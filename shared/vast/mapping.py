"""Which VAST user a caller's keys belong to: from verified claims or a configured table.

A VAST S3 key acts as one VAST user, with whatever that user's identity policies allow, so the
mapping is an authorization decision: it reads only verified token claims (``Principal``), and
a caller with no mapping gets a 403, never a default user.

Store block ``mapping``::

    {"users": {"alice": {"user_id": 1001}, "carol": {"uid": 50001, "issuer": "corp"}},
     "claims": {"sid": "onprem_sid", "uid": "uid_number"}}

``users`` (subject -> VAST user, optionally only for one issuer name) is tried first, then the
``claims`` in the order sid, uid, user_id. Local VAST users are named by id; directory users by
NFS uid or SMB SID.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from ..config import Section
from ..errors import ConfigError, Problem
from ..identity.principal import Principal

SID = re.compile(r"^S-1-\d+(-\d+){1,14}$")
MAX_UID = 2**32 - 1
CLAIM_KINDS = ("sid", "uid", "user_id")


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
    def from_ref(cls, ref: Mapping[str, Any]) -> "VastUser":
        return cls(**{k: ref.get(k) for k in ("user_id", "uid", "sid", "tenant_id")})


def _user(kind: str, value: Any, tenant_id: int | None) -> VastUser | None:
    """A VastUser from one identifier, or None when the value is not a valid one."""
    if kind == "sid":
        return VastUser(sid=value, tenant_id=tenant_id) if isinstance(value, str) and SID.match(value) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit() and len(value) <= 10:
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_UID or (kind == "user_id" and value < 1):
        return None
    return VastUser(uid=value, tenant_id=tenant_id) if kind == "uid" else VastUser(user_id=value, tenant_id=tenant_id)


def validate_mapping(s: Section, tenant_id: int | None) -> dict[str, Any]:
    """Validate a store's ``mapping`` block; returns ``{"users": {...}, "claims": {...}}``."""
    claims = s.section("claims", CLAIM_KINDS, {})
    claim_names = {kind: claims.string(kind) for kind in CLAIM_KINDS if claims.has(kind)}
    users_raw = s.get("users", dict, {})
    users: dict[str, dict[str, Any]] = {}
    for subject, entry in users_raw.items():
        e = Section(f"{s.path('users')}.{subject}", entry, CLAIM_KINDS + ("issuer", "tenant_id"))
        kinds = [k for k in CLAIM_KINDS if e.has(k)]
        if len(kinds) != 1:
            raise ConfigError(e.key, "must name exactly one of user_id, uid, sid")
        user = _user(kinds[0], e.raw[kinds[0]], e.integer("tenant_id", tenant_id, 1, 2**31 - 1))
        if user is None:
            raise ConfigError(e.path(kinds[0]), "is not a valid VAST user id / uid / SID")
        users[subject] = {"user": user, "issuer": e.get("issuer", str, None)}
    if not users and not claim_names:
        raise ConfigError(s.key, "must map callers to VAST users: give 'users', 'claims' or both")
    return {"users": users, "claims": claim_names, "tenant_id": tenant_id}


def vast_user_for(principal: Principal, mapping: Mapping[str, Any]) -> VastUser:
    """The VAST user ``principal`` acts as, or a 403 Problem when there is none."""
    entry = mapping["users"].get(principal.subject)
    if entry is not None and entry["issuer"] in (None, principal.issuer_name):
        return entry["user"]
    for kind, claim in mapping["claims"].items():
        if claim in principal.extra:
            user = _user(kind, principal.extra[claim], mapping["tenant_id"])
            if user is None:
                raise Problem(403, "vast-user-unmapped", "Not granted",
                              f"the claim '{claim}' does not hold a valid VAST {kind}")
            return user
    raise Problem(403, "vast-user-unmapped", "Not granted",
                  "your identity is not mapped to a VAST user for this store (no table entry and no mapping claim)")
