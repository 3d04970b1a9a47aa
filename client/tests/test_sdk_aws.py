"""boto3 / botocore credentials that renew themselves from the service."""
from __future__ import annotations

import threading

import pytest

from tvs_client import Client, sdk
from tvs_client.errors import TvsError


class Clock:
    def __init__(self):
        import time
        self.now = time.time()

    def __call__(self):
        return self.now


@pytest.fixture
def client(service, signed_in):
    return Client(service.url, signed_in)


def vends(service):
    return len(service.seen("POST", "/api/v1/credentials"))


def simulated_calls(service, client, life: int, hours: float, calls: int) -> int:
    """``calls`` SDK credential look-ups spread over ``hours`` of an injected clock: how many vends."""
    clock = Clock()
    service.clock = clock
    renewer = sdk.credential_renewer(client, "demo-s3", ttl=life, kind="s3", clock=clock)
    credentials = sdk.refreshable_credentials(client, "demo-s3", renewer=renewer)
    step = hours * 3600 / calls
    for _ in range(calls):
        clock.now += step
        frozen = credentials.get_frozen_credentials()
        assert frozen.access_key.startswith("ASIA")
    return vends(service)


def test_the_session_signs_with_the_services_keys(client, service):
    session = sdk.boto3_session(client, "demo-s3", path="users/alice/", access="write")
    frozen = session.get_credentials().get_frozen_credentials()
    assert frozen.access_key.startswith("ASIA") and frozen.token.startswith("SESSIONTOKEN")
    assert session.region_name == "us-east-1"


def test_the_session_asks_for_an_hour_by_default(client, service):
    sdk.boto3_session(client, "demo-s3")
    assert service.seen("POST", "/api/v1/credentials")[0].json()["ttl_seconds"] == 3600


def test_a_900_second_credential_is_not_fetched_again_on_every_call(client, service):
    fetched = simulated_calls(service, client, life=900, hours=4, calls=10_000)
    assert 4 * 3600 / 450 <= fetched <= 4 * 3600 / 405 + 2  # one per 405-450 s: the half-life rule


def test_an_hour_long_credential_is_renewed_at_half_life(client, service):
    fetched = simulated_calls(service, client, life=3600, hours=4, calls=10_000)
    assert 4 * 3600 / 1800 <= fetched <= 4 * 3600 / 1620 + 2


def test_botocore_gets_refresh_windows_from_the_credentials_own_timetable(client, service):
    credentials = sdk.refreshable_credentials(client, "demo-s3", ttl=900)
    lease = credentials.tvs_renewer.lease
    assert credentials._advisory_refresh_timeout == pytest.approx(lease.expires_at - lease.renew_at)
    assert credentials._mandatory_refresh_timeout == pytest.approx(60)


def test_threads_that_find_the_renewal_due_fetch_once(client, service):
    clock = Clock()
    service.clock = clock
    renewer = sdk.credential_renewer(client, "demo-s3", ttl=900, kind="s3", clock=clock)
    credentials = sdk.refreshable_credentials(client, "demo-s3", renewer=renewer)
    clock.now += 600  # past the renewal point, before the safety margin
    barrier = threading.Barrier(8)

    def call():
        barrier.wait(10)
        credentials.get_frozen_credentials()
    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert vends(service) == 2


def test_a_vast_key_pair_gives_credentials_without_a_session_token(client, service):
    frozen = sdk.refreshable_credentials(client, "demo-vast").get_frozen_credentials()
    assert frozen.token is None and frozen.access_key.startswith("ASIA")


def test_an_azure_store_is_refused_for_boto3(client, service):
    with pytest.raises(TvsError, match="not S3 keys"):
        sdk.boto3_session(client, "demo-azure")


def test_s3_client_reaches_the_stores_endpoint_with_the_session(client, service):
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        service.s3_endpoint = f"http://{host}:{port}"
        s3 = sdk.s3_client(client, "demo-s3", access="write")
        s3.create_bucket(Bucket="demo")
        s3.put_object(Bucket="demo", Key="users/alice/hello.txt", Body=b"hello")
        assert s3.get_object(Bucket="demo", Key="users/alice/hello.txt")["Body"].read() == b"hello"
        assert s3.meta.endpoint_url == service.s3_endpoint
    finally:
        moto.stop()
