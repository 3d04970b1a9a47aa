"""The cached sign-in of a profile: kept in the OS keyring or a private file, refreshed silently.

Where the tokens live:

- the OS keyring (service ``tvs-client``, user = profile name) when the ``keyring`` package can be
  imported and has a usable backend (not its ``fail`` or ``null`` backend);
- else ``<config dir>/tokens/<profile>.json``, created with mode 0600 in a 0700 directory.

``TVS_TOKEN_STORE=file`` or ``=keyring`` forces one (``keyring`` fails when none is usable).
A token is never printed, logged, or put in an exception message; :class:`TokenSet` hides it from
``repr``.
"""
from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .config import Profile, config_dir, private_dir, write_private
from .errors import IdentityError, NotSignedIn, UsageError

log = logging.getLogger("tvs_client.tokens")
KEYRING_SERVICE = "tvs-client"
# An access token with less than this left is refreshed before it is used.
EXPIRY_MARGIN_SECONDS = 60


@dataclass
class TokenSet:
    access_token: str
    expires_at: float | None = None
    refresh_token: str | None = None
    token_type: str = "Bearer"
    scope: str | None = None

    def __repr__(self) -> str:  # never show a token
        return (f"TokenSet(expires_at={self.expires_at!r}, refresh_token={'yes' if self.refresh_token else 'no'}, "
                f"scope={self.scope!r})")

    __str__ = __repr__

    def fresh(self, now: float, margin: float = EXPIRY_MARGIN_SECONDS) -> bool:
        return self.expires_at is None or now < self.expires_at - margin

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in self.__dict__.items() if v is not None})

    @classmethod
    def from_json(cls, text: str) -> "TokenSet | None":
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict) or not isinstance(doc.get("access_token"), str) or not doc["access_token"]:
                return None
            return cls(**{k: doc.get(k) for k in ("access_token", "expires_at", "refresh_token", "token_type", "scope")
                          if k in doc})
        except (ValueError, TypeError):
            return None

    @classmethod
    def from_response(cls, answer: dict, now: float, previous: "TokenSet | None" = None) -> "TokenSet":
        """From a token endpoint's answer; a refresh answer without a new refresh token keeps the old one."""
        access = answer.get("access_token")
        if not isinstance(access, str) or not access:
            raise IdentityError("invalid_response", "the token endpoint answered without an access_token")
        expires_at = None
        expires_in = answer.get("expires_in")
        if isinstance(expires_in, str) and expires_in.isdigit():  # some providers send a string
            expires_in = int(expires_in)
        if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) and expires_in > 0:
            expires_at = now + float(expires_in)
        else:
            expires_at = jwt_expiry(access)
        refresh = answer.get("refresh_token") if isinstance(answer.get("refresh_token"), str) else None
        if refresh is None and previous is not None:
            refresh = previous.refresh_token
        scope = answer.get("scope") if isinstance(answer.get("scope"), str) else None
        return cls(access_token=access, expires_at=expires_at, refresh_token=refresh or None,
                   token_type=str(answer.get("token_type") or "Bearer"), scope=scope)


def _jwt_claims(token: str) -> dict:
    """The claims of a JWT, NOT verified: for display and expiry hints only (the service verifies)."""
    try:
        payload = token.split(".")[1]
        doc = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return doc if isinstance(doc, dict) else {}
    except (IndexError, ValueError, TypeError):
        return {}


def jwt_expiry(token: str) -> float | None:
    exp = _jwt_claims(token).get("exp")
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


def token_subject(token: str) -> str | None:
    claims = _jwt_claims(token)
    for name in ("preferred_username", "upn", "email", "username", "sub"):
        if isinstance(claims.get(name), str) and claims[name]:
            return claims[name]
    return None


