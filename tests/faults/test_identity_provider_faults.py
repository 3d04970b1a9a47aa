"""The identity provider's keys endpoint failing, behind a fault-injecting proxy: down, slow, HTML,
an empty key set, a redirect, an error status. A caller gets 503 idp-unavailable with Retry-After
(never a 500, never a credential), and the operator a log line naming the issuer and the cause."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from localdev.devidp import DevIdentityProvider
from shared.api import VendingService
from shared.config import parse_config
from tests.faultproxy import FaultProxy
from tests.support import call, token

STORE = {
    "kind": "azure-blob",
    "account_url": "https://acct.blob.core.windows.net",
    "container": "c",
    "auth": {"method": "managed-identity"},
}


@pytest.fixture(scope="module")
def keys_origin():
    """The identity provider's own keys endpoint (``/jwks``), over real HTTP."""
    idp = DevIdentityProvider("https://idp.example/dev")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(idp.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.idp = idp
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(keys_origin):
    with FaultProxy(keys_origin.server_address[1]) as running:
        yield running


def service_behind(proxy, idp):
    config = parse_config(
        {
            "issuers": [
                {
                    "name": "corp",
                    "issuer": idp.issuer,
                    "audiences": [idp.audience],
                    "algorithms": ["ES256"],
                    "jwks_uri": f"{proxy.url}/jwks",
                    "http_timeout_seconds": 1,
                }
            ],
            "stores": {"s": STORE},
            "grants": [{"match": {"groups": ["g"]}, "stores": ["s"], "access": "read"}],
        },
        mode="local",
    )
    return VendingService(config)


def ask(proxy, keys_origin, caplog):
    service = service_behind(proxy, keys_origin.idp)
    with caplog.at_level(logging.INFO):
        resp = call(service, "GET", "/api/v1/stores", token=token(keys_origin.idp, "alice", ["g"]))
    return resp


def assert_idp_unavailable(resp, caplog, cause: str):
    assert resp.status == 503, resp.body
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert resp.json()["type"].endswith("/idp-unavailable")
    assert int(resp.headers["Retry-After"]) >= 1
    lines = [r.getMessage() for r in caplog.records if r.name == "tvs.identity"]
    assert any("issuer corp: its signing keys could not be fetched" in line and cause in line for line in lines), lines
    assert not [r for r in caplog.records if r.name == "tvs.audit" and '"event":"issue"' in r.getMessage()]


def test_a_keys_endpoint_that_drops_the_connection_answers_503(proxy, keys_origin, caplog):
    proxy.add("drop")
    assert_idp_unavailable(ask(proxy, keys_origin, caplog), caplog, "RemoteDisconnected")


def test_a_keys_endpoint_slower_than_the_timeout_answers_503(proxy, keys_origin, caplog):
    proxy.add("hang", seconds=5)
    assert_idp_unavailable(ask(proxy, keys_origin, caplog), caplog, "timed out")


def test_a_keys_endpoint_answering_html_answers_503(proxy, keys_origin, caplog):
    proxy.answer(200, b"<html><body>Sign in</body></html>", content_type="text/html")
    assert_idp_unavailable(ask(proxy, keys_origin, caplog), caplog, "JSONDecodeError")


def test_an_empty_key_set_answers_503(proxy, keys_origin, caplog):
    proxy.answer(200, b'{"keys": []}')
    assert_idp_unavailable(ask(proxy, keys_origin, caplog), caplog, "no usable signing key")


def test_a_redirect_of_the_keys_endpoint_is_not_followed(proxy, keys_origin, caplog):
    # The redirect names the real keys: following it would succeed, and is exactly what must not happen.
    origin = f"http://127.0.0.1:{keys_origin.server_address[1]}/jwks"
    proxy.answer(302, b"", headers={"Location": origin})
    assert_idp_unavailable(ask(proxy, keys_origin, caplog), caplog, "HTTP 302 (a redirect, not followed)")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_an_error_status_of_the_keys_endpoint_answers_503(proxy, keys_origin, caplog, status):
    proxy.answer(status, b'{"error": "busy"}')
    assert_idp_unavailable(ask(proxy, keys_origin, caplog), caplog, f"HTTP {status}")


def test_keys_fetched_before_keep_serving_while_the_endpoint_is_down(proxy, keys_origin, caplog):
    import time

    from shared.identity.tokens import TokenValidator

    now = [time.monotonic()]
    config = service_behind(proxy, keys_origin.idp).config
    service = VendingService(config, validator=TokenValidator(config, clock=lambda: now[0]))
    assert call(service, "GET", "/api/v1/stores", token=token(keys_origin.idp, "alice", ["g"])).status == 200
    proxy.add("drop")
    now[0] += 7200  # past the hourly refresh: the next request asks the endpoint again
    with caplog.at_level(logging.WARNING):
        resp = call(service, "GET", "/api/v1/stores", token=token(keys_origin.idp, "bob", ["g"]))
    assert resp.status == 200
    assert any("the keys fetched before serve meanwhile" in r.getMessage() for r in caplog.records)


def test_a_healthy_keys_endpoint_behind_the_proxy_verifies_tokens(proxy, keys_origin, caplog):
    assert ask(proxy, keys_origin, caplog).status == 200
    assert [r.path for r in proxy.seen] == ["/jwks"]
