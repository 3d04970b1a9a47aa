"""That service's SAS cache: one token per container and permission while more than the safety buffer
remains; after that a new token with a full lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from tests.accessmanager.support import am_call, am_config, am_service, roles_token

USER = ("org_demo_access", "spc_main_user")


class Clock:
    def __init__(self):
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self):
        return self.now


def service_with(am_azurite, idp, clock, **sas):
    config = am_config(am_azurite, idp, "account-key", sas=sas)
    return am_service(am_azurite, idp, "account-key", config=config, clock=clock)


def read(service, idp, roles=USER, space="main") -> str:
    resp = am_call(service, "read", roles_token(idp, *roles), organization="demo", space=space)
    assert resp.status == 200, resp.json()
    return resp.body.decode()


def expiry(token: str) -> datetime:
    return datetime.strptime(parse_qs(token)["se"][0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_two_calls_while_more_than_the_buffer_remains_get_one_token(am_azurite, idp):
    clock = Clock()
    service = service_with(am_azurite, idp, clock, expiration={"read": 10}, cache={"buffer": 2})
    first = read(service, idp)
    clock.now += timedelta(minutes=7, seconds=59)
    assert read(service, idp) == first


def test_a_call_inside_the_buffer_gets_a_new_token_with_a_full_lifetime(am_azurite, idp):
    clock = Clock()
    service = service_with(am_azurite, idp, clock, expiration={"read": 10}, cache={"buffer": 2})
    first = read(service, idp)
    clock.now += timedelta(minutes=8)
    second = read(service, idp)
    assert second != first
    assert expiry(second) - clock.now == timedelta(minutes=10)


def test_the_cached_token_is_shared_by_callers_who_may_each_have_it(am_azurite, idp):
    service = service_with(am_azurite, idp, Clock())
    assert read(service, idp) == read(service, idp, roles=("org_demo_access", "spc_main_trustee"))


def test_each_permission_and_space_has_its_own_token(am_azurite, idp):
    service = service_with(am_azurite, idp, Clock())
    trustee = ("org_demo_access", "spc_main_trustee", "spc_open_user")
    tokens = {
        read(service, idp, trustee),
        read(service, idp, trustee, space="open"),
        am_call(service, "delete", roles_token(idp, *trustee), organization="demo", space="main").body.decode(),
    }
    assert len(tokens) == 3


def test_each_permission_has_its_configured_lifetime_in_minutes(am_azurite, idp):
    clock = Clock()
    service = service_with(am_azurite, idp, clock, expiration={"read": 15, "write": 30, "delete": 45})
    trustee = roles_token(idp, "org_demo_access", "spc_main_trustee")
    lifetimes = {
        route: expiry(am_call(service, route, trustee, organization="demo", space="main").body.decode()) - clock.now
        for route in ("read", "upload", "upload/main", "delete")
    }
    minutes = {route: life / timedelta(minutes=1) for route, life in lifetimes.items()}
    assert minutes == {"read": 15, "upload": 30, "upload/main": 30, "delete": 45}


def test_without_the_cache_every_call_signs_anew(am_azurite, idp):
    clock = Clock()
    service = service_with(am_azurite, idp, clock, cache={"enabled": False})
    first = read(service, idp)
    clock.now += timedelta(seconds=1)
    assert read(service, idp) != first
