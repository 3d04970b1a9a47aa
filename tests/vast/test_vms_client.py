"""The VMS client against the simulator over https: auth, TLS, key operations, retries and faults."""

from __future__ import annotations

import logging
import time

import pytest

from shared.vast.mapping import VastUser
from shared.vast.vms_client import (
    VmsAuthError,
    VmsClient,
    VmsError,
    VmsKeyCap,
    VmsNotFound,
    VmsOutcomeUnknown,
    VmsUnavailable,
)
from tests.vast.conftest import SIM_PASSWORD, SIM_TOKEN

ALICE = VastUser(user_id=1001)
CAROL_UID = VastUser(uid=50001)
ERIN_SID = VastUser(sid="S-1-5-21-1004336348-1177238915-682003330-1103")


def client(sim, certs, **kw) -> VmsClient:
    kw.setdefault("auth", ("basic", "admin", SIM_PASSWORD))
    kw.setdefault("ca_bundle", str(certs[0]))
    kw.setdefault("timeout", 1.0)
    kw.setdefault("backoff", 0.01)
    return VmsClient(sim.url, **kw)


def special_key(sim, user_id=1001) -> str:
    """A key of the user holding '/', '+' and '=' (the simulator makes one every third key)."""
    for _ in range(6):
        key = sim.add_key(user_id)["access_key"]
        if "/" in key and "+" in key and "=" in key:
            return key
        sim.store.delete_key(sim.store.local_user(user_id), key)
    raise AssertionError("no key with '/', '+' and '='")


def test_creating_a_key_for_a_local_user_makes_it_live_in_vms(sim, certs):
    pair = client(sim, certs).create_key(ALICE)
    assert [(k["access_key"], k["secret_key"]) for k in sim.keys_of_local_user(1001)] == [
        (pair.access_key, pair.secret_key)
    ]


@pytest.mark.parametrize("user", [CAROL_UID, ERIN_SID], ids=["uid", "sid"])
def test_directory_users_are_named_by_uid_or_sid(sim, certs, user):
    pair = client(sim, certs).create_key(user)
    assert [k["access_key"] for k in sim.keys_of_non_local(uid=user.uid, sid=user.sid)] == [pair.access_key]
    assert [k.access_key for k in client(sim, certs).list_keys(user)] == [pair.access_key]


def test_an_api_token_authenticates_too(sim, certs):
    pair = client(sim, certs, auth=("api-token", SIM_TOKEN)).create_key(ALICE)
    assert pair.access_key in [k["access_key"] for k in sim.keys_of_local_user(1001)]


def test_wrong_credentials_are_an_auth_error(sim, certs):
    with pytest.raises(VmsAuthError):
        client(sim, certs, auth=("basic", "admin", "wrong")).list_keys(ALICE)


def test_the_certificate_is_verified_by_default(sim, certs):
    with pytest.raises(VmsUnavailable, match="SSL"):
        client(sim, certs, ca_bundle=None, retries=0).list_keys(ALICE)
    assert sim.calls["list"] == 0


def test_turning_verification_off_works_and_is_logged_once(sim, certs, caplog):
    caplog.set_level(logging.WARNING, logger="tvs.vast.vms")
    from shared.vast import vms_client

    vms_client._warned_insecure.discard(sim.url)
    for _ in range(2):
        assert client(sim, certs, ca_bundle=None, verify_tls=False).list_keys(ALICE) == []
    warnings = [r for r in caplog.records if "verification is OFF" in r.getMessage()]
    assert len(warnings) == 1


def test_a_key_with_slash_plus_and_equals_is_deleted_exactly(sim, certs):
    key = special_key(sim)
    other = sim.add_key(1001)["access_key"]
    assert client(sim, certs).delete_key(ALICE, key) is True
    assert [k["access_key"] for k in sim.keys_of_local_user(1001)] == [other]


def test_deleting_a_key_vms_no_longer_has_counts_as_done(sim, certs):
    assert client(sim, certs).delete_key(ALICE, "Tm9TdWNoS2V5QXRBbGwhIQ==") is False


def test_listing_follows_pages(sim, certs):
    keys = {sim.add_key(1001)["access_key"] for _ in range(2)}
    listed = client(sim, certs, page_size=1).list_keys(ALICE)
    assert {k.access_key for k in listed} == keys and all(k.creation_time for k in listed)
    assert sim.calls["list"] == 2


def test_the_third_key_is_a_cap_refusal(sim, certs):
    c = client(sim, certs)
    c.create_key(ALICE)
    c.create_key(ALICE)
    with pytest.raises(VmsKeyCap):
        c.create_key(ALICE)


def test_an_unknown_user_is_not_found(sim, certs):
    with pytest.raises(VmsNotFound):
        client(sim, certs).create_key(VastUser(user_id=4242))


def test_listing_and_deleting_are_retried_after_a_server_error(sim, certs):
    key = sim.add_key(1001)["access_key"]
    sim.fail_next(1, ops=("list",))
    sim.fail_next(1, ops=("delete",))
    c = client(sim, certs)
    assert [k.access_key for k in c.list_keys(ALICE)] == [key]
    assert c.delete_key(ALICE, key) is True
    assert sim.calls["list"] == 2 and sim.delete_calls == 2


