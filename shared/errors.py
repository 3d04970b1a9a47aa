"""The error model: every refusal is a :class:`Problem` rendered as RFC 9457 problem+json."""
from __future__ import annotations

from dataclasses import dataclass, field

PROBLEM_BASE = "https://tvs.dev/problems/"


@dataclass
class Problem(Exception):
    """A refusal the caller can act on. ``detail`` must never contain a secret or a token."""

    status: int
    slug: str
    title: str
    detail: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:  # pragma: no cover - debugging aid
        return f"{self.status} {self.slug}: {self.detail}"

    def to_body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
        }
        body.update(self.extra)
        return body


def bad_request(detail: str, slug: str = "invalid-request") -> Problem:
    return Problem(400, slug, "The request is not valid", detail)


def invalid_token(detail: str) -> Problem:
    # RFC 6750 §3: the challenge says why; the detail never echoes the token.
    return Problem(
        401,
        "invalid-token",
        "The bearer token is missing or not valid",
        detail,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def missing_token() -> Problem:
    return Problem(
        401,
        "missing-token",
        "A bearer token is required",
        "Send 'Authorization: Bearer <token>'.",
        headers={"WWW-Authenticate": "Bearer"},
    )


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", "Not granted", detail)


def not_found(detail: str) -> Problem:
    return Problem(404, "not-found", "Not found", detail)


def conflict(slug: str, detail: str) -> Problem:
    return Problem(409, slug, "Conflict", detail)


def unavailable(detail: str, retry_after: int = 5, slug: str = "upstream-unavailable") -> Problem:
    return Problem(
        503, slug, "An upstream service is unavailable", detail,
        headers={"Retry-After": str(int(retry_after))},
    )


def throttled(detail: str, retry_after: int = 2) -> Problem:
    return Problem(429, "throttled", "Too many requests", detail, headers={"Retry-After": str(int(retry_after))})


class ConfigError(Exception):
    """The configuration document is invalid; the message names the offending key."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
