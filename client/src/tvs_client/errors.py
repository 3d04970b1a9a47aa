"""Errors a person can act on. None of their messages ever contains a token or a secret."""
from __future__ import annotations

# Exit statuses of the tvs command (tvs exec returns the child's own status once it has started).
EXIT_ERROR = 1        # the service or the identity provider refused, or another error
EXIT_USAGE = 2        # bad arguments (argparse uses 2 as well)
EXIT_SIGN_IN = 3      # no sign-in, or it expired: run 'tvs login'
EXIT_UNREACHABLE = 4  # the service or the identity provider could not be reached


class TvsError(Exception):
    """Base class; ``str(exc)`` is the one line the command prints."""

    exit_status = EXIT_ERROR


class UsageError(TvsError):
    exit_status = EXIT_USAGE


class NotSignedIn(TvsError):
    """No usable sign-in for the profile: the message ends by telling what to run."""

    exit_status = EXIT_SIGN_IN

    def __init__(self, reason: str, profile: str = "default"):
        hint = "tvs login" if profile == "default" else f"tvs login --profile {profile}"
        super().__init__(f"{reason}; run '{hint}'")
        self.reason = reason
        self.profile = profile


class Unreachable(TvsError):
    exit_status = EXIT_UNREACHABLE

    def __init__(self, url: str, reason: str):
        super().__init__(f"cannot reach {url}: {reason}")
        self.url = url
        self.reason = reason


class ApiRefusal(TvsError):
    """The service answered with an RFC 9457 problem (or another non-success status)."""

    def __init__(self, status: int, title: str, detail: str = "", type_: str = "", request_id: str | None = None,
                 retry_after: str | None = None):
        text = f"the service refused ({status}): {title}"
        if detail and detail != title:
            text += f" — {detail}"
        if retry_after:
            text += f" (retry after {retry_after} s)"
        super().__init__(text)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.slug = type_.rsplit("/", 1)[-1] if type_ else ""
        self.request_id = request_id
        self.retry_after = retry_after


class IdentityError(TvsError):
    """The identity provider refused a sign-in step (its ``error`` and ``error_description``)."""

    def __init__(self, error: str, description: str = ""):
        super().__init__(f"the identity provider answered {error}" + (f": {description}" if description else ""))
        self.error = error
        self.description = description
