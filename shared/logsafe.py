"""Keeps tokens, secrets and signatures out of log lines.

Audit records are built from safe fields only; this filter is the second line of defence for
anything else that reaches a logger (a library's debug line, an exception message).
"""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-_\.=~+/]+"), r"\1[REDACTED]"),
    (re.compile(r"eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*"), "[REDACTED-JWT]"),
    (
        re.compile(
            r"(?i)([?&;](?:sig|x-amz-signature|x-goog-signature|x-amz-security-token|x-goog-credential|signintoken)=)[^&\s\"']+"
        ),
        r"\1[REDACTED]",
    ),
    (re.compile(r"(?i)(accountkey=)[^;\s\"']+"), r"\1[REDACTED]"),
    # name = value, name: value, "name": "value", 'name': b'value' (repr of a dict of headers)
    (
        re.compile(
            r"(?i)([\"']?(?:secret_access_key|secret_key|session_token|sas_token|access_token|token|client_secret|password|"
            r"SecretAccessKey|SessionToken|Token|ClientSecret|SecretString|Signature|sig)[\"']?\s*[:=]\s*b?[\"']?)"
            r"[^\"',\s}&]+"
        ),
        r"\1[REDACTED]",
    ),
    (re.compile(r"(?i)(<(?:SecretAccessKey|SessionToken|SecretString|Password|Token)>)[^<]+"), r"\1[REDACTED]"),
    (re.compile(r"(?i)(SharedKey(?:Lite)?\s+[^:\s]+:)[^\s\"',]+"), r"\1[REDACTED]"),
]


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not break logging
            return True
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info:
            # A traceback may quote a URL with a signature: keep the type, drop the text.
            exc_type = record.exc_info[0]
            record.msg = f"{record.msg} [{exc_type.__name__ if exc_type else 'exception'}]"
            record.exc_info = None
            record.exc_text = None
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Attach the filter to ``logger``'s handlers (root by default) and to the ``tvs`` loggers."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    tvs = logging.getLogger("tvs")
    if not any(isinstance(f, RedactingFilter) for f in tvs.filters):
        tvs.addFilter(RedactingFilter())
