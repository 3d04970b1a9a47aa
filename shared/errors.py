"""The error model: every refusal is a :class:`Problem` rendered as RFC 9457 problem+json.

:data:`CATALOGUE` lists every problem type the service answers with its status and its one title
(docs/api.md, Problem catalogue); a Problem of a catalogued type always carries those.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PROBLEM_BASE = "https://tvs.dev/problems/"
INVALID = "The request is not valid"
NOT_GRANTED = "Not granted"
CONFLICT = "Conflict"
UPSTREAM = "An upstream service is unavailable"

CATALOGUE: dict[str, tuple[int, str]] = {
    "malformed-json": (400, INVALID),
    "unknown-field": (400, INVALID),
    "duplicate-field": (400, INVALID),
    "missing-field": (400, INVALID),
    "bad-type": (400, INVALID),
    "bad-access": (400, INVALID),
    "bad-format": (400, INVALID),
    "bad-method": (400, INVALID),
    "bad-path": (400, INVALID),
    "bad-ttl": (400, INVALID),
    "bad-cursor": (400, INVALID),
    "bad-name": (400, INVALID),
    "bad-content-length": (400, INVALID),
    "body-incomplete": (400, INVALID),
    "bad-request-line": (400, INVALID),
    "access-not-offered": (400, INVALID),
    "list-needs-prefix": (400, INVALID),
    "list-on-object": (400, "'list' needs a prefix"),
    "prefix-scope-unsupported": (400, "This store cannot scope a credential to a prefix"),
    "policy-too-large": (400, "The session policy would be too large"),
    "credentials-unsupported": (400, "This store hands out signed URLs only"),
    "signed-urls-unsupported": (400, "This store does not hand out signed URLs"),
    "sas-unsupported": (400, "This organization's storage has no SAS"),
    "missing-token": (401, "A bearer token is required"),
    "invalid-token": (401, "The bearer token is missing or not valid"),
    "forbidden": (403, NOT_GRANTED),
    "vast-user-unmapped": (403, NOT_GRANTED),
    "vast-user-unknown": (403, NOT_GRANTED),
    "vast-user-privileged": (403, NOT_GRANTED),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "not-revocable": (409, CONFLICT),
    "credential-pending": (409, CONFLICT),
    "vast-key-cap": (409, CONFLICT),
    "container-missing": (409, CONFLICT),
    "commit-too-large": (409, CONFLICT),
    "length-required": (411, "Length required"),
    "body-too-large": (413, "The request body is too large"),
    "uri-too-long": (414, "The request target is too long"),
    "unsupported-media-type": (415, "The body must be JSON"),
    "headers-too-large": (431, "The request headers are too large"),
    "throttled": (429, "Too many requests"),
    "internal-error": (500, "Internal error"),
    "upstream-unavailable": (503, UPSTREAM),
    "upstream-throttled": (503, UPSTREAM),
    "upstream-refused": (503, UPSTREAM),
    "idp-unavailable": (503, UPSTREAM),
    "secret-missing": (503, UPSTREAM),
    "store-misconfigured": (503, UPSTREAM),
    "notifier-unavailable": (503, UPSTREAM),
    "service-misconfigured": (503, "The service is not configured"),
}


@dataclass
class Problem(Exception):
    """A refusal the caller can act on. ``detail`` must never contain a secret or a token."""

    status: int
    slug: str
    title: str
    detail: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)
    audit: dict[str, object] = field(default_factory=dict)  # what a refusal's audit record adds (never the body)

    def __post_init__(self):
        known = CATALOGUE.get(self.slug)
        if known is not None:
            if known[0] != self.status:
                raise ValueError(f"problem type {self.slug} is a {known[0]}, not a {self.status}")
            self.title = known[1]

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


def problem(slug: str, detail: str = "", headers: dict[str, str] | None = None) -> Problem:
    """A Problem of the catalogued type ``slug`` (its status and title come from :data:`CATALOGUE`)."""
    status, title = CATALOGUE[slug]
    return Problem(status, slug, title, detail, headers=dict(headers or {}))


def bad_request(detail: str, slug: str) -> Problem:
    return problem(slug, detail)


def invalid_token(detail: str) -> Problem:
    # RFC 6750 §3: the challenge says why; the detail never echoes the token.
    return problem("invalid-token", detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def missing_token() -> Problem:
    return problem("missing-token", "Send 'Authorization: Bearer <token>'.", headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> Problem:
    return problem("forbidden", detail)


def not_found(detail: str) -> Problem:
    return problem("not-found", detail)


def conflict(slug: str, detail: str) -> Problem:
    return problem(slug, detail)


def unavailable(detail: str, retry_after: int = 5, slug: str = "upstream-unavailable") -> Problem:
    return problem(slug, detail, headers={"Retry-After": str(int(retry_after))})


def throttled(detail: str, retry_after: int = 2) -> Problem:
    return problem("throttled", detail, headers={"Retry-After": str(int(retry_after))})


class ConfigError(Exception):
    """The configuration document is invalid; the message names the offending key."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