def test_a_create_is_never_retried(sim, certs):
    sim.fail_next(1, ops=("create",))
    with pytest.raises(VmsOutcomeUnknown):
        client(sim, certs).create_key(ALICE)
    assert sim.create_calls == 1 and sim.keys_of_local_user(1001) == []


def test_a_create_whose_answer_is_lost_is_an_unknown_outcome_within_the_timeout(sim, certs):
    sim.timeout_after_create(1)
    started = time.monotonic()
    with pytest.raises(VmsOutcomeUnknown):
        client(sim, certs, timeout=0.5).create_key(ALICE)
    assert time.monotonic() - started < 2
    assert len(sim.keys_of_local_user(1001)) == 1 and sim.create_calls == 1


def test_a_vms_that_is_down_is_unavailable_after_the_retries(sim, certs):
    sim.fail_next(3, status=503, ops=("list",))
    with pytest.raises(VmsUnavailable):
        client(sim, certs, retries=2).list_keys(ALICE)
    assert sim.calls["list"] == 3


def test_a_slow_answer_past_the_timeout_is_unavailable(sim, certs):
    sim.latency(1.0)
    with pytest.raises(VmsUnavailable):
        client(sim, certs, timeout=0.3, retries=0).list_keys(ALICE)


def test_nothing_secret_is_logged(sim, certs, caplog):
    caplog.set_level(logging.DEBUG, logger="tvs.vast.vms")
    pair = client(sim, certs).create_key(ALICE)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert pair.secret_key not in text and SIM_PASSWORD not in text and pair.access_key not in text
    assert pair.secret_key not in repr(pair)


def _paged(c: VmsClient, pages: list) -> list[str]:
    """Make ``c`` answer its listing calls with ``pages`` in turn; the paths it asked for."""
    asked = []

    def fake_call(method, path, body=None, *, idempotent):
        asked.append(path)
        return 200, pages[len(asked) - 1]

    c._call = fake_call
    return asked


def test_a_next_link_on_another_host_is_refused():
    c = VmsClient("https://vms.example", auth=("api-token", "t"))
    asked = _paged(c, [{"results": [], "next": "https://evil.example/api/locals3keys/?user_id=1001&page=2"}])
    with pytest.raises(VmsError, match="another host"):
        c.list_keys(ALICE)
    assert len(asked) == 1


def test_a_next_link_is_followed_by_its_path_under_the_url_prefix():
    c = VmsClient("https://vms.example/vms", auth=("api-token", "t"))
    asked = _paged(
        c,
        [
            {"results": [{"access_key": "K1"}], "next": "https://VMS.example:443/vms/api/locals3keys/?page=2"},
            {"results": [{"access_key": "K2"}], "next": "https://vms.example/api/locals3keys/?page=3"},
            {"results": [{"access_key": "K3"}], "next": "https://vms.example/vmsx/api/locals3keys/?page=4"},
            {"results": [], "next": None},
        ],
    )
    assert [k.access_key for k in c.list_keys(ALICE)] == ["K1", "K2", "K3"]
    assert asked[1:] == ["/api/locals3keys/?page=2", "/api/locals3keys/?page=3", "/vmsx/api/locals3keys/?page=4"]


@pytest.fixture
def trickling_vms():
    """A VMS (plain http) that sends its answer's headers at once, then its body one byte every 0.2 s."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                body = b'[{"access_key": "K1"}]' + b" " * 40
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                )
                for byte in body:
                    if stop.wait(0.2):
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    server.close()


def test_a_vms_that_trickles_its_answer_is_cut_at_the_timeout(trickling_vms):
    c = VmsClient(trickling_vms, auth=("api-token", "t"), timeout=1.0, retries=0)
    started = time.monotonic()
    with pytest.raises(VmsUnavailable):
        c.list_keys(ALICE)
    assert time.monotonic() - started < 1.5


def test_retries_that_cannot_finish_within_the_deadline_are_skipped(sim, certs):
    sim.fail_next(10, status=503, ops=("list",))
    c = client(sim, certs, retries=5, backoff=0.4)
    started = time.monotonic()
    with pytest.raises(VmsUnavailable), c.deadline(0.5):
        c.list_keys(ALICE)
    assert time.monotonic() - started < 0.6
    assert sim.calls["list"] <= 2


def test_a_slow_answer_is_cut_at_the_deadline_before_its_timeout(sim, certs):
    sim.latency(2.0)
    c = client(sim, certs, timeout=3.0, retries=2)
    started = time.monotonic()
    with pytest.raises(VmsUnavailable), c.deadline(0.5):
        c.list_keys(ALICE)
    assert time.monotonic() - started < 0.9


def test_no_create_is_sent_once_the_deadline_has_passed(sim, certs):
    c = client(sim, certs)
    with pytest.raises(VmsUnavailable), c.deadline(0.0):
        c.create_key(ALICE)
    assert sim.create_calls == 0
