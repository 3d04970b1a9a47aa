"""The HTTP API of the service, as Python calls.

Every method raises :class:`~tvs_client.errors.ApiRefusal` (the problem's ``title`` and ``detail``)
when the service refuses, :class:`~tvs_client.errors.NotSignedIn` when it does not accept the
sign-in and no refresh helps, and :class:`~tvs_client.errors.Unreachable` naming the URL when it
cannot be reached.
"""
from __future__ import annotations

import http.client
import time
from datetime import datetime
from typing import Any, Callable, Iterator
from urllib.parse import quote, urlencode

from . import _http
from .config import Profile, load_profile
from .errors import ApiRefusal, NotSignedIn, TvsError

API = "/api/v1"
LEVELS = ("list", "read", "write", "delete")


def parse_time(text: str) -> float:
    """Epoch seconds of an RFC 3339 time such as ``2025-01-01T12:00:00Z``."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (AttributeError, TypeError, ValueError):
        raise TvsError(f"the service answered a time that is not RFC 3339: {text!r}") from None


class Client:
    """A caller of the service.

    ``token`` is a callable returning the bearer token (a :class:`tvs_client.tokens.SignIn`, which
    refreshes itself), or a token string. ``Client.from_profile()`` uses the sign-in of `tvs login`.
    """

    def __init__(self, service: str, token: Callable[[], str] | str | None = None, *, timeout: float = 30.0,
                 ca_file: str | None = None, profile: str = "default", clock: Callable[[], float] = time.time):
        self.service = _http.check_url(service, "the service URL")
        self._token = token
        self.timeout = timeout
        self.ca_file = ca_file
        self.profile = profile
        self.clock = clock

    @classmethod
    def from_profile(cls, profile: str | None = None, *, service: str | None = None, timeout: float = 30.0,
                     ca_file: str | None = None) -> "Client":
        from .tokens import SignIn

        p: Profile = load_profile(profile)
        return cls(p.service_url(service), SignIn(p), timeout=timeout, ca_file=ca_file or p.ca_file, profile=p.name)

    # -- plumbing ---------------------------------------------------------------------------------
    def _bearer(self) -> str:
        if self._token is None:
            raise NotSignedIn("you are not signed in", self.profile)
        token = self._token if isinstance(self._token, str) else self._token()
        if not token or not token.isascii() or any(c.isspace() or not c.isprintable() for c in token):
            # http.client would refuse such a header with an error that quotes it, token included
            raise NotSignedIn("the saved token is not a valid bearer token", self.profile)
        return token

    def request(self, method: str, path: str, *, body: Any = None, query: dict | None = None) -> _http.Response:
        """One API call with the bearer token; a 401 is retried once after refreshing the sign-in."""
        url = self.service + path + ("?" + urlencode(query) if query else "")
        token = self._bearer()
        resp = self._send(method, url, token, body)
        if resp.status == 401:
            retry = getattr(self._token, "after_rejection", None)
            fresh = retry(token) if retry else None
            if fresh and fresh != token:
                resp = self._send(method, url, fresh, body)
        if resp.status == 401:
            problem = resp.json_or_none() or {}
            detail = problem.get("detail") if isinstance(problem, dict) else None
            raise NotSignedIn("the service did not accept your sign-in" + (f" ({detail})" if detail else ""),
                              self.profile)
        if 300 <= resp.status < 400:
            raise ApiRefusal(resp.status, "the service answered a redirect",
                             "a redirect is never followed with a bearer token; check the service URL")
        if resp.status >= 400:
            raise refusal(resp)
        return resp

    def _send(self, method: str, url: str, token: str, body: Any) -> _http.Response:
        return _http.send(method, url, json_body=body, headers={"Authorization": f"Bearer {token}"},
                          timeout=self.timeout, ca_file=self.ca_file)

    def _json(self, resp: _http.Response) -> Any:
        doc = resp.json_or_none()
        if doc is None:
            raise TvsError(f"the service answered {resp.status} without a JSON body")
        return doc

    # -- the routes -------------------------------------------------------------------------------
    def health(self) -> dict:
        return self._json(_http.send("GET", self.service + API + "/health", timeout=self.timeout, ca_file=self.ca_file))

    def stores(self) -> list[dict]:
        """``GET /api/v1/stores``: each store with the prefixes, access levels and lifetimes it grants."""
        return self._json(self.request("GET", API + "/stores")).get("stores", [])

    def credential(self, store: str, path: str = "", access: str = "read", ttl: int | None = None,
                   format: str = "native") -> dict:
        """``POST /api/v1/credentials``: the service's answer in ``format``."""
        return self.credential_with_expiry(store, path, access, ttl, format)[0]

    def credential_with_expiry(self, store: str, path: str = "", access: str = "read", ttl: int | None = None,
                               format: str = "native") -> tuple[dict, float]:
        """The answer and its expiry on this machine's clock (corrected by the server's ``Date``
        when the clocks differ by 5 s or more)."""
        body: dict[str, Any] = {"store": store, "access": access, "format": format}
        if path:
            body["path"] = path
        if ttl is not None:
            body["ttl_seconds"] = ttl
        resp = self.request("POST", API + "/credentials", body=body)
        answer = self._json(resp)
        expiry_text = answer.get("expires_at") or answer.get("Expiration") if isinstance(answer, dict) else None
        if not isinstance(expiry_text, str):
            raise TvsError("the service answered a credential without an expiry")
        return answer, parse_time(expiry_text) - resp.clock_skew()

    def signed_url(self, store: str, object: str, method: str = "GET", ttl: int | None = None,
                   content_type: str | None = None) -> dict:
        """``POST /api/v1/signed-urls``: ``{"url", "method", "headers", "expires_at", ...}``."""
        body: dict[str, Any] = {"store": store, "object": object, "method": method.upper()}
        if ttl is not None:
            body["ttl_seconds"] = ttl
        if content_type:
            body["content_type"] = content_type
        return self._json(self.request("POST", API + "/signed-urls", body=body))

    def iter_keys(self, max_pages: int = 100) -> Iterator[dict]:
        """``GET /api/v1/credentials``: the caller's revocable credentials, page after page."""
        cursor = None
        for _ in range(max_pages):
            doc = self._json(self.request("GET", API + "/credentials", query={"cursor": cursor} if cursor else None))
            yield from doc.get("credentials") or []
            cursor = doc.get("next")
            if not cursor:
                return

    def keys(self, max_pages: int = 100) -> list[dict]:
        return list(self.iter_keys(max_pages))

    def revoke(self, credential_id: str) -> None:
        """``DELETE /api/v1/credentials/{id}``: 204 (also when it was revoked already)."""
        self.request("DELETE", API + "/credentials/" + quote(credential_id, safe=""))


def refusal(resp: _http.Response) -> ApiRefusal:
    doc = resp.json_or_none()
    reason = http.client.responses.get(resp.status, "Error")
    if isinstance(doc, dict):
        return ApiRefusal(resp.status, str(doc.get("title") or reason), str(doc.get("detail") or ""),
                          str(doc.get("type") or ""), doc.get("request_id"), resp.header("Retry-After"))
    return ApiRefusal(resp.status, reason, "", "", None, resp.header("Retry-After"))
