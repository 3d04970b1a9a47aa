"""In-memory VMS state: users, tenants and S3 access key pairs behind one lock."""

from __future__ import annotations

import base64
import datetime as _dt
import random
import threading
from collections.abc import Iterable, Mapping
from typing import Any

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# Directory users get a VMS-side numeric id too (S3Key.user.id); a separate
# range keeps them from colliding with the seeded local user ids.
NON_LOCAL_ID_BASE = 900_001


class ApiError(Exception):
    """An error answer: HTTP status plus a DRF-style JSON body."""

    def __init__(self, status: int, body: dict):
        super().__init__(status, body)
        self.status = status
        self.body = body


class NotFound(ApiError, LookupError):
    """404 ``{"detail": "Not found."}``; also a LookupError for in-process callers."""

    def __init__(self) -> None:
        super().__init__(404, {"detail": "Not found."})


def as_int(value: Any, field: str) -> int:
    """Parse an integer the way a DRF IntegerField does (ints or digit strings)."""
    if isinstance(value, bool):
        raise ApiError(400, {field: ["A valid integer is required."]})
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, {field: ["A valid integer is required."]}) from None


class User:
    __slots__ = ("ref", "id", "name", "tenant_id", "uid", "sid")

    def __init__(self, ref: tuple, id: int, name: str, tenant_id: int, uid: int | None = None, sid: str | None = None):
        self.ref, self.id, self.name, self.tenant_id = ref, id, name, tenant_id
        self.uid, self.sid = uid, sid


class Key:
    # __slots__ keeps 20k+ keys at a few MB.
    __slots__ = ("id", "access_key", "secret_key", "owner", "tenant_id", "enabled", "creation_time")


class KeyGenerator:
    """Produces VAST-looking pairs: access key = base64 of 16 random bytes.

    Every ``special_every``-th access key is forced to contain both ``+`` and
    ``/`` so client encoding paths are exercised deterministically rather
    than by luck.
    """

    def __init__(self, seed: int | None = None, special_every: int = 3):
        self._rng = random.Random(seed) if seed is not None else random.SystemRandom()
        self._every = special_every
        self._count = 0

    def access_key(self) -> str:
        self._count += 1
        chars = list(base64.b64encode(self._rng.getrandbits(128).to_bytes(16, "big")).decode())
        if self._every and self._count % self._every == 0:
            # Index 21 also carries padding bits; changing only 0..20 keeps it canonical base64.
            i, j = self._rng.sample(range(21), 2)
            chars[i], chars[j] = "+", "/"
        return "".join(chars)

    def secret_key(self) -> str:
        return "".join(self._rng.choice(_B64) for _ in range(40))


