"""``python -m localdev --print-config`` (``./scripts/run --print-config``) prints the embedded
configuration and starts nothing, so it works while the local service runs and holds its ports."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys

import pytest

from localdev.emulators import Azurite, MotoServer
from shared.config import parse_config
from tests.deploy.template import REPO

DEFAULT_PORTS = (7071, 10000, 10002, 5000, 8444)  # the service, Azurite blob and table, moto, the VMS simulator


@contextlib.contextmanager
def ports_taken(ports):
    """Listen on each port, unless something already does (then it is taken all the same)."""
    held = []
    try:
        for port in ports:
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
                s.listen()
                held.append(s)
            except OSError:
                s.close()
        yield
    finally:
        for s in held:
            s.close()


def print_config(state, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "localdev", "--print-config", "--state", str(state), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"TVS_MODE": "local", "PATH": ""},
    )


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    state = tmp_path_factory.mktemp("state") / "local"
    with ports_taken(DEFAULT_PORTS):
        result = print_config(state)
    return state, result


def test_print_config_succeeds_while_the_default_ports_are_taken(printed):
    _, result = printed
    assert (result.returncode, result.stderr) == (0, "")
    assert isinstance(json.loads(result.stdout), dict)


def test_print_config_starts_and_creates_nothing(printed):
    state, _ = printed
    assert not state.exists()  # no certificates, no emulator data


def test_print_config_names_the_addresses_a_run_would_use(printed, tmp_path):
    state, result = printed
    doc = json.loads(result.stdout)
    ca = state / "certs" / "ca.pem"
    azurite = Azurite(ca, ca, ca, blob_port=10000, table_port=10002, workdir=tmp_path)  # not started
    assert doc["issuers"][0]["issuer"] == "http://127.0.0.1:7071/dev-idp"
    assert (doc["stores"]["demo-azure"]["account_url"], doc["stores"]["demo-azure"]["ca_bundle"]) == (
        azurite.blob_url,
        str(ca),
    )
    assert doc["stores"]["demo-s3"]["endpoint_url"] == MotoServer(port=5000, workdir=tmp_path).url
    assert (doc["stores"]["demo-vast"]["vms_url"], doc["stores"]["demo-vast"]["ca_bundle"]) == (
        "https://127.0.0.1:8444",
        str(ca),
    )
    assert doc["ledger"] == {"backend": "sqlite", "path": str(state / "vast-ledger.sqlite3")}


def test_print_config_follows_the_port_options(tmp_path):
    result = print_config(tmp_path / "local", "--port", "7171", "--moto-port", "5100", "--vms-port", "8544")
    doc = json.loads(result.stdout)
    assert (
        doc["issuers"][0]["issuer"],
        doc["stores"]["demo-s3"]["endpoint_url"],
        doc["stores"]["demo-vast"]["vms_url"],
    ) == ("http://127.0.0.1:7171/dev-idp", "http://127.0.0.1:5100", "https://127.0.0.1:8544")


def test_the_printed_configuration_is_a_valid_local_configuration(printed):
    config = parse_config(json.loads(printed[1].stdout), mode="local")
    assert sorted(config.stores) == ["demo-azure", "demo-s3", "demo-vast"]
