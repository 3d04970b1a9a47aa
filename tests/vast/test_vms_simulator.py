"""Behaviour of the VAST VMS simulator, exercised over real HTTP with requests."""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
import time
from urllib.parse import quote

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from localdev.vms_simulator import NotFound, VmsSimulator

AUTH = ("admin", "123456")
TOKEN = "test-token"
CAROL_SID = "S-1-5-21-1004336348-1177238915-682003330-1101"
ERIN_SID = "S-1-5-21-1004336348-1177238915-682003330-1103"


@pytest.fixture(scope="module")
def sim():
    with VmsSimulator(api_token=TOKEN, hang_seconds=5, seed=7) as s:
        yield s


@pytest.fixture(autouse=True)
def clean(sim):
    sim.reset()
    yield


@pytest.fixture
def http(sim):
    with requests.Session() as session:
        session.auth = AUTH
        yield session


def url(sim, path):
    return sim.url + path


def create_local(sim, http, user_id=1001):
    return http.post(url(sim, f"/api/users/{user_id}/access_keys/"), json={}, timeout=5)


def key_with_special_chars(sim, user_id=1001):
    """Keys with '/' and '+' are generated every third key; make one for the user."""
    for _ in range(6):
        key = sim.add_key(user_id)["access_key"]
        if "/" in key and "+" in key:
            return key
        sim.store.delete_key(sim.store.local_user(user_id), key)
    raise AssertionError("generator never produced a key with '/' and '+'")


def test_creating_a_key_for_a_local_user_returns_a_pair_that_is_listed(sim, http):
    resp = create_local(sim, http)
    assert resp.status_code == 200
    pair = resp.json()
    assert set(pair) == {"access_key", "secret_key"}
    assert pair["access_key"].endswith("==") and len(pair["secret_key"]) == 40
    listed = http.get(url(sim, "/api/locals3keys/"), params={"user_id": 1001}, timeout=5).json()
    assert [k["access_key"] for k in listed] == [pair["access_key"]]
    assert listed[0]["user"] == {"id": 1001, "name": "alice"}
    assert listed[0]["tenant"] == {"id": 1, "name": "default"}
    assert listed[0]["enabled"] is True and "secret_key" not in listed[0]


def test_s3keys_post_creates_a_key_for_the_caller_with_201(sim, http):
    resp = http.post(url(sim, "/api/s3keys/"), timeout=5)
    assert resp.status_code == 201
    assert [k["access_key"] for k in sim.keys_of_local_user(1)] == [resp.json()["access_key"]]


def test_a_third_key_is_refused_with_400_and_the_cap_text(sim, http):
    assert create_local(sim, http).status_code == 200
    assert create_local(sim, http).status_code == 200
    resp = create_local(sim, http)
    assert resp.status_code == 400
    detail = resp.json()["detail"]
    assert "access keys" in detail and "2" in detail
    assert len(sim.keys_of_local_user(1001)) == 2


def test_concurrent_creates_never_exceed_the_cap(sim):
    def create(results):
        results.append(
            requests.post(url(sim, "/api/users/1002/access_keys/"), auth=AUTH, json={}, timeout=5).status_code
        )

    results: list[int] = []
    threads = [threading.Thread(target=create, args=(results,)) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 200] + [400] * 8
    assert len(sim.keys_of_local_user(1002)) == 2


def test_deleting_a_key_removes_it(sim, http):
    key = create_local(sim, http).json()["access_key"]
    resp = http.delete(url(sim, "/api/users/1001/access_keys/"), json={"access_key": key}, timeout=5)
    assert resp.status_code == 204
    assert sim.keys_of_local_user(1001) == []
    assert sim.delete_calls == 1


def test_deleting_an_unknown_key_is_404(sim, http):
    resp = http.delete(
        url(sim, "/api/users/1001/access_keys/"), json={"access_key": "Tm9TdWNoS2V5QXRBbGwhIQ=="}, timeout=5
    )
    assert resp.status_code == 404
    assert resp.json() == {"detail": "Not found."}


def test_deleting_another_users_key_is_404_and_keeps_it(sim, http):
    key = sim.add_key(1002)["access_key"]
    resp = http.delete(url(sim, "/api/users/1001/access_keys/"), json={"access_key": key}, timeout=5)
    assert resp.status_code == 404
    assert len(sim.keys_of_local_user(1002)) == 1


