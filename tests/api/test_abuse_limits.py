"""Abuse limits the core enforces on every adapter: the request's size (headers 431, body 413), a
per-caller rate limit (429 with Retry-After, off by default), and a cap on distinct unknown key ids per
issuer and minute (beyond it: refused without asking the identity provider, one warning per minute)."""

from __future__ import annotations

import json
import logging

import pytest

from shared.api import reset_service
from shared.config import parse_config
from shared.identity.jwks import JwksCache
from shared.ratelimit import TokenBuckets
from tests.adapters.channels import AzureChannel, LambdaChannel, LocalChannel
from tests.identity.fake_idp import RsaIdp
from tests.support import build_service, call, issuer_block, token

STORE = {
    "kind": "azure-blob",
    "account_url": "https://acct.blob.core.windows.net",
    "container": "c",
    "auth": {"method": "managed-identity"},
}


def service_with(idp, **limits):
    return build_service({"issuers": [issuer_block(idp)], "stores": {"s": STORE}, "limits": limits}, idp)


@pytest.fixture
def channels(idp):
    from localdev.server import LocalServer

    service = service_with(idp)
    reset_service(service)
    server = LocalServer(service, None, port=0).start_background()
    try:
        yield (AzureChannel(), LambdaChannel(), LocalChannel(server))
    finally:
        server.stop()
        reset_service(None)


def _problem(reply, status, slug):
    assert reply.status == status, (reply.status, reply.body[:200])
    assert reply.header("Content-Type") == "application/problem+json"
    assert json.loads(reply.body)["type"].endswith("/" + slug)


def test_headers_over_the_limit_are_431_problem_json_on_every_adapter(channels):
    for channel in channels:
        reply = channel.send("GET", "/api/v1/health", headers={"X-Padding": "p" * 40_000})
        _problem(reply, 431, "headers-too-large")


def test_a_body_over_the_limit_is_413_on_every_adapter_even_where_the_route_reads_none(channels, idp):
    for channel in channels:
        reply = channel.send(
            "DELETE",
            "/api/v1/credentials/vast.s.x",
            headers={"Authorization": f"Bearer {token(idp)}", "Content-Type": "application/json"},
            body=b"{" + b" " * 20_000 + b"}",
        )
        _problem(reply, 413, "body-too-large")


def test_a_long_bearer_token_fits_under_the_default_header_limit(idp):
    service = service_with(idp)
    resp = call(service, "GET", "/api/v1/stores", headers={"Authorization": "Bearer " + "a" * 16_384})
    assert resp.status == 401


def test_the_header_limit_cannot_be_set_below_what_a_bearer_token_needs():
    from shared.errors import ConfigError

    with pytest.raises(ConfigError, match="limits.max_header_bytes"):
        parse_config({"issuers": [], "stores": {}, "limits": {"max_header_bytes": 8192}}, mode="local")


def test_without_a_rate_limit_a_caller_is_never_throttled(idp):
    service = service_with(idp)
    alice = token(idp)
    assert {call(service, "GET", "/api/v1/stores", token=alice).status for _ in range(50)} == {200}


def test_a_caller_over_the_rate_limit_gets_429_throttled_with_retry_after(idp):
    service = service_with(idp, rate_limit={"enabled": True, "requests_per_second": 1, "burst": 3})
    alice = token(idp)
    statuses = [call(service, "GET", "/api/v1/stores", token=alice).status for _ in range(3)]
    refused = call(service, "GET", "/api/v1/stores", token=alice)
    assert statuses == [200, 200, 200]
    assert refused.status == 429 and refused.json()["type"].endswith("/throttled")
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1


def test_the_rate_limit_is_per_caller(idp):
    service = service_with(idp, rate_limit={"enabled": True, "requests_per_second": 1, "burst": 1})
    assert call(service, "GET", "/api/v1/stores", token=token(idp, "alice")).status == 200
    assert call(service, "GET", "/api/v1/stores", token=token(idp, "alice")).status == 429
    assert call(service, "GET", "/api/v1/stores", token=token(idp, "bob")).status == 200


