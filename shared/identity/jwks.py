"""Signing keys per issuer, cached across invocations (docs/design.md, Caching and Signing keys).

- Keys come from the issuer's JWKS (named directly, or found through OIDC discovery).
- They are refreshed every ``refresh_seconds``; an unknown ``kid`` triggers at most one refetch
  per cool-down, so a flood of forged kids cannot hammer the IdP.
- When the IdP is unreachable, the last known good keys keep working for ``max_stale_seconds``;
  with none, validation answers 503 with ``Retry-After``.
- Only the configured URLs are fetched: ``jku``/``x5u``/``jwk``/``x5c`` token headers are never used;
  in deployed mode a ``jwks_uri`` that discovery names is held to https like a configured one.
- Only keys fit to verify signatures are kept: not ``use: enc``, ``key_ops`` (when present) naming
  ``verify``, no symmetric keys, RSA of at least 2048 bits and without the ROCA weakness.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable

import jwt

from ..config import IssuerConfig
from ..errors import Problem, invalid_token, unavailable

log = logging.getLogger("tvs.identity")
Fetch = Callable[[str, float], dict]
MIN_RSA_BITS = 2048
UNKNOWN_KID_WINDOW_SECONDS = 60.0

# The ROCA fingerprint (Nemec et al., CCS 2017): an RSA modulus made by the affected Infineon library
# is, modulo each of these small primes, a power of 65537. A random modulus passes all 38 tests with
# probability about 2^-154, so a match means the key can be factored and must not be trusted.
_ROCA_PRIMES = (
    3,
    5,
    7,
    11,
    13,
    17,
    19,
    23,
    29,
    31,
    37,
    41,
    43,
    47,
    53,
    59,
    61,
    67,
    71,
    73,
    79,
    83,
    89,
    97,
    101,
    103,
    107,
    109,
    113,
    127,
    131,
    137,
    139,
    149,
    151,
    157,
    163,
    167,
)
_ROCA_POWERS = tuple(frozenset(pow(65537, k, p) for k in range(p)) for p in _ROCA_PRIMES)


def is_roca_weak(modulus: int) -> bool:
    """True when ``modulus`` carries the ROCA fingerprint."""
    return all(modulus % p in powers for p, powers in zip(_ROCA_PRIMES, _ROCA_POWERS, strict=True))


def unfit_for_verification(raw: dict, key: jwt.PyJWK) -> str | None:
    """Why a JWKS entry must not verify tokens, or None when it may."""
    if raw.get("use", "sig") != "sig":
        return "not a signature key (use)"
    ops = raw.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return "key_ops do not include verify"
    public = getattr(key.key, "public_numbers", None)
    numbers = public() if callable(public) else None
    modulus = getattr(numbers, "n", None)
    if isinstance(modulus, int):
        if modulus.bit_length() < MIN_RSA_BITS:
            return f"RSA key under {MIN_RSA_BITS} bits"
        if is_roca_weak(modulus):
            return "RSA key with the ROCA weakness"
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Keys come from the configured URL only: a redirect (possibly to http, or to another host) is a
    failed fetch, never followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - refusing is the point
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch_json(url: str, timeout: float) -> dict:
    req = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - https URLs from configuration
    with _OPENER.open(req, timeout=timeout) as resp:  # URL from configuration only
        if resp.status != 200:
            raise OSError(f"HTTP {resp.status}")
        doc = json.loads(resp.read(1_048_576))
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    return doc


def _reason(exc: Exception) -> str:
    """What went wrong, in a few words fit for the log (an HTTP status, a timeout, a refused connection)."""
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return f"HTTP {code}" + (" (a redirect, not followed)" if 300 <= code < 400 else "")
    return str(exc)[:120] or "no detail"


class JwksCache:
    """Keys of one issuer. Thread-safe; one instance per issuer per process."""

    def __init__(
        self,
        issuer: IssuerConfig,
        fetch: Fetch = fetch_json,
        clock: Callable[[], float] = time.monotonic,
        refresh_seconds: float = 3600.0,
    ):
        self.issuer = issuer
        self._fetch = fetch
        self._clock = clock
        self._refresh = refresh_seconds
        self._lock = threading.Lock()  # guards the fields below; never held during a fetch
        self._refreshing = threading.Lock()  # one fetch at a time
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # last success
        self._attempted_at: float | None = None  # last try, success or not
        self._jwks_uri = issuer.jwks_uri
        # Distinct unknown kids seen in the current minute (at most the issuer's cap of them are kept).
        self._unknown_kids: set[str | None] = set()
        self._window_start: float | None = None
        self._warned = False

    def key(self, kid: str | None) -> jwt.PyJWK:
        """The verification key for ``kid`` or a Problem (401 unknown key, 503 IdP down and no keys).

        Network fetches happen outside the cache lock and one at a time: while one request refreshes,
        the others keep verifying with the keys at hand; only a cold cache makes them wait for it.
        """
        now = self._clock()
        with self._lock:
            fresh = self._fetched_at is not None and now - self._fetched_at < self._refresh
            have_keys = bool(self._keys)
        if not fresh:
            self._try_refresh(now, wait=not have_keys)
        with self._lock:
            if self._fetched_at is not None and now - self._fetched_at > max(
                self.issuer.max_stale_seconds, self._refresh
            ):
                self._keys = {}  # last known good keys are too old to trust: 503 until the IdP is back
            found = self._lookup(kid)
            admitted, warn = (True, False) if found is not None or not self._keys else self._admit_unknown(kid, now)
            retry = found is None and bool(self._keys) and admitted and self._cooled_down(now)
        if warn:
            log.warning(
                "issuer %s: more than %d distinct unknown key ids within a minute; until the minute ends, "
                "tokens naming another unknown key id are refused without asking the identity provider",
                self.issuer.name,
                self.issuer.max_unknown_kids_per_minute,
            )
        if retry:  # an unknown kid: the IdP may have rotated its keys
            self._try_refresh(now, wait=True)
            with self._lock:
                found = self._lookup(kid)
        if found is not None:
            return found
        with self._lock:
            if not self._keys:
                raise unavailable(
                    "the identity provider's signing keys cannot be fetched", retry_after=30, slug="idp-unavailable"
                )
        raise invalid_token("the token is signed with an unknown key")

    def _admit_unknown(self, kid: str | None, now: float) -> tuple[bool, bool]:
        """Whether an unknown ``kid`` may ask for a refetch (a cool-down still applies), and whether to warn
        now. At most ``max_unknown_kids_per_minute`` distinct unknown kids per minute may; beyond that a
        forged kid costs nothing but its refusal. Called under the lock."""
        if self._window_start is None or now - self._window_start >= UNKNOWN_KID_WINDOW_SECONDS:
            self._window_start, self._warned = now, False
            self._unknown_kids.clear()
        if kid in self._unknown_kids:
            return True, False
        if len(self._unknown_kids) >= self.issuer.max_unknown_kids_per_minute:
            warn, self._warned = not self._warned, True
            return False, warn
        self._unknown_kids.add(kid)
        return True, False

    def _cooled_down(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.issuer.refetch_cooldown_seconds

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            # Without a kid only an unambiguous key set is usable.
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _try_refresh(self, now: float, wait: bool) -> None:
        if not self._refreshing.acquire(blocking=wait):
            return  # another request is refreshing; this one goes on with the keys at hand
        try:
            with self._lock:
                if not self._cooled_down(now):
                    return  # one try per cool-down, also while the IdP is down and nothing is cached
                self._attempted_at = now
            try:
                keys = self._download()
            except Exception as exc:  # noqa: BLE001 - any failure of the IdP is handled the same way
                with self._lock:
                    cached = bool(self._keys)
                log.warning(
                    "issuer %s: its signing keys could not be fetched from %s (%s: %s); %s",
                    self.issuer.name,
                    self._jwks_uri or self.issuer.discovery_url,
                    type(exc).__name__,
                    _reason(exc),
                    "the keys fetched before serve meanwhile"
                    if cached
                    else "its tokens are answered 503 idp-unavailable until they can be",
                    extra={"issuer": self.issuer.issuer, "error": type(exc).__name__},
                )
                return
            with self._lock:
                self._keys, self._fetched_at = keys, now
        finally:
            self._refreshing.release()

    def _download(self) -> dict[str, jwt.PyJWK]:
        timeout = self.issuer.http_timeout_seconds
        if self._jwks_uri is None:
            meta = self._fetch(self.issuer.discovery_url or "", timeout)
            if meta.get("issuer") not in (self.issuer.issuer, None) and "{tenantid}" not in self.issuer.issuer:
                raise ValueError("discovery document names another issuer")
            uri = meta.get("jwks_uri")
            if not isinstance(uri, str) or (self.issuer.https_only and not uri.startswith("https://")):
                log.warning(
                    "the discovery document of issuer %s names a jwks_uri that is not an https URL; "
                    "its keys are not fetched",
                    self.issuer.name,
                )
                raise ValueError("discovery named a jwks_uri that is not https")
            self._jwks_uri = uri
        doc = self._fetch(self._jwks_uri, timeout)
        keys: dict[str, jwt.PyJWK] = {}
        for i, raw in enumerate(doc.get("keys", [])):
            if not isinstance(raw, dict) or not isinstance(raw.get("kid", ""), str):
                continue  # one malformed entry must not cost the usable keys
            if raw.get("kty") == "oct":
                continue  # symmetric keys in a JWKS would let anyone holding the JWKS sign
            try:
                key = jwt.PyJWK(raw)
            except jwt.PyJWTError:
                continue
            reason = unfit_for_verification(raw, key)
            if reason:
                log.warning("issuer %s: key %s is not used: %s", self.issuer.name, str(raw.get("kid"))[:64], reason)
                continue
            keys[raw.get("kid") or f"#{i}"] = key
        if not keys:
            raise ValueError("the JWKS holds no usable signing key")
        return keys


__all__ = ["JwksCache", "fetch_json", "Problem"]
