"""Fixtures of the self-service page's tests: the local service on the embedded default (Azurite,
moto server, the VMS simulator, the development identity provider) started in process, and
headless Chromium driven by Playwright.

Chromium is Debian's ``chromium`` package, which ``scripts/setup`` installs; Playwright's own
browser download is never used.
"""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest

from localdev.cors import page_origins
from localdev.default_config import DEMO_AWS_SECRETS, DEMO_VMS_TOKEN_ENV, embedded_config
from localdev.demo_data import prepare_demo_data
from localdev.devidp import DevIdentityProvider
from localdev.emulators import MotoServer, free_port
from localdev.server import LocalServer
from localdev.vms_simulator import VmsSimulator
from shared.api import VendingService
from shared.config import parse_config
from shared.secrets import SecretResolver

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VMS_TOKEN = "page-tests-vms-token"
OFFLINE_STORE = "offline-s3"  # a store whose storage does not answer (nothing listens on its port)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    assert path, "Chromium is not installed: run scripts/setup (it installs Debian's chromium package)"
    return path


@pytest.fixture(scope="module")
def page_moto():
    """moto server of its own: other modules reset theirs."""
    emulator = MotoServer().start()
    yield emulator
    emulator.cleanup()


@pytest.fixture(scope="module")
def page_vms(certs):
    ca, cert, key = certs
    sim = VmsSimulator(api_token=VMS_TOKEN, password="page-tests", certfile=str(cert), keyfile=str(key))
    sim.start()
    yield SimpleNamespace(url=sim.url, ca=ca, sim=sim)
    sim.stop()


@pytest.fixture(scope="module")
def site(azurite, page_moto, page_vms, tmp_path_factory):
    """The local service as ``./scripts/run`` starts it, on a free port, with the demo data and CORS
    rules in place, plus a store whose storage is down."""
    server = LocalServer(service=None, idp=None, port=0)
    issuer = f"{server.url}/dev-idp"
    emulators = {"azurite": azurite, "moto": page_moto, "vms": page_vms}
    prepare_demo_data(emulators, page_origins(server.port))
    raw = embedded_config(emulators, issuer, state_dir=tmp_path_factory.mktemp("page-state"))
    raw["issuers"][0]["leeway_seconds"] = 0  # an expired dev token is refused at once
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    raw["stores"][OFFLINE_STORE] = {
        **raw["stores"]["demo-s3"],
        "description": "a store whose storage does not answer",
        "endpoint_url": down,
        "sts_endpoint_url": down,
    }
    config = parse_config(raw, mode="local")
    secrets = SecretResolver({**DEMO_AWS_SECRETS, DEMO_VMS_TOKEN_ENV: VMS_TOKEN})
    server.service = VendingService(config, secrets=secrets)
    server.idp = DevIdentityProvider(issuer)
    server.start_background()
    yield SimpleNamespace(
        url=server.url,
        page=f"{server.url}/api/ui/index.html",
        server=server,
        idp=server.idp,
        azurite=azurite,
        moto=page_moto,
        vms=page_vms.sim,
        origins={server.url, f"https://127.0.0.1:{azurite.blob_port}", page_moto.url},
    )
    server.stop()


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser, site):
    """A fresh browser profile (no cookies, no storage) that trusts the emulators' local CA."""
    made = browser.new_context(
        ignore_https_errors=True,  # Azurite's certificate comes from the tests' throw-away CA
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    made.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    made.set_default_timeout(15_000)
    yield made
    made.close()


@pytest.fixture
def page(context):
    opened = context.new_page()
    opened.console_messages = []
    opened.on("console", lambda message: opened.console_messages.append(message.text))
    yield opened
    opened.close()
