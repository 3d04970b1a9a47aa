"""STS and S3 clients: regional STS endpoints, short timeouts, standard retries, built once."""
from __future__ import annotations

from shared.aws.clients import CONNECT_TIMEOUT, READ_TIMEOUT, ClientFactory, Keys


def test_sts_uses_the_regional_endpoint_even_when_the_environment_asks_for_the_global_one(monkeypatch):
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    client = ClientFactory().client("sts", "eu-west-3", keys=Keys("AKIAEXAMPLE", "secret"))
    assert client.meta.endpoint_url == "https://sts.eu-west-3.amazonaws.com"


def test_clients_have_short_timeouts_and_standard_retries():
    config = ClientFactory().client("sts", "eu-west-3", keys=Keys("AKIAEXAMPLE", "secret")).meta.config
    assert (config.connect_timeout, config.read_timeout) == (CONNECT_TIMEOUT, READ_TIMEOUT) == (2, 5)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_a_client_is_built_once_per_region_endpoint_and_credentials():
    factory = ClientFactory()
    keys = Keys("AKIAEXAMPLE", "secret")
    assert factory.client("sts", "eu-west-3", keys=keys) is factory.client("sts", "eu-west-3", keys=Keys("AKIAEXAMPLE", "secret"))
    assert factory.client("sts", "eu-west-3", keys=keys) is not factory.client("sts", "eu-west-1", keys=keys)
    assert factory.client("sts", "eu-west-3", keys=keys) is not factory.client("sts", "eu-west-3",
                                                                               keys=Keys("AKIAEXAMPLE", "rotated"))


def test_keys_never_show_their_secret():
    assert "secret-value" not in repr(Keys("AKIAEXAMPLE", "secret-value", "token"))
