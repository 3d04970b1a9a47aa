"""The local server's own handling of the wire: Content-Length, Transfer-Encoding and the dev IdP's input."""

from __future__ import annotations

import socket

import pytest

from localdev.devidp import DevIdentityProvider
from localdev.server import LocalServer
from shared.api import VendingService
from shared.config import parse_config
from tests.support import issuer_block

STORE = {
    "kind": "azure-blob",
    "account_url": "https://acct.blob.core.windows.net",
    "container": "c",
    "auth": {"method": "managed-identity"},
}


@pytest.fixture(scope="module")
def local():
    server = LocalServer(service=None, idp=None, port=0)
    server.idp = DevIdentityProvider(f"{server.url}/dev-idp")
    server.service = VendingService(
        parse_config({"issuers": [issuer_block(server.idp)], "stores": {"s": STORE}}, mode="local")
    )
    server.start_background()
    yield server
    server.stop()


def exchange(local, data: bytes) -> bytes:
    """Send ``data`` and read until the server closes (or 5 s pass: a hang fails the test)."""
    with socket.create_connection(("127.0.0.1", local.port), timeout=5) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except TimeoutError:
            pytest.fail(f"the server did not answer and close: {out[:200]!r}")
    return out


@pytest.mark.parametrize("length", [b"-1", b"abc", b"1_0", b" +5"])
def test_a_content_length_that_is_not_a_plain_number_is_400_and_the_connection_closed(local, length):
    out = exchange(
        local,
        b"POST /api/v1/credentials HTTP/1.1\r\nHost: x\r\nContent-Length: "
        + length
        + b"\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    assert out.startswith(b"HTTP/1.1 400 ") and b"application/problem+json" in out
    assert out.count(b"HTTP/1.1 ") == 1  # what followed was never served as a second request


def test_a_chunked_body_is_refused_and_never_read_as_the_next_request(local):
    out = exchange(
        local,
        b"POST /api/v1/credentials HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2d\r\nGET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n",
    )
    assert out.startswith(b"HTTP/1.1 411 ") and out.count(b"HTTP/1.1 ") == 1


@pytest.mark.parametrize(
    "body",
    [
        b'{"sub": "a", "claims": {"exp": "soon"}}',
        b'{"sub": "a", "claims": {"exp": null}}',
        b"[" * 5000,
        b'{"sub": "a", "groups": "g"}',
    ],
)
def test_the_dev_idp_answers_400_to_a_token_request_it_cannot_mint(local, body):
    out = exchange(
        local,
        b"POST /dev-idp/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body,
    )
    assert out.startswith(b"HTTP/1.1 400 ")


def test_repeated_authorization_headers_are_joined_and_refused_not_silently_one_picked(local):
    tok = local.idp.mint("alice", ["g"])["access_token"]
    out = exchange(
        local,
        b"GET /api/v1/stores HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: Bearer garbage\r\nAuthorization: Bearer " + tok.encode() + b"\r\n\r\n",
    )
    assert out.startswith(b"HTTP/1.1 401")


def test_two_differing_content_lengths_are_400_and_the_connection_closed(local):
    out = exchange(
        local,
        b"POST /api/v1/credentials HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    assert out.startswith(b"HTTP/1.1 400 ") and b"application/problem+json" in out
    assert out.count(b"HTTP/1.1 ") == 1


def test_a_list_of_identical_content_lengths_is_one_length(local):
    out = exchange(
        local,
        b"POST /api/v1/credentials HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
    )
    assert out.startswith(b"HTTP/1.1 401 ")  # framed as one 2-byte body, then refused for want of a token


def test_a_body_shorter_than_its_content_length_is_refused_without_holding_the_thread():
    server = LocalServer(service=None, idp=None, port=0, body_timeout_seconds=0.5)
    server.service = VendingService(
        parse_config(
            {"issuers": [issuer_block(DevIdentityProvider("http://x/dev-idp"))], "stores": {"s": STORE}}, mode="local"
        )
    )
    server.start_background()
    try:
        # exchange() reads until the server closes, within 5 s: long before the old 30 s hold
        out = exchange(
            server,
            b"POST /api/v1/credentials HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{}",
        )
    finally:
        server.stop()
    assert out.startswith(b"HTTP/1.1 400 ") and b"application/problem+json" in out and b"body-incomplete" in out


@pytest.mark.parametrize("method", [b"TRACE", b"PROPFIND", b"BREW"])
def test_trace_and_unknown_methods_get_the_cores_problem_json_405(local, method):
    out = exchange(local, method + b" /api/v1/credentials HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 405 ") and b"application/problem+json" in out and b"Allow: " in out
    assert b"<html" not in out.lower()


def test_an_unknown_method_on_an_unknown_path_is_the_cores_404(local):
    out = exchange(local, b"TRACE /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 404 ") and b"application/problem+json" in out


def test_a_malformed_request_line_gets_problem_json_not_html(local):
    out = exchange(local, b"GET\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ") or out.startswith(b"HTTP/1.0 400 ")
    assert b"application/problem+json" in out and b"<html" not in out.lower()


def test_a_client_that_goes_away_mid_answer_leaves_no_traceback(local, capsys):
    try:
        raise BrokenPipeError(32, "Broken pipe")
    except BrokenPipeError:
        local.httpd.handle_error(None, ("127.0.0.1", 1))
    assert capsys.readouterr().err == ""


def test_any_other_error_of_a_connection_is_still_reported(local, capsys):
    try:
        raise ValueError("a bug")
    except ValueError:
        local.httpd.handle_error(None, ("127.0.0.1", 1))
    assert "ValueError" in capsys.readouterr().err


def test_the_gate_lets_waiting_requests_in_by_order_of_arrival():
    import threading

    from localdev.server import FifoGate

    gate, order, started = FifoGate(1), [], []
    release = threading.Event()

    def holder():
        with gate:
            release.wait(5)

    def waiter(name):
        started.append(name)
        with gate:
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    threads = []
    for name in range(5):
        t = threading.Thread(target=waiter, args=(name,))
        t.start()
        threads.append(t)
        for _ in range(500):  # at most 5 s for the thread to queue itself, so arrival order is known
            if len(gate._waiting) == name + 1:
                break
            threading.Event().wait(0.01)
    release.set()
    for t in (first, *threads):
        t.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_sixty_four_clients_at_once_are_all_answered(local):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(64, timeout=10)

    def one(_):
        barrier.wait()
        return exchange(local, b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[:12]

    with ThreadPoolExecutor(64) as pool:
        answers = list(pool.map(one, range(64)))
    assert answers == [b"HTTP/1.1 200"] * 64
