"""STS throttling and timeouts, through a fault-injecting proxy in front of moto server: a bounded
number of attempts (botocore's standard mode: 3, with jittered backoff), then 503 with Retry-After,
no credential minted, and a log line naming the operation and the error; a throttle that clears
within the retries is invisible to the caller."""

from __future__ import annotations

import logging

import pytest

from tests.aws.support import make_service, session_client, store_block
from tests.faultproxy import FaultProxy
from tests.support import call, token

THROTTLED = b"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
  <RequestId>00000000-0000-0000-0000-000000000000</RequestId>
</ErrorResponse>"""


def assume_role(request) -> bool:
    return b"Action=AssumeRole" in request.body


@pytest.fixture
def proxy(moto):
    with FaultProxy(moto.port) as running:
        yield running


def vend_through(proxy, moto, idp, caplog):
    service = make_service(moto, idp, {"s3": store_block(moto, sts_endpoint_url=proxy.url)})
    with caplog.at_level(logging.INFO):
        resp = call(
            service,
            "POST",
            "/api/v1/credentials",
            token=token(idp, "alice", ["readers"]),
            body={"store": "s3", "access": "read"},
        )
    return resp


def issued(caplog) -> list:
    return [r for r in caplog.records if r.name == "tvs.audit" and '"event":"issue"' in r.getMessage()]


def test_sts_throttling_every_attempt_is_503_throttled_after_three_attempts(proxy, moto, idp, caplog):
    proxy.answer(400, THROTTLED, content_type="text/xml", when=assume_role)
    resp = vend_through(proxy, moto, idp, caplog)
    assert resp.status == 503 and resp.json()["type"].endswith("/upstream-throttled")
    assert int(resp.headers["Retry-After"]) >= 1
    assert len([r for r in proxy.seen if assume_role(r)]) == 3
    assert not issued(caplog)
    assert any("STS AssumeRole failed: Throttling (HTTP 400)" in r.getMessage() for r in caplog.records)


def test_a_throttle_that_clears_within_the_retries_vends_a_working_session(proxy, moto, idp, caplog):
    proxy.answer(400, THROTTLED, content_type="text/xml", when=assume_role, times=2)
    resp = vend_through(proxy, moto, idp, caplog)
    assert resp.status == 200, resp.json()
    assert len([r for r in proxy.seen if assume_role(r)]) == 3
    s3 = session_client(moto, resp.json()["credentials"])
    assert s3.get_object(Bucket="aws-demo", Key="seed.txt")["Body"].read() == b"aws-demo/seed.txt"


def test_sts_answering_slower_than_the_read_timeout_is_503_unavailable(proxy, moto, idp, caplog):
    proxy.add("delay", seconds=6, when=assume_role)  # the client's read timeout is 5 s
    resp = vend_through(proxy, moto, idp, caplog)
    assert resp.status == 503 and resp.json()["type"].endswith("/upstream-unavailable")
    assert len([r for r in proxy.seen if assume_role(r)]) == 3
    assert not issued(caplog)
    assert any("STS AssumeRole failed: ReadTimeoutError" in r.getMessage() for r in caplog.records)


def test_sts_dropping_connections_is_503_unavailable(proxy, moto, idp, caplog):
    proxy.add("drop", when=assume_role)
    resp = vend_through(proxy, moto, idp, caplog)
    assert resp.status == 503 and resp.json()["type"].endswith("/upstream-unavailable")
    assert "Retry-After" in resp.headers and not issued(caplog)


def test_a_gateways_html_503_in_front_of_sts_is_503_unavailable(proxy, moto, idp, caplog):
    proxy.answer(503, b"<html><body>Service Unavailable</body></html>", content_type="text/html", when=assume_role)
    resp = vend_through(proxy, moto, idp, caplog)
    assert resp.status == 503 and resp.json()["type"].endswith("/upstream-unavailable")
    assert "<html" not in resp.body.decode() and not issued(caplog)