def test_unknown_user_is_404(sim, http):
    assert create_local(sim, http, user_id=4242).status_code == 404
    resp = http.post(url(sim, "/api/users/non_local_keys/"), json={"uid": 4242}, timeout=5)
    assert resp.status_code == 404


def test_missing_auth_is_401(sim):
    resp = requests.post(url(sim, "/api/users/1001/access_keys/"), json={}, timeout=5)
    assert resp.status_code == 401
    assert resp.json() == {"detail": "Authentication credentials were not provided."}


def test_wrong_password_is_401_without_side_effects(sim):
    resp = requests.post(url(sim, "/api/users/1001/access_keys/"), auth=("admin", "nope"), json={}, timeout=5)
    assert resp.status_code == 401
    assert resp.json() == {"detail": "Invalid username/password."}
    assert sim.all_keys() == [] and sim.create_calls == 0


def test_api_token_auth_works(sim):
    headers = {"Authorization": f"Api-Token {TOKEN}"}
    resp = requests.post(url(sim, "/api/users/1001/access_keys/"), headers=headers, json={}, timeout=5)
    assert resp.status_code == 200
    bad = requests.get(url(sim, "/api/locals3keys/"), headers={"Authorization": "Api-Token x"}, timeout=5)
    assert bad.status_code == 401


def test_key_with_slash_plus_equals_is_deleted_by_json_body(sim, http):
    key = key_with_special_chars(sim)
    assert key.endswith("=")
    resp = http.delete(url(sim, "/api/users/1001/access_keys/"), json={"access_key": key}, timeout=5)
    assert resp.status_code == 204
    assert sim.keys_of_local_user(1001) == []


def test_key_with_slash_plus_equals_is_deleted_by_encoded_path(sim, http):
    key = key_with_special_chars(sim, user_id=1)  # /api/s3keys/ acts for the caller, user 1
    encoded = quote(key, safe="")
    assert "%2F" in encoded and "%2B" in encoded and "%3D" in encoded
    resp = http.delete(url(sim, f"/api/s3keys/{encoded}/"), timeout=5)
    assert resp.status_code == 204
    assert sim.keys_of_local_user(1) == []


def test_unencoded_slash_in_path_does_not_match_a_key(sim, http):
    key = key_with_special_chars(sim, user_id=1)
    resp = http.delete(url(sim, f"/api/s3keys/{key}/"), timeout=5)
    assert resp.status_code == 404
    assert len(sim.keys_of_local_user(1)) == 1


def test_fail_next_answers_500_without_side_effects(sim, http):
    sim.fail_next(1)
    assert create_local(sim, http).status_code == 500
    assert sim.all_keys() == []
    assert create_local(sim, http).status_code == 200
    assert sim.create_calls == 2


def test_fail_next_only_hits_the_named_ops(sim, http):
    key = sim.add_key(1001)["access_key"]
    sim.fail_next(1, status=503, ops=("delete",))
    assert http.get(url(sim, "/api/locals3keys/"), timeout=5).status_code == 200
    resp = http.delete(url(sim, "/api/users/1001/access_keys/"), json={"access_key": key}, timeout=5)
    assert resp.status_code == 503
    assert len(sim.keys_of_local_user(1001)) == 1


def test_fault_injection_over_http_admin_endpoint(sim, http):
    resp = requests.post(url(sim, "/_sim/faults"), json={"fail_next": {"n": 1, "status": 502}}, timeout=5)
    assert resp.json()["fail_next"][0]["status"] == 502
    assert create_local(sim, http).status_code == 502
    assert requests.get(url(sim, "/_sim/keys"), timeout=5).json() == []


