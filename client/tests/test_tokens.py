"""The token cache: private file or OS keyring, silent refresh, logout."""
from __future__ import annotations

import os
import stat
import sys
import threading
import time
import types

import pytest

from tvs_client.config import load_profile
from tvs_client.errors import NotSignedIn
from tvs_client.tokens import FileTokenStore, KeyringTokenStore, SignIn, TokenSet, token_store


@pytest.fixture
def logged_in(tvs, service, idp):
    """Signed in through the device flow (so with a refresh token)."""
    assert tvs("login", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli").status == 0
    return FileTokenStore().load("default")


def expire_saved_token():
    store = FileTokenStore()
    tokens = store.load("default")
    tokens.expires_at = time.time() - 1
    store.save("default", tokens)
    return tokens


def refresh_grants(idp):
    return [r for r in idp.seen("POST", "/token") if r.form().get("grant_type") == "refresh_token"]


def test_the_token_file_is_created_with_mode_0600(logged_in, config_dir):
    assert stat.S_IMODE(os.stat(config_dir / "tokens" / "default.json").st_mode) == 0o600


def test_the_token_directory_is_created_with_mode_0700(logged_in, config_dir):
    assert stat.S_IMODE(os.stat(config_dir / "tokens").st_mode) == 0o700


def test_the_token_file_is_private_even_under_a_permissive_umask(config_dir):
    old = os.umask(0)
    try:
        FileTokenStore().save("default", TokenSet("at-1", time.time() + 60))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(config_dir / "tokens" / "default.json").st_mode) == 0o600


