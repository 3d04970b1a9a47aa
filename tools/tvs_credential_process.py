#!/usr/bin/env python3
"""An AWS ``credential_process`` command backed by the token vending service (standard library only).

In ``~/.aws/config``::

    [profile sales-raw]
    credential_process = python3 /path/to/tvs_credential_process.py --url https://tvs.example.org --store sales-raw --path exports/ --access read --token-file ~/.tvs/token
    region = eu-west-3

The AWS CLI and SDKs run it when they need credentials and again shortly before they expire. It
asks ``POST /api/v1/credentials`` with ``format: credential_process`` and prints the answer. The
bearer token comes from ``--token-file`` or ``$TVS_TOKEN``; it is sent only over https (or plain
http to a loopback address) and never printed. On any error it prints one line on stderr and exits
with a non-zero status, which the AWS tools report as a credential error.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

LEVELS = ("list", "read", "write", "delete")


class Refusal(Exception):
    """An error to report on stderr (never containing the token)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """The service never redirects; following one would send the bearer token to another URL."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise Refusal(f"the token vending service answered a redirect ({code}); refusing to follow it with the token")


def _token(args) -> str:
    if args.token_file:
        try:
            with open(os.path.expanduser(args.token_file), encoding="utf-8") as fh:
                token = fh.read().strip()
        except OSError as exc:
            raise Refusal(f"cannot read the token file: {exc.strerror}") from None
    else:
        token = os.environ.get("TVS_TOKEN", "").strip()
    if not token:
        raise Refusal("no bearer token: pass --token-file or set TVS_TOKEN")
    if not token.isascii() or any(c.isspace() or not c.isprintable() for c in token):
        # http.client would refuse the header with an error that quotes it, token included.
        raise Refusal(
            "the bearer token contains whitespace, control or non-ASCII characters; "
            "the token file must hold the token alone"
        )
    return token


def _endpoint(base: str) -> str:
    parts = urlsplit(base)
    if parts.scheme == "http":
        try:
            loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
        except ValueError:
            loopback = parts.hostname == "localhost"
        if not loopback:
            raise Refusal("refusing to send a bearer token over plain http to a non-loopback host; use https")
    elif parts.scheme != "https":
        raise Refusal("--url must be an https URL")
    return base.rstrip("/") + "/api/v1/credentials"


def fetch(args) -> dict:
    body = {"store": args.store, "path": args.path, "access": args.access, "format": "credential_process"}
    if args.ttl:
        body["ttl_seconds"] = args.ttl
    request = urllib.request.Request(  # noqa: S310 - the service URL the user gave
        _endpoint(args.url),
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {_token(args)}",
        },
    )
    try:
        context = ssl.create_default_context(cafile=args.ca_file) if args.ca_file else None
    except (OSError, ValueError) as exc:
        raise Refusal(f"cannot use the CA file: {getattr(exc, 'strerror', None) or type(exc).__name__}") from None
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirect())
    try:
        with opener.open(request, timeout=args.timeout) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            problem = json.loads(exc.read())
            detail = f"{problem.get('title', '')}: {problem.get('detail', '')}"
        except (OSError, ValueError, AttributeError):  # unreadable, not JSON, or not a problem object
            detail = exc.reason
        raise Refusal(f"the token vending service answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Refusal(f"cannot reach the token vending service: {getattr(exc, 'reason', exc)}") from None
    if not isinstance(answer, dict) or answer.get("Version") != 1 or "SessionToken" not in answer:
        raise Refusal("the token vending service did not answer in the credential_process format")
    return answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="base URL of the service, e.g. https://tvs.example.org")
    parser.add_argument("--store", required=True)
    parser.add_argument("--path", default="", help="a prefix ending in '/', or one object (default: whole bucket)")
    parser.add_argument("--access", choices=LEVELS, default="read")
    parser.add_argument("--ttl", type=int, default=None, help="requested lifetime in seconds (clamped by the service)")
    parser.add_argument("--token-file", default=None, help="file holding the bearer token (else $TVS_TOKEN)")
    parser.add_argument("--ca-file", default=None, help="CA bundle for a private https endpoint")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    try:
        answer = fetch(args)
    except Refusal as exc:
        print(f"tvs-credential-process: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