def test_timeout_after_create_leaves_the_key_created_while_the_client_times_out(sim, http):
    sim.timeout_after_create(1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.post(url(sim, "/api/users/1001/access_keys/"), json={}, timeout=(2, 0.3))
    assert len(sim.keys_of_local_user(1001)) == 1
    assert create_local(sim, http).status_code == 200  # later calls are answered again


def test_timeout_after_create_close_mode_drops_the_connection(sim, http):
    sim.timeout_after_create(1, mode="close")
    with pytest.raises(requests.exceptions.ConnectionError):
        http.post(url(sim, "/api/users/1001/access_keys/"), json={}, timeout=5)
    assert len(sim.keys_of_local_user(1001)) == 1


def test_latency_delays_answers(sim, http):
    sim.latency(0.3)
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(url(sim, "/api/locals3keys/"), timeout=(2, 0.1))
    sim.latency(0)
    assert http.get(url(sim, "/api/locals3keys/"), timeout=5).status_code == 200


def test_non_local_key_by_uid_is_created_listed_and_deleted(sim, http):
    resp = http.post(url(sim, "/api/users/non_local_keys/"), json={"uid": 50001, "tenant_id": 1}, timeout=5)
    assert resp.status_code == 200
    key = resp.json()["access_key"]
    listed = http.get(url(sim, "/api/users/non_local_keys/"), params={"uid": 50001}, timeout=5).json()
    assert [k["access_key"] for k in listed] == [key] and listed[0]["user"]["name"] == "carol"
    assert (
        http.delete(
            url(sim, "/api/users/non_local_keys/"), json={"access_key": key, "uid": 50001}, timeout=5
        ).status_code
        == 204
    )
    assert sim.keys_of_non_local(uid=50001) == []


def test_non_local_key_by_sid_is_created_and_listed(sim, http):
    resp = http.post(url(sim, "/api/users/non_local_keys/"), json={"sid": ERIN_SID}, timeout=5)
    assert resp.status_code == 200
    listed = http.get(url(sim, "/api/users/non_local_keys/"), params={"sid": ERIN_SID}, timeout=5).json()
    assert [k["access_key"] for k in listed] == [resp.json()["access_key"]]
    assert sim.keys_of_non_local(sid=ERIN_SID)[0]["user_type"] == "non_local"


def test_non_local_user_found_by_uid_and_sid_is_the_same(sim, http):
    http.post(url(sim, "/api/users/non_local_keys/"), json={"uid": 50001}, timeout=5)
    assert len(sim.keys_of_non_local(sid=CAROL_SID)) == 1


def test_disabling_a_key_with_patch(sim, http):
    key = sim.add_key(1001)["access_key"]
    resp = http.patch(url(sim, "/api/users/1001/access_keys/"), json={"access_key": key, "enabled": False}, timeout=5)
    assert resp.status_code == 204
    assert sim.keys_of_local_user(1001)[0]["enabled"] is False


def test_pagination_shape_with_page_size(sim, http):
    for user_id in (1, 1001, 1002):
        sim.add_key(user_id)
        sim.add_key(user_id)
    first = http.get(url(sim, "/api/locals3keys/"), params={"page_size": 4}, timeout=5).json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 6 and len(first["results"]) == 4 and first["previous"] is None
    second = http.get(first["next"], timeout=5).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert second["previous"] == url(sim, "/api/locals3keys/?page_size=4")
    assert http.get(url(sim, "/api/locals3keys/"), params={"page_size": 4, "page": 3}, timeout=5).status_code == 404


def test_listing_without_page_size_is_a_plain_array(sim, http):
    sim.add_key(1001)
    assert isinstance(http.get(url(sim, "/api/locals3keys/"), timeout=5).json(), list)


def test_keep_alive_answers_arrive_without_a_delayed_ack_stall(sim, http):
    # Headers and body are two writes; with Nagle on, each answer would wait ~40 ms for an ACK.
    http.get(url(sim, "/api/locals3keys/"), timeout=5)
    started = time.monotonic()
    for _ in range(20):
        assert http.get(url(sim, "/api/locals3keys/"), timeout=5).status_code == 200
    assert time.monotonic() - started < 0.5


def test_generated_keys_regularly_contain_slash_and_plus(sim):
    keys = [sim.add_key(uid, enforce_cap=False)["access_key"] for uid in [1001] * 9]
    assert sum("/" in k and "+" in k for k in keys) >= 3


def test_inspection_of_unknown_user_raises_lookup_error(sim):
    with pytest.raises(NotFound):
        sim.keys_of_local_user(4242)


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vms-simulator")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(certfile), str(keyfile)


def test_tls_mode_answers_over_https_and_is_verifiable(tmp_path):
    certfile, keyfile = _self_signed(tmp_path)
    with VmsSimulator(certfile=certfile, keyfile=keyfile) as tls:
        assert tls.url.startswith("https://")
        resp = requests.post(tls.url + "/api/users/1001/access_keys/", auth=AUTH, json={}, verify=certfile, timeout=5)
        assert resp.status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(tls.url + "/api/locals3keys/", auth=AUTH, timeout=5)