def test_the_token_file_gets_its_mode_at_creation_not_from_a_chmod(config_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("chmod after writing")
    monkeypatch.setattr(os, "chmod", refuse)
    monkeypatch.setattr(os, "fchmod", refuse)
    FileTokenStore().save("default", TokenSet("at-1", time.time() + 60))
    assert stat.S_IMODE(os.stat(config_dir / "tokens" / "default.json").st_mode) == 0o600


def test_a_fresh_token_is_used_without_asking_the_provider(tvs, logged_in, idp):
    assert tvs("stores").status == 0
    assert refresh_grants(idp) == []


def test_an_expired_token_is_refreshed_silently_with_the_refresh_token(tvs, logged_in, idp):
    old = expire_saved_token()
    run = tvs("stores")
    assert run.status == 0 and run.err == ""
    assert len(refresh_grants(idp)) == 1
    assert FileTokenStore().load("default").access_token != old.access_token


def test_a_rotated_refresh_token_is_kept(tvs, logged_in, idp):
    expire_saved_token()
    tvs("stores")
    assert FileTokenStore().load("default").refresh_token in idp.refresh_tokens


def test_a_refused_refresh_says_run_tvs_login(tvs, logged_in, idp):
    expire_saved_token()
    idp.refresh_tokens.clear()
    run = tvs("stores")
    assert run.status == 3 and "run 'tvs login'" in run.err


def test_a_token_the_service_refuses_is_refreshed_once_and_the_call_retried(tvs, logged_in, service, idp):
    service.tokens.discard(logged_in.access_token)  # revoked or expired early at the provider
    run = tvs("stores")
    assert run.status == 0, run.err
    assert len(refresh_grants(idp)) == 1


def test_threads_of_one_process_refresh_an_expired_token_once(logged_in, idp):
    expire_saved_token()
    sign_in = SignIn(load_profile())
    tokens = []
    threads = [threading.Thread(target=lambda: tokens.append(sign_in.access_token())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(refresh_grants(idp)) == 1 and len(set(tokens)) == 1


def test_logout_forgets_the_sign_in(tvs, logged_in, config_dir):
    assert tvs("logout").status == 0
    assert not (config_dir / "tokens" / "default.json").exists()
    run = tvs("stores")
    assert run.status == 3 and "run 'tvs login'" in run.err


def test_logout_revokes_the_refresh_token_at_the_provider(tvs, logged_in, idp):
    tvs("logout")
    assert idp.revoked == [logged_in.refresh_token]


def test_the_message_names_the_profile_to_sign_in_again(tvs, service):
    run = tvs("stores", "--profile", "work", "--service", service.url)
    assert run.status == 3 and "run 'tvs login --profile work'" in run.err


def test_a_token_set_never_shows_its_tokens():
    tokens = TokenSet("at-SECRET", time.time() + 60, refresh_token="rt-SECRET")
    assert "SECRET" not in repr(tokens) and "SECRET" not in str(tokens)


# -- the OS keyring ---------------------------------------------------------------------------------
def fake_keyring(monkeypatch, backend_name: str = "usable"):
    """Install a stand-in ``keyring`` package whose backend is usable, or keyring's fail backend."""
    fail = types.ModuleType("keyring.backends.fail")
    null = types.ModuleType("keyring.backends.null")
    fail.Keyring = type("Keyring", (), {"priority": 0})
    null.Keyring = type("Keyring", (), {"priority": -1})
    backends = types.ModuleType("keyring.backends")
    backends.fail, backends.null = fail, null
    module = types.ModuleType("keyring")
    module.backends = backends
    module.saved = {}
    usable = type("SecretService", (), {"priority": 5})()
    module.get_keyring = lambda: usable if backend_name == "usable" else fail.Keyring()
    module.get_password = lambda service, user: module.saved.get((service, user))
    module.set_password = lambda service, user, value: module.saved.__setitem__((service, user), value)
    module.delete_password = lambda service, user: module.saved.pop((service, user))
    for name, mod in (("keyring", module), ("keyring.backends", backends), ("keyring.backends.fail", fail),
                      ("keyring.backends.null", null)):
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setenv("TVS_TOKEN_STORE", "auto")
    return module


def test_the_os_keyring_keeps_the_sign_in_when_it_has_a_usable_backend(tvs, service, monkeypatch, config_dir):
    keyring = fake_keyring(monkeypatch)
    assert tvs("login", "--dev", "--sub", "alice", "--service", service.url).status == 0
    assert ("tvs-client", "default") in keyring.saved
    assert not (config_dir / "tokens" / "default.json").exists()


def test_keyrings_fail_backend_means_the_private_file(monkeypatch):
    fake_keyring(monkeypatch, backend_name="fail")
    assert isinstance(token_store(), FileTokenStore)


def test_a_usable_keyring_backend_is_chosen(monkeypatch):
    fake_keyring(monkeypatch)
    assert isinstance(token_store(), KeyringTokenStore)


def test_a_sign_in_the_keyring_refuses_goes_to_the_private_file(monkeypatch, config_dir, capsys):
    keyring = fake_keyring(monkeypatch)

    def too_large(service, user, value):
        raise OSError("the stub password is too long")
    keyring.set_password = too_large
    token_store().save("default", TokenSet("at-1", time.time() + 60))
    assert (config_dir / "tokens" / "default.json").exists()
    assert "keyring refused" in capsys.readouterr().err


def test_logout_removes_the_sign_in_from_the_keyring(tvs, service, monkeypatch):
    keyring = fake_keyring(monkeypatch)
    tvs("login", "--dev", "--sub", "alice", "--service", service.url)
    tvs("logout")
    assert keyring.saved == {}


def test_without_a_sign_in_the_sign_in_object_says_run_tvs_login(config_dir):
    with pytest.raises(NotSignedIn, match="run 'tvs login'"):
        SignIn(load_profile()).access_token()


def test_processes_sharing_a_profile_refresh_an_expired_token_once(logged_in, idp, config_dir):
    import subprocess

    expire_saved_token()
    idp.refresh_delay = 0.5  # both processes find the token expired while the first refresh is under way
    code = "from tvs_client.config import load_profile; from tvs_client.tokens import SignIn; SignIn(load_profile()).access_token()"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env) for _ in range(3)]
    assert [p.wait(30) for p in procs] == [0, 0, 0]
    assert len(refresh_grants(idp)) == 1
