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
    assert factory.client("sts", "eu-west-3", keys=keys) is factory.client(
        "sts", "eu-west-3", keys=Keys("AKIAEXAMPLE", "secret")
    )
    assert factory.client("sts", "eu-west-3", keys=keys) is not factory.client("sts", "eu-west-1", keys=keys)
    assert factory.client("sts", "eu-west-3", keys=keys) is not factory.client(
        "sts", "eu-west-3", keys=Keys("AKIAEXAMPLE", "rotated")
    )


def test_keys_never_show_their_secret():
    assert "secret-value" not in repr(Keys("AKIAEXAMPLE", "secret-value", "token"))


def _slow_default_credentials(monkeypatch, factory):
    """The runtime's default chain answers (a role session) only when released, like a slow IMDS."""
    import threading

    from botocore.credentials import Credentials

    fetching, release, fetched = threading.Event(), threading.Event(), []

    def get_credentials():
        fetched.append(1)
        fetching.set()
        release.wait(10)
        return Credentials("ASIAEXAMPLE", "secret", "session-token")

    monkeypatch.setattr(factory._botocore_session(), "get_credentials", get_credentials)
    return fetching, release, fetched


def test_default_credential_lookup_does_not_hold_the_client_lock(monkeypatch):
    import threading

    factory = ClientFactory()
    fetching, release, _ = _slow_default_credentials(monkeypatch, factory)
    answers = []
    asker = threading.Thread(target=lambda: answers.append(factory.default_credentials_are_temporary()))
    asker.start()
    try:
        assert fetching.wait(5)
        built = []
        builder = threading.Thread(
            target=lambda: built.append(factory.client("sts", "eu-west-3", keys=Keys("AKIAEXAMPLE", "secret")))
        )
        builder.start()
        builder.join(5)
        assert built, "building a client waited for the default credentials to be fetched"
    finally:
        release.set()
        asker.join(10)
    assert answers == [True]


def test_default_credentials_are_looked_up_once(monkeypatch):
    factory = ClientFactory()
    _, release, fetched = _slow_default_credentials(monkeypatch, factory)
    release.set()
    assert factory.default_credentials_are_temporary() and factory.default_credentials_are_temporary()
    assert len(fetched) == 1
