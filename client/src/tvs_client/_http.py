"""The one HTTP helper of the package (standard library only).

- never follows a redirect: a 3xx comes back as a response (a bearer token or an authorization
  code must not travel to a URL the caller did not choose);
- sends a bearer token or a credential only over https, or plain http to a loopback address;
- turns a connection failure into :class:`~tvs_client.errors.Unreachable` naming the URL (without
  its query), and never puts a request header or body in an error.
"""
from __future__ import annotations

import email.utils
import http.client
import ipaddress
import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from ._version import __version__ as _version
from .errors import Unreachable, UsageError

USER_AGENT = f"tvs-client/{_version}"


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> str:
    """``url`` without a trailing '/', if it is https, or plain http to a loopback address."""
    parts = urlsplit(url)
    if parts.scheme == "http":
        if not is_loopback_host(parts.hostname):
            raise UsageError(f"{what} {url} is plain http to a host that is not this machine; use https")
    elif parts.scheme != "https" or not parts.hostname:
        raise UsageError(f"{what} must be an https URL (or http://127.0.0.1:PORT for a local service), not {url!r}")
    return url.rstrip("/")


def without_query(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, p.path, "", ""))


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    received_at: float = field(default_factory=time.time)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except (ValueError, UnicodeDecodeError):
            return None

    def clock_skew(self) -> float:
        """Seconds the server's clock is ahead of ours, from its ``Date`` header (0 when unknown or
        within the header's one-second resolution plus a little network time)."""
        date = self.header("Date")
        if not date:
            return 0.0
        try:
            server = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return 0.0
        skew = server - self.received_at
        return skew if abs(skew) >= 5 else 0.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's hook
        return None  # urllib then raises HTTPError with the 3xx, which send() returns as a response


def _opener(ca_file: str | None, loopback: bool = False) -> urllib.request.OpenerDirector:
    try:
        context = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot use the CA file {ca_file}: {getattr(exc, 'strerror', None) or exc}") from None
    handlers = [urllib.request.HTTPSHandler(context=context), _NoRedirect()]
    if loopback:  # a local service is never reached through a proxy of the environment
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def send(method: str, url: str, *, json_body: Any = None, form: Mapping[str, str] | None = None,
         headers: Mapping[str, str] | None = None, timeout: float = 10.0, ca_file: str | None = None) -> Response:
    """One request; every status comes back as a :class:`Response` (only transport failures raise)."""
    h = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    data = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        h["Content-Type"] = "application/json"
    elif form is not None:
        data = urlencode(form).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, method=method, headers=h)
    where = without_query(url)
    try:
        with _opener(ca_file, is_loopback_host(urlsplit(url).hostname)).open(request, timeout=timeout) as answer:
            return Response(answer.status, answer.headers, answer.read(), url)
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read()
        except (OSError, http.client.HTTPException):
            body = b""
        return Response(exc.code, exc.headers or {}, body, url)
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLError):
            text = f"TLS failed ({reason.reason or reason}); pass --ca-file for a private CA"
        elif isinstance(reason, (socket.timeout, TimeoutError)):
            text = f"no answer within {timeout:g} s"
        elif isinstance(reason, OSError):
            text = reason.strerror or type(reason).__name__
        else:
            text = str(reason)
        raise Unreachable(where, text) from None
    except (TimeoutError, socket.timeout):
        raise Unreachable(where, f"no answer within {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise Unreachable(where, getattr(exc, "strerror", None) or type(exc).__name__) from None
