"""Minting one scoped STS session for a principal: names, durations and the three STS methods.

- Names: RoleSessionName and SourceIdentity (2-64 characters of ``[A-Za-z0-9_+=,.@-]``) and the
  GetFederationToken name (2-32) are a readable, sanitized prefix of the subject plus a short hash
  of ``issuer|subject``: deterministic, unique per principal, visible in CloudTrail.
- Durations: ``max(900, min(requested, store ttl.max, method maximum))``. The method maximum is
  43,200 s for AssumeRole and AssumeRoleWithWebIdentity, 3,600 s for AssumeRole when the service's
  own credentials are a role session (role chaining: Lambda, ECS, EC2 instance profiles), and
  129,600 s for GetFederationToken. A request below 900 s gets 900 s: STS issues nothing shorter.
- ExternalId comes from the store's configuration only, never from a request.
"""

from __future__ import annotations

import hashlib
import os
import re
import string
import threading
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping

from ..identity.principal import Principal
from ..secrets import SecretResolver
from . import sts
from .clients import CLIENTS, Keys
from .policy import SessionPolicy
from .web_identity import token_source

STS_MIN_SECONDS = 900
ASSUME_ROLE_MAX_SECONDS = 43_200
ROLE_CHAINING_MAX_SECONDS = 3_600
FEDERATION_MAX_SECONDS = 129_600
_NOT_NAME_CHAR = re.compile(r"[^A-Za-z0-9_+=,.@-]+")
_NOT_TAG_CHAR = re.compile(r"[^\w .:/=+@-]+")
MAX_TAG_VALUE = 256


def session_name(principal: Principal, max_len: int = 64) -> str:
    """A deterministic name for ``principal`` fit for RoleSessionName / SourceIdentity (``max_len`` 64)
    or a federated user name (``max_len`` 32); always at least 13 characters, never starts with ``aws:``."""
    digest = hashlib.sha256(principal.key.encode()).hexdigest()[:12]
    ascii_subject = unicodedata.normalize("NFKD", principal.subject).encode("ascii", "ignore").decode()
    readable = _NOT_NAME_CHAR.sub("-", ascii_subject).strip("-")[: max_len - len(digest) - 1]
    return f"{readable}-{digest}" if readable else digest


def clamp_duration(requested: int, store_max: int, method_max: int) -> int:
    """The DurationSeconds to ask STS for (see the module docstring)."""
    return max(STS_MIN_SECONDS, min(requested, store_max, method_max))


def session_tags(templates: Mapping[str, str], principal: Principal) -> dict[str, str]:
    """Session tags with ``{sub}``-style placeholders filled from verified claims.

    A tag whose placeholder has no value is left out; characters STS refuses in a tag value become
    ``_`` and values are cut at 256 characters.
    """
    values = principal.placeholder_values()
    out = {}
    for key, template in templates.items():
        parts, missing = [], False
        for text, name, _spec, _conv in string.Formatter().parse(template):
            parts.append(text)
            if name is not None:
                missing = missing or name not in values
                parts.append(values.get(name, ""))
        if not missing:
            out[key] = _NOT_TAG_CHAR.sub("_", "".join(parts))[:MAX_TAG_VALUE]
    return out


class SessionMinter(ABC):
    """Mints a session for one store; one instance per store, thread-safe."""

    def __init__(self, options: Mapping, secrets: SecretResolver):
        self.options = options
        self.secrets = secrets

    @property
    @abstractmethod
    def max_duration(self) -> int:
        """The longest session this method can mint."""

    @abstractmethod
    def mint(self, principal: Principal, policy: SessionPolicy, duration: int) -> sts.StsSession:
        """A session limited by ``policy``, lasting ``duration`` seconds (already clamped)."""

    def _keys(self, ref_access: Mapping, ref_secret: Mapping) -> Keys:
        return Keys(self.secrets.resolve(ref_access), self.secrets.resolve(ref_secret))

    def _sts(self, operation: str, keys: Keys | None = None, unsigned: bool = False):
        # Building a client with keys=None loads the default credential chain, which can fail
        # (a missing profile, a broken credential_process): a problem for the caller, not a 500.
        o = self.options
        try:
            return CLIENTS.client(
                "sts", o["region"], o.get("sts_endpoint_url"), keys, o.get("ca_bundle"), unsigned=unsigned
            )
        except Exception as exc:  # noqa: BLE001 - problem_for re-raises what is not a botocore failure
            raise sts.problem_for(operation, exc) from None


class AssumeRoleMinter(SessionMinter):
    def __init__(self, options, secrets):
        super().__init__(options, secrets)
        self._chained: bool | None = options["auth"].get("source_credentials_are_role")
        self._lock = threading.Lock()

    def _source_keys(self) -> Keys | None:
        source = self.options["auth"]["source"]
        return None if source == "default" else self._keys(source["access_key_id"], source["secret_access_key"])

    def _source_is_role_session(self) -> bool:
        # Explicit configuration wins. Configured keys are long-term keys; the runtime's default
        # credentials are a role session in Lambda, or whenever they carry a session token.
        with self._lock:
            if self._chained is None:
                try:
                    self._chained = self.options["auth"]["source"] == "default" and (
                        bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) or CLIENTS.default_credentials_are_temporary()
                    )
                except Exception as exc:  # noqa: BLE001 - the default chain failed to load; not cached
                    raise sts.problem_for("AssumeRole", exc) from None
            return self._chained

    @property
    def max_duration(self) -> int:
        return ROLE_CHAINING_MAX_SECONDS if self._source_is_role_session() else ASSUME_ROLE_MAX_SECONDS

    def mint(self, principal, policy, duration):
        auth = self.options["auth"]
        external_id = auth.get("external_id")
        if isinstance(external_id, Mapping):
            external_id = self.secrets.resolve(external_id)
        name = session_name(principal)
        return sts.assume_role(
            self._sts("AssumeRole", self._source_keys()),
            role_arn=auth["role_arn"],
            session_name=name,
            policy=policy,
            duration=duration,
            external_id=external_id,
            source_identity=name if auth["source_identity"] else None,
            tags=session_tags(auth["session_tags"], principal),
        )


class WebIdentityMinter(SessionMinter):
    def __init__(self, options, secrets):
        super().__init__(options, secrets)
        self._tokens = token_source(options["auth"]["token"])

    @property
    def max_duration(self) -> int:
        return ASSUME_ROLE_MAX_SECONDS

    def mint(self, principal, policy, duration):
        # The call is unsigned: the token is the only proof, so no AWS credential is looked up.
        return sts.assume_role_with_web_identity(
            self._sts("AssumeRoleWithWebIdentity", unsigned=True),
            role_arn=self.options["auth"]["role_arn"],
            session_name=session_name(principal),
            token=self._tokens.token(),
            policy=policy,
            duration=duration,
        )


class FederationTokenMinter(SessionMinter):
    @property
    def max_duration(self) -> int:
        return FEDERATION_MAX_SECONDS

    def mint(self, principal, policy, duration):
        auth = self.options["auth"]
        keys = self._keys(auth["access_key_id"], auth["secret_access_key"])
        return sts.get_federation_token(
            self._sts("GetFederationToken", keys), name=session_name(principal, 32), policy=policy, duration=duration
        )


MINTERS = {
    "assume-role": AssumeRoleMinter,
    "web-identity": WebIdentityMinter,
    "federation-token": FederationTokenMinter,
}
