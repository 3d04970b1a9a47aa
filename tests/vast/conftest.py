"""Fixtures of the VAST tests: a VMS simulator, and a fresh ledger on each of the three backends."""

from __future__ import annotations

import uuid

import pytest

from localdev.vms_simulator import VmsSimulator
from shared.ledger import open_ledger
from shared.secrets import SecretResolver

LEDGER_BACKENDS = ("sqlite", "dynamodb", "azure-table")
SIM_TOKEN = "test-vms-token"
SIM_PASSWORD = "test-vms-password"


@pytest.fixture(scope="session")
def vms(certs):
    """A VMS simulator over https (the local test CA), hanging creates cut short after 3 s."""
    ca, cert, key = certs
    sim = VmsSimulator(
        password=SIM_PASSWORD, api_token=SIM_TOKEN, certfile=str(cert), keyfile=str(key), hang_seconds=3, seed=11
    )
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(vms):
    """The session simulator, with no keys, no faults and zeroed counters."""
    vms.reset()
    yield vms
    vms.clear_faults()


@pytest.fixture
def aws_env(monkeypatch):
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-3",
    }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("TVS_LEDGER_TABLE", raising=False)


def ledger_options(backend: str, request, tmp_path) -> tuple[dict, dict]:
    """``ledger`` options of a fresh, empty ledger on ``backend``, and the environment its secrets need."""
    if backend == "sqlite":
        return {"backend": "sqlite", "path": str(tmp_path / "ledger.sqlite3")}, {}
    if backend == "dynamodb":
        request.getfixturevalue("aws_env")
        moto = request.getfixturevalue("moto_server")
        import boto3

        from shared.ledger.dynamodb import create_table

        name = f"vast-keys-{uuid.uuid4().hex[:8]}"
        create_table(boto3.client("dynamodb", endpoint_url=moto.url, region_name="eu-west-3"), name)
        return {"backend": "dynamodb", "table": name, "region": "eu-west-3", "endpoint_url": moto.url}, {}
    azurite = request.getfixturevalue("azurite")
    from shared.ledger.azure_table import AzureTableLedger

    name = f"vastkeys{uuid.uuid4().hex[:8]}"
    AzureTableLedger(name, connection_string=azurite.connection_string, ca_bundle=str(azurite.ca)).ensure_table()
    options = {
        "backend": "azure-table",
        "table": name,
        "auth": "connection-string",
        "connection_string": {"env": "LEDGER_CONN"},
        "ca_bundle": str(azurite.ca),
    }
    return options, {"LEDGER_CONN": azurite.connection_string}


@pytest.fixture(params=LEDGER_BACKENDS)
def ledger_config(request, tmp_path):
    """``(options, environment)`` of a fresh ledger, once per backend."""
    return ledger_options(request.param, request, tmp_path)


@pytest.fixture
def ledger(ledger_config):
    options, env = ledger_config
    opened = open_ledger(options, SecretResolver(env))
    yield opened
    opened.close()


@pytest.fixture(params=LEDGER_BACKENDS)
def broken_ledger_options(request, tmp_path):
    """``ledger`` options whose store is not there: a missing table, an unusable SQLite path."""
    options, env = ledger_options(request.param, request, tmp_path)
    if request.param == "sqlite":
        (tmp_path / "not-a-dir").write_text("")
        options["path"] = str(tmp_path / "not-a-dir" / "ledger.sqlite3")
    else:
        options["table"] = "missing" + uuid.uuid4().hex[:8]
    return options, env
