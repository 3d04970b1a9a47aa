"""Fixtures shared by client/tests and client/tests_extras: every test runs with its own
configuration directory and the file token store (never the real keyring of the machine), against
fakes on 127.0.0.1."""
from __future__ import annotations

import time

import pytest
from fakeservers import FakeOidc, FakeService

from tvs_client import cli
from tvs_client.config import Profile, save_profile
from tvs_client.tokens import FileTokenStore, TokenSet


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    path = tmp_path / "tvs-config"
    monkeypatch.setenv("TVS_CONFIG_DIR", str(path))
    monkeypatch.setenv("TVS_TOKEN_STORE", "file")
    for name in ("TVS_URL", "TVS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def service():
    fake = FakeService()
    yield fake
    fake.close()


@pytest.fixture
def idp(service):
    fake = FakeOidc(service)
    yield fake
    fake.close()


@pytest.fixture
def signed_in(service, config_dir):
    """A default profile on the fake service with a valid token (no refresh token); returns it."""
    token = service.issue_token()
    save_profile(Profile(name="default", service=service.url, flow="dev", dev_sub="alice"))
    FileTokenStore().save("default", TokenSet(access_token=token, expires_at=time.time() + 3600))
    return token


class Run:
    def __init__(self, status: int, out: str, err: str):
        self.status, self.out, self.err = status, out, err


@pytest.fixture
def tvs(capsys):
    """Run the tvs command in this process: ``tvs("creds", "demo-s3")`` -> Run(status, out, err)."""
    def run(*argv: str) -> Run:
        status = cli.main(list(argv))
        captured = capsys.readouterr()
        return Run(status, captured.out, captured.err)
    return run
