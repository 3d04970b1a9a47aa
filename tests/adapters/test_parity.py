"""The same requests through the Azure Functions adapter, the Lambda adapter and the local server
give the same answers: status, the headers a client acts on, and the body.

All three use one service object (one configuration, one dev IdP, Azurite behind ``demo-azure``).
Each request carries its own ``X-Request-Id`` so even ``request_id`` must agree; only the
time-varying parts of a credential are compared by structure.
"""

from __future__ import annotations

import json

import pytest

from localdev.default_config import embedded_config
from localdev.devidp import DevIdentityProvider
from localdev.server import LocalServer
from shared.api import reset_service
from tests.adapters.channels import AzureChannel, LambdaChannel, LocalChannel
from tests.support import build_service, token

pytestmark = pytest.mark.emulator

HEADERS_THAT_MATTER = (
    "content-type",
    "www-authenticate",
    "allow",
    "retry-after",
    "cache-control",
    "x-request-id",
    "content-security-policy",
    "location",
    "etag",
)
DOWN_ISSUER = "http://127.0.0.1:7071/down-idp"  # its JWKS cannot be fetched: 503


@pytest.fixture(scope="module")
def stack(azurite, idp):
    raw = embedded_config({"azurite": azurite}, idp.issuer)
    raw["issuers"].append(
        {
            "name": "down",
            "issuer": DOWN_ISSUER,
            "audiences": [idp.audience],
            "algorithms": ["ES256"],
            "jwks_uri": f"{DOWN_ISSUER}/jwks",
            "dev": True,
        }
    )
    service = build_service(raw, idp)
    reset_service(service)  # the cloud adapters serve the process-wide service
    server = LocalServer(service, None, port=0).start_background()
    try:
        yield {"channels": (AzureChannel(), LambdaChannel(), LocalChannel(server)), "azurite": azurite}
    finally:
        server.stop()
        reset_service(None)


def _json(doc) -> dict:
    return {"headers": {"Content-Type": "application/json"}, "body": json.dumps(doc).encode()}


def _bearer(tok: str, **more) -> dict:
    return {"Authorization": f"Bearer {tok}", **more}


def _cases(idp: DevIdentityProvider) -> dict:
    alice = token(idp, "alice", ["demo-users"])
    nobody = token(idp, "mallory", [])
    foreign = DevIdentityProvider(idp.issuer).mint("alice", ["demo-users"])["access_token"]  # same issuer, other key
    down = idp.mint("alice", ["demo-users"], {"iss": DOWN_ISSUER})["access_token"]
    post = "/api/v1/credentials"

    def with_auth(tok, req):
        req = dict(req)
        req["headers"] = {**req.get("headers", {}), "Authorization": f"Bearer {tok}"}
        return req

    return {
        "health": (200, {"method": "GET", "path": "/api/v1/health"}),
        "openapi": (200, {"method": "GET", "path": "/api/v1/openapi.json"}),
        "stores": (200, {"method": "GET", "path": "/api/v1/stores", "headers": _bearer(alice)}),
        "credential": (
            200,
            {"method": "POST", "path": post, **with_auth(alice, _json({"store": "demo-azure", "access": "read"}))},
        ),
        "malformed-json": (
            400,
            {
                "method": "POST",
                "path": post,
                "headers": _bearer(alice, **{"Content-Type": "application/json"}),
                "body": b'{"store": "demo-azure", ',
            },
        ),
        "unknown-field": (
            400,
            {
                "method": "POST",
                "path": post,
                **with_auth(alice, _json({"store": "demo-azure", "access": "read", "colour": "blue"})),
            },
        ),
        "bad-path": (
            400,
            {
                "method": "POST",
                "path": post,
                **with_auth(alice, _json({"store": "demo-azure", "path": "users/../etc/", "access": "read"})),
            },
        ),
        "missing-token": (401, {"method": "GET", "path": "/api/v1/stores"}),
        "bad-token": (401, {"method": "GET", "path": "/api/v1/stores", "headers": _bearer(foreign)}),
        "not-granted": (
            403,
            {"method": "POST", "path": post, **with_auth(nobody, _json({"store": "demo-azure", "access": "read"}))},
        ),
        "unknown-store": (
            404,
            {"method": "POST", "path": post, **with_auth(alice, _json({"store": "nowhere", "access": "read"}))},
        ),
        "unknown-route": (404, {"method": "GET", "path": "/api/v1/nowhere", "headers": _bearer(alice)}),
        "wrong-method": (405, {"method": "PUT", "path": post, "headers": _bearer(alice)}),
        "body-too-large": (
            413,
            {
                "method": "POST",
                "path": post,
                "headers": _bearer(alice, **{"Content-Type": "application/json"}),
                "body": json.dumps({"store": "demo-azure", "access": "read", "path": "x" * 20_000}).encode(),
            },
        ),
        "not-json": (
            415,
            {
                "method": "POST",
                "path": post,
                "headers": _bearer(alice, **{"Content-Type": "application/octet-stream"}),
                "body": b"\x00\x01store=demo-azure",
            },
        ),
        "idp-unavailable": (503, {"method": "GET", "path": "/api/v1/stores", "headers": _bearer(down)}),
        "me": (200, {"method": "GET", "path": "/api/v1/me", "headers": _bearer(alice)}),
        "page-config": (200, {"method": "GET", "path": "/api/v1/page-config"}),
        "page-root": (302, {"method": "GET", "path": "/api/ui"}),
        "page-index": (200, {"method": "GET", "path": "/api/ui/index.html"}),
        "page-script": (200, {"method": "GET", "path": "/api/ui/page.js"}),
        "page-style": (200, {"method": "GET", "path": "/api/ui/page.css"}),
        "page-icon": (200, {"method": "GET", "path": "/api/ui/icon.svg"}),
        "page-unknown-file": (404, {"method": "GET", "path": "/api/ui/secrets.txt"}),
    }


