"""The three STS calls that mint a scoped session, and what their failures mean to a caller.

Every call sends a session policy (checked against the size limit first) and returns an
:class:`StsSession` whose expiry is the one STS returned. Failures become problems without any
secret or AWS message text in them:

- throttling -> 503 ``upstream-throttled`` with ``Retry-After`` (the caller did nothing wrong; STS
  is busy for this service, so this is an upstream outage from the caller's point of view);
- ``PackedPolicyTooLarge`` -> 400 ``policy-too-large``;
- refusals (AccessDenied, bad keys, a trust policy that does not match, a role whose
  MaxSessionDuration is below the store's ``ttl.max``) -> 503 ``upstream-refused``;
- timeouts, connection errors, STS 5xx -> 503 ``upstream-unavailable``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import Problem, unavailable
from .policy import SessionPolicy, policy_too_large

log = logging.getLogger("tvs.aws")

THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
TRANSIENT = frozenset({"InternalFailure", "InternalError", "ServiceUnavailable", "IDPCommunicationError"})


@dataclass(frozen=True)
class StsSession:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime
    arn: str  # assumed-role or federated-user ARN (not a secret)
    kind: str  # "assumed-role" | "federated-user"

    def __repr__(self) -> str:  # never print a secret by accident
        return f"StsSession(access_key_id={self.access_key_id!r}, expiration={self.expiration!r}, arn={self.arn!r})"


class CallCounter:
    """How many STS calls this process made, per operation (benchmarks, tests, metrics)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, operation: str) -> None:
        with self._lock:
            self._counts[operation] += 1

    def total(self, operation: str | None = None) -> int:
        with self._lock:
            return self._counts[operation] if operation else sum(self._counts.values())


CALLS = CallCounter()


def _session(response: dict, kind: str, arn: str) -> StsSession:
    c = response["Credentials"]
    return StsSession(
        access_key_id=c["AccessKeyId"],
        secret_access_key=c["SecretAccessKey"],
        session_token=c["SessionToken"],
        expiration=c["Expiration"],
        arn=arn,
        kind=kind,
    )


def _call(operation: str, fn: Callable[..., dict], policy: SessionPolicy, params: dict[str, Any]) -> dict:
    policy.check_size()
    CALLS.add(operation)
    try:
        return fn(Policy=policy.text, **params)
    except Exception as exc:  # noqa: BLE001 - every botocore failure is mapped below
        raise problem_for(operation, exc) from None


def assume_role(
    client,
    *,
    role_arn: str,
    session_name: str,
    policy: SessionPolicy,
    duration: int,
    external_id: str | None = None,
    source_identity: str | None = None,
    tags: dict[str, str] | None = None,
) -> StsSession:
    """AssumeRole with ``policy`` as the session policy (always sent; deny-all is a policy too)."""
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name, "DurationSeconds": duration}
    if external_id:
        params["ExternalId"] = external_id
    if source_identity:
        params["SourceIdentity"] = source_identity
    if tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
    response = _call("AssumeRole", client.assume_role, policy, params)
    return _session(response, "assumed-role", response.get("AssumedRoleUser", {}).get("Arn", ""))


def assume_role_with_web_identity(
    client, *, role_arn: str, session_name: str, token: str, policy: SessionPolicy, duration: int
) -> StsSession:
    """AssumeRoleWithWebIdentity: no AWS credentials needed, the token is the proof."""
    params = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "WebIdentityToken": token,
        "DurationSeconds": duration,
    }
    response = _call("AssumeRoleWithWebIdentity", client.assume_role_with_web_identity, policy, params)
    return _session(response, "assumed-role", response.get("AssumedRoleUser", {}).get("Arn", ""))


def get_federation_token(client, *, name: str, policy: SessionPolicy, duration: int) -> StsSession:
    """GetFederationToken from long-term IAM-user keys; the policy is what the session may do."""
    response = _call(
        "GetFederationToken", client.get_federation_token, policy, {"Name": name, "DurationSeconds": duration}
    )
    return _session(response, "federated-user", response.get("FederatedUser", {}).get("Arn", ""))


def problem_for(operation: str, exc: BaseException) -> Problem:
    """The caller-facing problem for a failed STS call (never the AWS message, never a secret)."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        log.warning("STS %s failed: %s (HTTP %s)", operation, code, status)
        if code in THROTTLING:
            return unavailable(
                f"STS is throttling this service ({operation}); retry shortly", retry_after=5, slug="upstream-throttled"
            )
        if code == "PackedPolicyTooLarge":
            return policy_too_large("STS found the packed session policy and session tags too large")
        if code in TRANSIENT or status >= 500:
            return unavailable(f"STS could not complete {operation} ({code})", retry_after=5)
        if code == "ValidationError" and "MaxSessionDuration" in str(error.get("Message", "")):
            return unavailable(
                f"STS refused {operation}: the role's MaxSessionDuration is below the store's "
                "ttl.max; lower the store's ttl.max or raise the role's maximum",
                retry_after=60,
                slug="upstream-refused",
            )
        return unavailable(
            f"STS refused {operation} ({code}); check the store's role, its trust policy and the "
            "service's AWS credentials",
            retry_after=60,
            slug="upstream-refused",
        )
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError, ProfileNotFound)):
        log.warning("STS %s failed: no AWS credentials", operation)
        return unavailable(
            f"the service has no AWS credentials to call {operation}", retry_after=60, slug="upstream-refused"
        )
    if isinstance(exc, BotoCoreError):
        log.warning("STS %s failed: %s", operation, type(exc).__name__)
        return unavailable(f"STS did not answer {operation} ({type(exc).__name__})", retry_after=5)
    raise exc  # not a botocore failure: a bug, reported as such