# -- where tokens are kept ------------------------------------------------------------------------
class FileTokenStore:
    kind = "file"

    def __init__(self, directory: Path | None = None):
        self.directory = directory or config_dir() / "tokens"

    def path(self, profile: str) -> Path:
        return self.directory / f"{profile}.json"

    def load(self, profile: str) -> TokenSet | None:
        try:
            return TokenSet.from_json(self.path(profile).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UsageError(f"cannot read the token file {self.path(profile)}: {exc.strerror}") from None

    def save(self, profile: str, tokens: TokenSet) -> None:
        private_dir(self.directory)
        write_private(self.path(profile), tokens.to_json().encode())

    def delete(self, profile: str) -> bool:
        try:
            self.path(profile).unlink()
            return True
        except FileNotFoundError:
            return False

    @contextlib.contextmanager
    def lock(self, profile: str):
        """One refresh at a time across processes (POSIX ``flock``; elsewhere threads only)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        private_dir(self.directory)
        fd = os.open(self.directory / f"{profile}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


class KeyringTokenStore:
    kind = "keyring"

    def __init__(self, keyring_module, files: FileTokenStore | None = None):
        self._keyring = keyring_module
        self._files = files or FileTokenStore()

    def load(self, profile: str) -> TokenSet | None:
        try:
            text = self._keyring.get_password(KEYRING_SERVICE, profile)
        except Exception as exc:  # a locked or broken keyring: say which, never what
            raise UsageError(f"cannot read the sign-in from the OS keyring ({type(exc).__name__})") from None
        if text is None:
            return self._files.load(profile)  # saved to the file when the keyring refused it (see save)
        return TokenSet.from_json(text)

    def save(self, profile: str, tokens: TokenSet) -> None:
        try:
            self._keyring.set_password(KEYRING_SERVICE, profile, tokens.to_json())
        except Exception as exc:  # e.g. a token too large for the Windows credential manager
            print(f"tvs: the OS keyring refused the sign-in ({type(exc).__name__}); keeping it in a private file "
                  "instead", file=sys.stderr)
            self._files.save(profile, tokens)
            return
        self._files.delete(profile)

    def delete(self, profile: str) -> bool:
        removed = self._files.delete(profile)
        try:
            self._keyring.delete_password(KEYRING_SERVICE, profile)
            return True
        except Exception:  # keyring.errors.PasswordDeleteError: there was none
            return removed

    def lock(self, profile: str):
        return self._files.lock(profile)


def usable_keyring():
    """The ``keyring`` module when it is installed and has a backend that can store secrets."""
    try:
        import keyring
        from keyring.backends import fail, null
    except Exception:  # not installed, or broken by its own dependencies
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return None
    if getattr(backend, "priority", 1) <= 0:
        return None
    if type(backend).__name__ == "ChainerBackend" and not getattr(backend, "backends", None):
        return None
    return keyring


def token_store():
    choice = (os.environ.get("TVS_TOKEN_STORE") or "auto").lower()
    if choice not in ("auto", "file", "keyring"):
        raise UsageError("TVS_TOKEN_STORE must be auto, keyring or file")
    if choice == "file":
        return FileTokenStore()
    module = usable_keyring()
    if module is not None:
        return KeyringTokenStore(module)
    if choice == "keyring":
        raise UsageError("TVS_TOKEN_STORE=keyring, but no usable OS keyring backend was found")
    return FileTokenStore()


# -- the sign-in of one profile -------------------------------------------------------------------
class SignIn:
    """The bearer token of a profile: loaded from the store, refreshed with the refresh token when
    (nearly) expired, one refresh at a time (threads of this process, and processes on POSIX)."""

    def __init__(self, profile: Profile, store=None, clock: Callable[[], float] = time.time, timeout: float = 10.0):
        self.profile = profile
        self.store = store or token_store()
        self.clock = clock
        self.timeout = timeout
        self._lock = threading.Lock()

    def _not_signed_in(self, reason: str) -> NotSignedIn:
        return NotSignedIn(reason, self.profile.name)

    def tokens(self) -> TokenSet | None:
        return self.store.load(self.profile.name)

    def save(self, tokens: TokenSet) -> None:
        self.store.save(self.profile.name, tokens)

    def forget(self) -> bool:
        return self.store.delete(self.profile.name)

    def __call__(self) -> str:
        return self.access_token()

    def access_token(self) -> str:
        tokens = self.tokens()
        if tokens is None:
            raise self._not_signed_in("you are not signed in")
        if tokens.fresh(self.clock()):
            return tokens.access_token
        return self._refresh(stale=tokens.access_token).access_token

    def after_rejection(self, rejected: str) -> str | None:
        """The service refused ``rejected`` (401): a refreshed token to try once more, or None."""
        tokens = self.tokens()
        if tokens is None or not tokens.refresh_token:
            return None
        if tokens.access_token != rejected:
            return tokens.access_token  # another process refreshed meanwhile
        try:
            return self._refresh(stale=rejected, force=True).access_token
        except NotSignedIn:
            return None

    def _refresh(self, stale: str, force: bool = False) -> TokenSet:
        from . import oidc

        with self._lock, self.store.lock(self.profile.name):
            tokens = self.tokens()  # another thread or process may have refreshed meanwhile
            if tokens is None:
                raise self._not_signed_in("you are not signed in")
            if tokens.access_token != stale and tokens.fresh(self.clock()):
                return tokens
            if not force and tokens.fresh(self.clock()):
                return tokens
            if not tokens.refresh_token or not self.profile.token_endpoint or not self.profile.client_id:
                raise self._not_signed_in("your sign-in has expired")
            try:
                answer = oidc.refresh(self.profile.token_endpoint, self.profile.client_id, tokens.refresh_token,
                                      self.profile.scopes or None, timeout=self.timeout, ca_file=self.profile.ca_file)
            except IdentityError as exc:
                if exc.error in ("invalid_grant", "invalid_token", "unauthorized_client", "invalid_client"):
                    raise self._not_signed_in(f"your sign-in has expired ({exc.error})") from None
                raise
            fresh = TokenSet.from_response(answer, self.clock(), previous=tokens)
            self.save(fresh)
            log.debug("refreshed the sign-in of profile %s", self.profile.name)
            return fresh