def test_the_open_routes_are_not_rate_limited(idp):
    service = service_with(idp, rate_limit={"enabled": True, "requests_per_second": 1, "burst": 1})
    assert {call(service, "GET", "/api/v1/health").status for _ in range(5)} == {200}


def test_a_throttled_request_is_audited_as_denied_naming_the_caller(idp, caplog):
    service = service_with(idp, rate_limit={"enabled": True, "requests_per_second": 1, "burst": 1})
    alice = token(idp)
    call(service, "GET", "/api/v1/stores", token=alice)
    with caplog.at_level(logging.INFO, logger="tvs.audit"):
        call(service, "GET", "/api/v1/stores", token=alice)
    [record] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tvs.audit"]
    assert (record["event"], record["outcome"], record["status"], record["reason"]) == (
        "request",
        "denied",
        429,
        "throttled",
    )
    assert record["principal"]["subject"] == "alice"


def test_a_bucket_refills_at_its_rate():
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=1, max_keys=10, clock=lambda: now[0])
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert buckets.take("a") == 0.0


def test_the_buckets_hold_at_most_max_keys_callers():
    buckets = TokenBuckets(rate=1.0, burst=1, max_keys=100)
    for i in range(10_000):
        buckets.take(f"caller-{i}")
    assert len(buckets) == 100


def test_the_rate_limit_section_refuses_unknown_fields_naming_the_key():
    from shared.errors import ConfigError

    with pytest.raises(ConfigError, match=r"limits\.rate_limit"):
        parse_config({"issuers": [], "stores": {}, "limits": {"rate_limit": {"per_second": 5}}}, mode="local")


# -- unknown key ids ---------------------------------------------------------------------------------
def kid_cache(idp, fetches, now, cap=3):
    config = parse_config(
        {
            "issuers": [
                {
                    "issuer": idp.issuer,
                    "audiences": ["tvs"],
                    "jwks_uri": idp.issuer + "/keys",
                    "refetch_cooldown_seconds": 1,
                    "max_unknown_kids_per_minute": cap,
                }
            ],
            "stores": {"s": STORE},
        }
    )

    def fetch(url, timeout):
        fetches.append(url)
        return idp.fetch(url, timeout)

    return JwksCache(config.issuers[0], fetch=fetch, clock=lambda: now[0])


def unknown(cache, kid) -> int:
    from shared.errors import Problem

    with pytest.raises(Problem) as refused:
        cache.key(kid)
    return refused.value.status


def test_unknown_kids_beyond_the_cap_are_refused_without_a_refetch(caplog):
    idp, fetches, now = RsaIdp("https://idp.example"), [], [0.0]
    cache = kid_cache(idp, fetches, now, cap=3)
    cache.key(idp.kid)
    for i in range(3):
        now[0] += 2  # past the cool-down each time
        assert unknown(cache, f"forged-{i}") == 401
    assert len(fetches) == 4  # the first fetch, then one refetch for each of the three
    with caplog.at_level(logging.WARNING, logger="tvs.identity"):
        for i in range(3, 8):
            now[0] += 2
            assert unknown(cache, f"forged-{i}") == 401
    assert len(fetches) == 4  # no refetch beyond the cap
    warnings = [r for r in caplog.records if "unknown key ids" in r.getMessage()]
    assert len(warnings) == 1


def test_the_unknown_kid_cap_opens_again_the_next_minute():
    idp, fetches, now = RsaIdp("https://idp.example"), [], [0.0]
    cache = kid_cache(idp, fetches, now, cap=1)
    cache.key(idp.kid)
    now[0] += 2
    unknown(cache, "forged-a")
    now[0] += 2
    unknown(cache, "forged-b")
    assert len(fetches) == 2
    now[0] += 61
    unknown(cache, "forged-c")
    assert len(fetches) == 3


def test_a_known_kid_is_served_while_the_unknown_kid_cap_is_reached():
    idp, fetches, now = RsaIdp("https://idp.example"), [], [0.0]
    cache = kid_cache(idp, fetches, now, cap=1)
    cache.key(idp.kid)
    for i in range(5):
        unknown(cache, f"forged-{i}")
    assert cache.key(idp.kid) is not None
