"""The shapes AWS tools read a session in (docs/api.md, Formats), built from one :class:`StsSession`.

- ``native``: the ``credentials`` block of docs/api.md, plus what a client needs to reach the bucket;
- ``storage_options``: keyword arguments for ``s3fs.S3FileSystem`` (also usable as boto3 client
  arguments: key/secret/token + ``client_kwargs``);
- ``iceberg``: an Iceberg REST catalog ``storage-credentials`` entry, expiry inside ``config``;
- ``credential_process``: what an AWS CLI/SDK profile's ``credential_process`` command prints;
- ``container_credentials``: what ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` must answer;
- ``console``: an AWS federation sign-in URL that opens the S3 console on the granted bucket/prefix
  with the same scoped session (one call to the federation endpoint's ``getSigninToken``).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ..clock import iso
from ..errors import unavailable
from .policy import partition_of
from .sts import StsSession

FEDERATION_ENDPOINTS = {
    "aws": "https://signin.aws.amazon.com/federation",
    "aws-us-gov": "https://signin.amazonaws-us-gov.com/federation",
    "aws-cn": "https://signin.amazonaws.cn/federation",
}
CONSOLES = {
    "aws": "https://console.aws.amazon.com",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
    "aws-cn": "https://console.amazonaws.cn",
}
CONSOLE_MIN_SECONDS, CONSOLE_MAX_SECONDS = 900, 43_200
# A console session lasts at least CONSOLE_MIN_SECONDS, so an assumed-role session with less left
# (one reused from the credential cache) would end before the console session it opens: the console
# then gets a session of its own. The margin keeps a session minted for this very request (which has
# the STS round trip less than 900 s left) from being minted twice.
CONSOLE_FRESH_SESSION_MARGIN = 30


def console_needs_fresh_session(s: StsSession, now: datetime) -> bool:
    """True when a console session opened with ``s`` would outlast ``s`` by more than the margin."""
    return (
        s.kind == "assumed-role"
        and (s.expiration - now).total_seconds() < CONSOLE_MIN_SECONDS - CONSOLE_FRESH_SESSION_MARGIN
    )


def native_credentials(s: StsSession, *, region: str, endpoint_url: str | None, bucket: str, path_style: bool) -> dict:
    return {
        "access_key_id": s.access_key_id,
        "secret_access_key": s.secret_access_key,
        "session_token": s.session_token,
        "region": region,
        "endpoint_url": endpoint_url,
        "bucket": bucket,
        "path_style": path_style,
        "expiration": iso(s.expiration),
    }


def storage_options(s: StsSession, *, region: str, endpoint_url: str | None, path_style: bool) -> dict:
    options: dict[str, Any] = {
        "key": s.access_key_id,
        "secret": s.secret_access_key,
        "token": s.session_token,
        "client_kwargs": {"region_name": region, "endpoint_url": endpoint_url},
    }
    if path_style:
        options["config_kwargs"] = {"s3": {"addressing_style": "path"}}
    return options


def iceberg(
    s: StsSession, *, region: str, endpoint_url: str | None, path_style: bool, bucket: str, path: str
) -> tuple[str, dict[str, str]]:
    """``(prefix, config)`` of one Iceberg ``storage-credentials`` entry; every value is a string."""
    config = {
        "s3.access-key-id": s.access_key_id,
        "s3.secret-access-key": s.secret_access_key,
        "s3.session-token": s.session_token,
        "s3.session-token-expires-at-ms": str(int(s.expiration.timestamp()) * 1000),  # = expires_at
        "s3.path-style-access": "true" if path_style else "false",
        "client.region": region,
    }
    if endpoint_url:
        config["s3.endpoint"] = endpoint_url
    return f"s3://{bucket}/{path}", config


def duckdb_s3(
    access_key_id: str,
    secret: str,
    session_token: str | None,
    *,
    region: str,
    endpoint_url: str | None,
    path_style: bool,
) -> dict[str, Any]:
    """DuckDB's S3 secret parameters for one key pair (an STS session, or a VAST key)."""
    params: dict[str, Any] = {"TYPE": "s3", "KEY_ID": access_key_id, "SECRET": secret, "REGION": region}
    if session_token:
        params["SESSION_TOKEN"] = session_token
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        params["ENDPOINT"] = parts.netloc + parts.path.rstrip("/")
        params["USE_SSL"] = parts.scheme == "https"
    params["URL_STYLE"] = "path" if path_style else "vhost"
    return params


def credential_process(s: StsSession) -> dict:
    return {
        "Version": 1,
        "AccessKeyId": s.access_key_id,
        "SecretAccessKey": s.secret_access_key,
        "SessionToken": s.session_token,
        "Expiration": iso(s.expiration),
    }


def container_credentials(s: StsSession) -> dict:
    return {
        "AccessKeyId": s.access_key_id,
        "SecretAccessKey": s.secret_access_key,
        "Token": s.session_token,
        "Expiration": iso(s.expiration),
    }


def fetch_signin_token(url: str, form: dict[str, str], timeout: float = 5.0) -> str:
    """POST ``getSigninToken`` to the federation endpoint (POST keeps the session out of any URL)."""
    request = urllib.request.Request(  # noqa: S310 - the federation endpoint of a known partition
        url, data=urlencode(form).encode(), method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - fixed https endpoint
            token = json.loads(response.read())["SigninToken"]
        if not isinstance(token, str) or not token:
            raise ValueError("no sign-in token")
        return token
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError, LookupError, TypeError) as exc:
        raise unavailable(
            f"the AWS federation endpoint did not hand out a sign-in token ({type(exc).__name__})", retry_after=10
        ) from None


def console_url(
    s: StsSession,
    *,
    region: str,
    bucket: str,
    path: str,
    now: datetime,
    issuer: str | None = None,
    fetch: Callable[[str, dict[str, str]], str] | None = None,
) -> str:
    """A sign-in URL for the S3 console, opened on ``bucket``/``path``, as the scoped session ``s``.

    The sign-in token in it is valid for 15 minutes and is as sensitive as the session itself.
    """
    partition = partition_of(region)
    federation = FEDERATION_ENDPOINTS[partition]
    form = {
        "Action": "getSigninToken",
        "Session": json.dumps(
            {"sessionId": s.access_key_id, "sessionKey": s.secret_access_key, "sessionToken": s.session_token}
        ),
    }
    if s.kind == "assumed-role":  # GetFederationToken sessions take their length from the credentials
        remaining = int((s.expiration - now).total_seconds())
        form["SessionDuration"] = str(max(CONSOLE_MIN_SECONDS, min(CONSOLE_MAX_SECONDS, remaining)))
    token = (fetch or fetch_signin_token)(federation, form)
    view = "object" if path and not path.endswith("/") else "buckets"
    destination = f"{CONSOLES[partition]}/s3/{view}/{quote(bucket)}?" + urlencode({"region": region, "prefix": path})
    login = {"Action": "login", "Destination": destination, "SigninToken": token}
    if issuer:
        login["Issuer"] = issuer
    return f"{federation}?{urlencode(login)}"