class Store:
    """Users and keys. Every public method takes ``self.lock``."""

    def __init__(
        self,
        *,
        local_users: Mapping[int, str],
        non_local_users: Iterable[dict],
        tenants: Mapping[int, str],
        max_keys: int,
        keygen: KeyGenerator,
    ):
        self.lock = threading.RLock()
        self.max_keys = max_keys
        self.tenants = dict(tenants)
        self._keygen = keygen
        self._local: dict[int, User] = {}
        self._by_uid: dict[int, User] = {}
        self._by_sid: dict[str, User] = {}
        self._nl_next_id = NON_LOCAL_ID_BASE
        for uid_, name in local_users.items():
            self.add_local_user(uid_, name)
        for spec in non_local_users:
            self.add_non_local_user(**spec)
        self.clear_keys()

    # -- users -------------------------------------------------------------
    def add_local_user(self, user_id: int, name: str, tenant_id: int = 1) -> User:
        with self.lock:
            user = User(("local", int(user_id)), int(user_id), name, tenant_id)
            self._local[user.id] = user
            return user

    def add_non_local_user(self, name: str, uid: int | None = None, sid: str | None = None, tenant_id: int = 1) -> User:
        if uid is None and sid is None:
            raise ValueError("a non-local user needs a uid or a sid")
        with self.lock:
            user = User(
                ("non_local", self._nl_next_id),
                self._nl_next_id,
                name,
                tenant_id,
                None if uid is None else int(uid),
                sid,
            )
            self._nl_next_id += 1
            if user.uid is not None:
                self._by_uid[user.uid] = user
            if sid is not None:
                self._by_sid[sid] = user
            return user

    def local_user(self, user_id: Any) -> User:
        try:
            return self._local[int(user_id)]
        except (KeyError, TypeError, ValueError):
            raise NotFound() from None

    def non_local_user(self, uid: Any = None, sid: Any = None) -> User:
        if uid is None and sid is None:
            raise ApiError(400, {"detail": "Either uid or sid must be provided."})
        with self.lock:
            user = self._by_uid.get(as_int(uid, "uid")) if uid is not None else None
            if uid is None:
                user = self._by_sid.get(str(sid))
            elif user is not None and sid is not None and user.sid != sid:
                user = None
        if user is None:
            raise NotFound()
        return user

    def users(self) -> list[dict]:
        with self.lock:
            out = [
                {"type": "local", "id": u.id, "name": u.name, "tenant_id": u.tenant_id} for u in self._local.values()
            ]
            nl = {u.ref: u for u in (*self._by_uid.values(), *self._by_sid.values())}
            out += [
                {"type": "non_local", "id": u.id, "name": u.name, "uid": u.uid, "sid": u.sid, "tenant_id": u.tenant_id}
                for u in nl.values()
            ]
            return out

    # -- keys --------------------------------------------------------------
    def clear_keys(self) -> None:
        with self.lock:
            self._keys: dict[str, Key] = {}  # insertion order == id order
            self._owned: dict[tuple, list[Key]] = {}
            self._next_key_id = 1

    def create_key(
        self,
        user: User,
        tenant_id: Any = None,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        enabled: bool = True,
        enforce_cap: bool = True,
    ) -> Key:
        """Create a pair for ``user``; 400 past the per-user cap (checked atomically)."""
        tenant = user.tenant_id if tenant_id is None else as_int(tenant_id, "tenant_id")
        with self.lock:
            if tenant not in self.tenants:
                raise ApiError(400, {"tenant_id": [f'Invalid pk "{tenant}" - object does not exist.']})
            owned = self._owned.setdefault(user.ref, [])
            if enforce_cap and len(owned) >= self.max_keys:
                # Mimics VAST's refusal; the real wording is not in the schema.
                raise ApiError(
                    400,
                    {
                        "detail": f"User {user.name} already has {len(owned)} access "
                        f"keys. Maximum number of access keys per user is "
                        f"{self.max_keys}"
                    },
                )
            if access_key is not None and access_key in self._keys:
                raise ApiError(400, {"access_key": ["Access key already exists."]})
            while access_key is None or access_key in self._keys:
                access_key = self._keygen.access_key()
            key = Key()
            key.id, self._next_key_id = self._next_key_id, self._next_key_id + 1
            key.access_key = access_key
            key.secret_key = secret_key or self._keygen.secret_key()
            key.owner, key.tenant_id, key.enabled = user, tenant, bool(enabled)
            key.creation_time = _dt.datetime.now(_dt.UTC).isoformat().replace("+00:00", "Z")
            self._keys[access_key] = key
            owned.append(key)
            return key

    def _owned_key(self, user: User, access_key: Any) -> Key:
        key = self._keys.get(access_key) if isinstance(access_key, str) else None
        # Someone else's key is reported exactly like a missing one.
        if key is None or key.owner is not user:
            raise NotFound()
        return key

    def delete_key(self, user: User, access_key: Any) -> None:
        with self.lock:
            key = self._owned_key(user, access_key)
            del self._keys[key.access_key]
            self._owned[user.ref].remove(key)

    def set_enabled(self, user: User, access_key: Any, enabled: Any) -> None:
        if not isinstance(enabled, bool):
            raise ApiError(400, {"enabled": ["Must be a valid boolean."]})
        with self.lock:
            self._owned_key(user, access_key).enabled = enabled

    def keys_of(self, user: User) -> list[Key]:
        with self.lock:
            return list(self._owned.get(user.ref, ()))

    def all_keys(self) -> list[Key]:
        with self.lock:
            return list(self._keys.values())

    def local_keys(self, user_id: Any = None, tenant_id: Any = None) -> list[Key]:
        with self.lock:
            if user_id is not None:
                user = self._local.get(as_int(user_id, "user_id"))
                keys = list(self._owned.get(user.ref, ())) if user else []
            else:
                keys = [k for k in self._keys.values() if k.owner.ref[0] == "local"]
        if tenant_id is not None:
            tenant = as_int(tenant_id, "tenant_id")
            keys = [k for k in keys if k.tenant_id == tenant]
        return keys

    # -- serialisation -----------------------------------------------------
    def s3key(self, key: Key) -> dict:
        """The schema's ``S3Key`` shape (no secret)."""
        return {
            "id": key.id,
            "access_key": key.access_key,
            "creation_time": key.creation_time,
            "enabled": key.enabled,
            "user": {"id": key.owner.id, "name": key.owner.name},
            "tenant": {"id": key.tenant_id, "name": self.tenants.get(key.tenant_id, "")},
        }

    def dump(self, key: Key) -> dict:
        """``S3Key`` plus secret and owner identity, for inspection only."""
        out = self.s3key(key)
        out["secret_key"] = key.secret_key
        out["user_type"] = key.owner.ref[0]
        if key.owner.ref[0] == "non_local":
            out["uid"], out["sid"] = key.owner.uid, key.owner.sid
        return out
