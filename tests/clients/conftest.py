"""Fixtures of the tests that use vended credentials in the tools people use: the local service on
a free port (Azurite, moto server, the VMS simulator, the development identity provider), and the
tools' own environments that scripts/setup makes (.venv-clients: the tvs client, s3fs, adlfs,
PyIceberg; .venv-awscli: the AWS CLI)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from localdev.devidp import DevIdentityProvider
from localdev.emulators import MotoServer
from localdev.server import LocalServer
from localdev.vms_simulator import VmsSimulator
from shared.api import VendingService
from shared.config import parse_config
from shared.secrets import SecretResolver
from tests.aws.support import ROLE_NAME, TRUST_POLICY, admin_client
from tests.aws.support import store_block as s3_store_block

REPO = Path(__file__).resolve().parents[2]
CLIENTS = REPO / ".venv-clients" / "bin"
AWSCLI = REPO / ".venv-awscli" / "bin" / "aws"
BUCKET, CONTAINER = "clients", "clients"
VMS_TOKEN = "clients-tests-vms-token"


@pytest.fixture(scope="module")
def clients_moto():
    emulator = MotoServer().start()
    admin_client(emulator, "iam").create_role(
        RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY), MaxSessionDuration=43_200
    )
    admin_client(emulator).create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    yield emulator
    emulator.cleanup()


@pytest.fixture(scope="module")
def clients_vms(certs):
    ca, cert, key = certs
    sim = VmsSimulator(api_token=VMS_TOKEN, password="clients-tests", certfile=str(cert), keyfile=str(key))
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def stack(azurite, clients_moto, clients_vms, certs, tmp_path_factory):
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobServiceClient

    try:
        BlobServiceClient.from_connection_string(
            azurite.connection_string, connection_verify=str(azurite.ca)
        ).create_container(CONTAINER)
    except ResourceExistsError:
        pass
    server = LocalServer(service=None, idp=None, port=0)
    issuer = f"{server.url}/dev-idp"
    ca = str(certs[0])
    raw = {
        "issuers": [
            {
                "name": "dev",
                "issuer": issuer,
                "audiences": ["api://tvs-local"],
                "algorithms": ["ES256"],
                "jwks_uri": f"{issuer}/jwks",
                "dev": True,
            }
        ],
        "stores": {
            "az": {
                "kind": "azure-blob",
                "account_url": azurite.blob_url,
                "container": CONTAINER,
                "emulator": True,
                "ca_bundle": ca,
                "auth": {"method": "emulator-token"},
                "ttl": {"default": 900, "max": 3600},
            },
            "s3": s3_store_block(clients_moto, bucket=BUCKET),
            "vast": {
                "kind": "vast-s3",
                "vms_url": clients_vms.url,
                "s3_endpoint": "https://s3.vast.invalid",
                "ca_bundle": ca,
                "auth": {"method": "api-token", "token": {"env": "VMS_TOKEN"}},
                "key_access": "read",
                "mapping": {"users": {"alice": {"user_id": 1001}}},
            },
        },
        "grants": [
            {"match": {"groups": ["writers"]}, "stores": ["*"], "access": "delete"},
            {"match": {"groups": ["users"]}, "stores": ["*"], "access": "read"},
            {"match": {"groups": ["users"]}, "stores": ["s3"], "prefix": "users/{sub}/", "access": "write"},
        ],
        "ledger": {"backend": "sqlite", "path": str(tmp_path_factory.mktemp("ledger") / "ledger.sqlite3")},
    }
    secrets = SecretResolver(
        {"MOTO_ACCESS_KEY_ID": "testing", "MOTO_SECRET_ACCESS_KEY": "testing", "VMS_TOKEN": VMS_TOKEN}
    )
    server.service = VendingService(parse_config(raw, mode="local"), secrets=secrets)
    server.idp = DevIdentityProvider(issuer)
    server.start_background()
    yield SimpleNamespace(url=server.url, server=server, azurite=azurite, moto=clients_moto, vms=clients_vms, ca=ca)
    server.stop()


def tool_env(home: Path, **extra) -> dict:
    """The environment of a person's shell: no AWS credentials of their own, tvs settings under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AZURE_", "TVS_"))}
    env.update(
        HOME=str(home),
        TVS_CONFIG_DIR=str(home / "tvs"),
        TVS_TOKEN_STORE="file",
        AWS_CONFIG_FILE=str(home / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(extra)
    return env


def run(argv: list[str], env: dict, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert done.returncode == 0, f"{argv[0]} failed ({done.returncode}): {done.stderr[-3000:]}"
    return done


@pytest.fixture
def signed_in(stack, tmp_path):
    """A home directory where ``tvs login --dev`` signed alice in (groups users and writers)."""
    env = tool_env(tmp_path)
    run(
        [
            str(CLIENTS / "tvs"),
            "login",
            "--dev",
            "--service",
            stack.url,
            "--sub",
            "alice",
            "--group",
            "users",
            "--group",
            "writers",
        ],
        env,
    )
    return SimpleNamespace(home=tmp_path, env=env)


def clients_python(script: str, env: dict, *args: str, timeout: float = 180) -> str:
    return run([str(CLIENTS / "python"), "-c", script, *args], env, timeout=timeout).stdout
