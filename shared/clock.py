"""The time helpers every module shares: the current UTC time and its ISO-8601 renderings."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """Seconds precision, ``Z``: what the HTTP API answers (``issued_at``, ``expires_at``)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_micro(dt: datetime) -> str:
    """Microsecond precision, ``Z``: ledger records of one user sort by it."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_millis(dt: datetime) -> str:
    """Millisecond precision with an offset: the audit record's ``time``."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")
