"""AssumeRoleWithWebIdentity (the service's own Azure identity, or a token file) and
GetFederationToken (long-term IAM-user keys), vended and used against moto.

The Azure managed identity is reached the way azure-identity reaches it in an App Service or a
Function App: ``IDENTITY_ENDPOINT`` / ``IDENTITY_HEADER``, here served by a local endpoint that
plays the platform's token service.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.aws.clients import CLIENTS
from tests.aws.support import (
    BUCKET,
    KEY_REFS,
    REGION,
    ROLE_ARN,
    admin_client,
    caller_arn,
    make_service,
    session_client,
    store_block,
    vend,
)

AZURE_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcGk6Ly9BenVyZUFEVG9rZW5FeGNoYW5nZSJ9.c2lnbmF0dXJl"


def capture(moto, operation: str, unsigned: bool = False, keys=None):
    client = CLIENTS.client("sts", REGION, moto.url, keys, unsigned=unsigned)
    sent: list[dict] = []
    handler = lambda params, **kw: sent.append(dict(params))  # noqa: E731
    client.meta.events.register(f"provide-client-params.sts.{operation}", handler)
    return sent, lambda: client.meta.events.unregister(f"provide-client-params.sts.{operation}", handler)


@pytest.fixture
def web_identity_calls(moto):
    sent, stop = capture(moto, "AssumeRoleWithWebIdentity", unsigned=True)
    yield sent
    stop()


class AppServiceIdentityEndpoint:
    """The token service an App Service / Function App exposes to its managed identity."""

    def __init__(self):
        self.requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                owner.requests.append({"query": query, "header": self.headers.get("X-IDENTITY-HEADER")})
                body = json.dumps(
                    {
                        "access_token": AZURE_TOKEN,
                        "expires_on": "4102444800",
                        "token_type": "Bearer",
                        "resource": query.get("resource"),
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/msi/token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def app_service_identity(monkeypatch):
    endpoint = AppServiceIdentityEndpoint()
    monkeypatch.delenv("AZURE_FEDERATED_TOKEN_FILE", raising=False)
    monkeypatch.delenv("MSI_ENDPOINT", raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint.url)
    monkeypatch.setenv("IDENTITY_HEADER", "platform-header-value")
    yield endpoint
    endpoint.close()


def web_identity_store(moto, token: dict) -> dict:
    return store_block(moto, {"method": "web-identity", "role_arn": ROLE_ARN, "token": token})


def test_azure_managed_identity_token_is_exchanged_for_a_session(moto, idp, app_service_identity, web_identity_calls):
    svc = make_service(
        moto,
        idp,
        {
            "s3": web_identity_store(
                moto,
                {"azure_audience": "api://AzureADTokenExchange", "client_id": "11111111-2222-3333-4444-555555555555"},
            )
        },
    )
    body = vend(svc, idp, ("team-a",), path="team-a/", access="read")
    [request] = app_service_identity.requests
    assert request["query"]["resource"] == "api://AzureADTokenExchange"
    assert request["query"]["client_id"] == "11111111-2222-3333-4444-555555555555"
    assert request["header"] == "platform-header-value"
    assert web_identity_calls[-1]["WebIdentityToken"] == AZURE_TOKEN
    assert web_identity_calls[-1]["RoleArn"] == ROLE_ARN
    s3 = session_client(moto, body["credentials"])
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="team-a/")["Contents"]] == ["team-a/seed.txt"]


def test_web_identity_call_carries_no_aws_signature(moto, idp, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("file-token-1")
    svc = make_service(moto, idp, {"s3": web_identity_store(moto, {"file": str(token_file)})})
    client = CLIENTS.client("sts", REGION, moto.url, None, unsigned=True)
    headers: list[dict] = []
    handler = lambda request, **kw: headers.append(dict(request.headers))  # noqa: E731
    client.meta.events.register("before-send.sts.AssumeRoleWithWebIdentity", handler)
    try:
        vend(svc, idp, ("readers",), access="read")
    finally:
        client.meta.events.unregister("before-send.sts.AssumeRoleWithWebIdentity", handler)
    assert "Authorization" not in headers[-1]


def test_token_file_is_read_again_for_each_session(moto, idp, tmp_path, web_identity_calls):
    token_file = tmp_path / "token"
    svc = make_service(moto, idp, {"s3": web_identity_store(moto, {"file": str(token_file)})})
    token_file.write_text("file-token-1\n")
    vend(svc, idp, ("readers",), access="read")
    token_file.write_text("file-token-2\n")
    vend(svc, idp, ("readers",), access="read")
    assert [c["WebIdentityToken"] for c in web_identity_calls[-2:]] == ["file-token-1", "file-token-2"]


def test_web_identity_session_carries_the_generated_policy_and_the_principals_name(
    moto, idp, tmp_path, web_identity_calls
):
    from shared.aws.policy import session_policy

    token_file = tmp_path / "token"
    token_file.write_text("file-token")
    svc = make_service(moto, idp, {"s3": web_identity_store(moto, {"file": str(token_file)})})
    body = vend(svc, idp, ("users",), sub="alice", path="users/alice/", access="write")
    call = web_identity_calls[-1]
    assert call["Policy"] == session_policy(BUCKET, "users/alice/", "write", region=REGION).text
    assert call["RoleSessionName"].startswith("alice-")
    assert caller_arn(moto, body["credentials"]).endswith(f"/{call['RoleSessionName']}")


def test_missing_token_file_is_a_503_not_a_500(moto, idp, tmp_path):
    svc = make_service(moto, idp, {"s3": web_identity_store(moto, {"file": str(tmp_path / "absent")})})
    problem = vend(svc, idp, ("readers",), access="read", status=503)
    assert problem["type"].endswith("/upstream-refused")


def test_token_file_that_is_not_utf8_is_a_503_not_a_500(moto, idp, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_bytes(b"\xff\xfe not a token")
    svc = make_service(moto, idp, {"s3": web_identity_store(moto, {"file": str(token_file)})})
    problem = vend(svc, idp, ("readers",), access="read", status=503)
    assert problem["type"].endswith("/upstream-refused")


# -- GetFederationToken ----------------------------------------------------------------------------
@pytest.fixture
def federation_calls(moto):
    from shared.aws.clients import Keys

    sent, stop = capture(moto, "GetFederationToken", keys=Keys("testing", "testing"))
    yield sent
    stop()


def federation_service(moto, idp, **limits):
    from shared.secrets import SecretResolver
    from tests.aws.support import GRANTS, SECRETS
    from tests.support import build_service, issuer_block

    store = store_block(moto, {"method": "federation-token", **KEY_REFS}, ttl={"default": 900, "max": 200_000})
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {"s3": store},
        "grants": [dict(g, max_ttl_seconds=200_000) for g in GRANTS],
        "limits": {"max_ttl_seconds": 200_000, "credential_cache": {"enabled": False}},
    }
    return build_service(raw, idp, secrets=SecretResolver(SECRETS))


def test_federation_token_session_is_usable_and_always_carries_a_policy(moto, idp, federation_calls):
    from shared.aws.policy import session_policy

    svc = federation_service(moto, idp)
    body = vend(svc, idp, ("users",), path="users/alice/", access="write")
    assert federation_calls[-1]["Policy"] == session_policy(BUCKET, "users/alice/", "write", region=REGION).text
    s3 = session_client(moto, body["credentials"])
    s3.put_object(Bucket=BUCKET, Key="users/alice/federated.txt", Body=b"x")
    assert admin_client(moto).get_object(Bucket=BUCKET, Key="users/alice/federated.txt")["Body"].read() == b"x"


def test_federated_user_name_is_2_to_32_valid_characters(moto, idp, federation_calls):
    svc = federation_service(moto, idp)
    vend(svc, idp, ("readers",), sub="ünïcode user with a rather long name @ example", access="read")
    name = federation_calls[-1]["Name"]
    assert 2 <= len(name) <= 32
    assert all(c.isascii() and (c.isalnum() or c in "_+=,.@-") for c in name)


def test_federation_token_lasts_at_most_36_hours(moto, idp, federation_calls):
    svc = federation_service(moto, idp)
    vend(svc, idp, ("readers",), access="read", ttl_seconds=199_999)
    assert federation_calls[-1]["DurationSeconds"] == 129_600