CASE_IDS = (
    "health",
    "openapi",
    "stores",
    "credential",
    "malformed-json",
    "unknown-field",
    "bad-path",
    "missing-token",
    "bad-token",
    "not-granted",
    "unknown-store",
    "unknown-route",
    "wrong-method",
    "body-too-large",
    "not-json",
    "idp-unavailable",
    "me",
    "page-config",
    "page-root",
    "page-index",
    "page-script",
    "page-style",
    "page-icon",
    "page-unknown-file",
)
TIME_VARYING = ("credential_id", "issued_at", "expires_at", "credentials", "storage_options")


def _shape(value):
    """A value's structure: the keys of mappings, the type of leaves."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return type(value).__name__


def _comparable(reply) -> dict:
    if not (reply.header("content-type") or "application/json").startswith(("application/json", "application/problem")):
        return {
            "status": reply.status,
            "headers": {h: reply.header(h) for h in HEADERS_THAT_MATTER},
            "body": reply.body,
        }
    body = reply.json()
    if isinstance(body, dict) and "credentials" in body:
        body = {k: (_shape(v) if k in TIME_VARYING else v) for k, v in body.items()}
    return {"status": reply.status, "headers": {h: reply.header(h) for h in HEADERS_THAT_MATTER}, "body": body}


@pytest.mark.parametrize("case", CASE_IDS)
def test_every_adapter_gives_the_same_answer(stack, idp, case):
    status, request = _cases(idp)[case]
    request = dict(request)
    request["headers"] = {**request.get("headers", {}), "X-Request-Id": f"parity-{case}"}
    replies = {ch.name: ch.send(**request) for ch in stack["channels"]}
    seen = {name: _comparable(reply) for name, reply in replies.items()}
    assert seen["local"]["status"] == status, seen["local"]
    assert seen["azure"] == seen["local"]
    assert seen["lambda"] == seen["local"]


def test_an_invalid_token_is_challenged_the_same_everywhere(stack, idp):
    foreign = DevIdentityProvider(idp.issuer).mint("alice", ["demo-users"])["access_token"]
    challenges = {
        ch.name: ch.send("GET", "/api/v1/stores", headers=_bearer(foreign)).header("WWW-Authenticate")
        for ch in stack["channels"]
    }
    assert set(challenges.values()) == {'Bearer error="invalid_token"'}


def test_a_wrong_method_names_the_allowed_ones_everywhere(stack, idp):
    allows = {
        ch.name: ch.send("PUT", "/api/v1/credentials", headers=_bearer(token(idp))).header("Allow")
        for ch in stack["channels"]
    }
    assert set(allows.values()) == {"GET, POST"}


def test_the_credential_each_adapter_vends_reads_the_container_and_nothing_more(stack, idp):
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob import ContainerClient

    ca = str(stack["azurite"].ca)
    for channel in stack["channels"]:
        reply = channel.send(
            "POST",
            "/api/v1/credentials",
            headers={"Content-Type": "application/json", **_bearer(token(idp))},
            body=json.dumps({"store": "demo-azure", "access": "read"}).encode(),
        )
        creds = reply.json()["credentials"]
        client = ContainerClient.from_container_url(
            f"{creds['container_url']}?{creds['sas_token']}", connection_verify=ca
        )
        assert isinstance(list(client.list_blobs()), list), channel.name  # listing is granted
        with pytest.raises(HttpResponseError) as refused:
            client.upload_blob(f"parity-{channel.name}.txt", b"x")
        assert refused.value.status_code == 403, channel.name  # writing is not


def test_an_access_manager_sas_is_the_same_text_answer_through_every_adapter(stack, idp):
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobServiceClient, ContainerClient

    azurite = stack["azurite"]
    try:
        BlobServiceClient.from_connection_string(
            azurite.connection_string, connection_verify=str(azurite.ca)
        ).create_container("main")
    except ResourceExistsError:
        pass
    tok = idp.mint("alice", [], roles=["org_demo_access", "spc_main_user"])["access_token"]
    replies = [
        ch.send(
            "POST",
            "/api/v2.0/accessmanager/read",
            headers=_bearer(tok),
            query={"organization": "demo", "space": "main"},
        )
        for ch in stack["channels"]
    ]
    assert {(r.status, r.header("Content-Type")) for r in replies} == {(200, "text/plain;charset=UTF-8")}
    [sas] = {r.body.decode() for r in replies}  # the SAS cache hands the three of them one token
    client = ContainerClient.from_container_url(f"{azurite.blob_url}/main?{sas}", connection_verify=str(azurite.ca))
    assert isinstance(list(client.list_blobs()), list)
