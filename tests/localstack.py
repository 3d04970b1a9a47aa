"""The local service on its embedded default, in process, over real HTTP, on the test session's emulators.

What ``python -m localdev`` runs, on free ports: Azurite behind ``demo-azure`` and the organization
``demo``, moto server behind ``demo-s3``, a VMS simulator behind ``demo-vast`` with a SQLite ledger,
and the development identity provider under ``/dev-idp/``. The contract fuzzing, the audit-trail and
the log tests drive it like a client would.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from localdev.__main__ import LocalGcs
from localdev.cors import page_origins
from localdev.default_config import DEMO_AWS_SECRETS, DEMO_VMS_TOKEN_ENV, embedded_config
from localdev.demo_data import prepare_demo_data
from localdev.devidp import DevIdentityProvider
from localdev.emulators import free_port
from localdev.server import LocalServer
from localdev.vms_simulator import VmsSimulator
from shared.api import VendingService
from shared.config import parse_config


@dataclass
class LocalStack:
    server: LocalServer
    vms: VmsSimulator

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def service(self) -> VendingService:
        return self.server.service

    def token(self, sub: str = "alice", groups=("demo-users",), roles=(), **claims) -> str:
        """A token of the development identity provider, asked for over HTTP as a client would."""
        body = {"sub": sub, "groups": list(groups), "roles": list(roles), "claims": claims}
        resp = requests.post(f"{self.url}/dev-idp/token", json=body, timeout=10)
        resp.raise_for_status()
        return resp.json()["access_token"]


@contextlib.contextmanager
def local_stack(
    azurite,
    moto,
    certs,
    state: Path,
    port: int = 0,
    idp: DevIdentityProvider | None = None,
    gcs: bool = False,
    **config_over,
) -> Iterator[LocalStack]:
    """The embedded default on ``azurite``, ``moto`` and a VMS simulator of its own (and, with ``gcs``, the
    demo-gcs store on a fake-gcs-server of its own), served on ``port`` (by default a free one); ``idp``,
    when given, is the development identity provider (its issuer names the port)."""
    ca, cert, key = certs
    vms_token = secrets.token_urlsafe(24)
    vms = VmsSimulator(
        api_token=vms_token, password=secrets.token_urlsafe(24), certfile=str(cert), keyfile=str(key), hang_seconds=3
    )
    vms.start()
    vms.ca = ca
    saved = {name: os.environ.get(name) for name in (*DEMO_AWS_SECRETS, DEMO_VMS_TOKEN_ENV)}
    os.environ.update({**DEMO_AWS_SECRETS, DEMO_VMS_TOKEN_ENV: vms_token})
    server = LocalServer(service=None, idp=None, port=port)
    emulators = {"azurite": azurite, "moto": moto, "vms": vms}
    try:
        if gcs:
            emulators["gcs"] = LocalGcs(free_port(), state / "gcs")
        prepare_demo_data(emulators, page_origins(server.port))
        issuer = f"{server.url}/dev-idp"
        raw = embedded_config(emulators, issuer, state_dir=state)
        raw.update(config_over)
        server.idp = idp or DevIdentityProvider(issuer)
        server.service = VendingService(parse_config(raw, mode="local"))
        server.start_background()
        yield LocalStack(server, vms)
    finally:
        server.stop()
        vms.stop()
        if "gcs" in emulators:
            emulators["gcs"].stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
