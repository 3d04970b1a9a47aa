"""``python -m localdev``: the local service on its embedded default, in the foreground.

Starts the emulators, the development identity provider and the service on 127.0.0.1:7071;
Ctrl-C (or SIGTERM) stops everything it started. ``--print-config`` prints the embedded
configuration (with the emulator URLs this command would use) and starts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path

from shared import logsafe
from shared.api import VendingService, reset_service
from shared.config import parse_config
from shared.errors import ConfigError

from .certs import ensure_local_certs
from .cors import page_origins
from .default_config import (
    DEMO_AWS_SECRETS,
    DEMO_GCS_PROJECT,
    DEMO_GCS_SERVICE_ACCOUNT,
    DEMO_VMS_TOKEN_ENV,
    embedded_config,
)
from .demo_data import prepare_demo_data
from .devidp import DevIdentityProvider
from .emulators import AZURITE_ACCOUNT, REPO, Azurite, FakeGcsServer, MotoServer, port_is_free
from .google_sim import GoogleSimulator, ensure_service_account_key
from .server import LocalServer
from .vms_simulator import VmsSimulator

AZURITE_BLOB_PORT, AZURITE_TABLE_PORT = 10000, 10002


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--moto-port", type=int, default=5000, help="port of moto server (the demo-s3 store)")
    parser.add_argument("--state", default=str(REPO / ".local"), help="where emulator data and local certificates live")
    parser.add_argument("--print-config", action="store_true", help="print the embedded configuration and exit")
    parser.add_argument("--vms-port", type=int, default=8444, help="port of the VMS simulator (demo-vast)")
    parser.add_argument("--gcs-port", type=int, default=4443, help="port of fake-gcs-server (demo-gcs)")
    parser.add_argument(
        "--sweep-every",
        type=float,
        default=60.0,
        help="seconds between sweeps of expired VAST keys (the cloud deployments use a timer)",
    )
    args = parser.parse_args(argv)
    state = Path(args.state)
    issuer = f"http://127.0.0.1:{args.port}/dev-idp"
    if args.print_config:  # what the run would serve, without starting (or creating) anything
        print(json.dumps(embedded_config(_planned_emulators(args, state), issuer, state_dir=state), indent=2))
        return 0

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    logsafe.install()
    logging.getLogger("azure").setLevel(logging.WARNING)  # the SDK logs every HTTP exchange at INFO
    logging.getLogger("botocore").setLevel(logging.WARNING)
    ca, cert, key = ensure_local_certs(state / "certs")
    emulators: dict = {}
    stop_signal = {"hit": False}

    def _terminate(signum, frame):
        stop_signal["hit"] = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)  # also when started in the background, where SIGINT is inherited ignored
    try:
        emulators["azurite"] = Azurite(
            cert, key, ca, blob_port=AZURITE_BLOB_PORT, table_port=AZURITE_TABLE_PORT, workdir=state / "azurite"
        ).start()
        if not port_is_free(args.moto_port):
            print(f"port {args.moto_port} is in use: stop what listens there or pass --moto-port", file=sys.stderr)
            return 2
        emulators["moto"] = MotoServer(port=args.moto_port, workdir=state / "moto").start()
        for name, value in DEMO_AWS_SECRETS.items():
            os.environ.setdefault(name, value)
        if not port_is_free(args.vms_port):
            print(f"port {args.vms_port} is in use: stop what listens there or pass --vms-port", file=sys.stderr)
            return 2
        emulators["vms"] = _start_vms(args.vms_port, ca, cert, key)
        if not port_is_free(args.gcs_port):
            print(f"port {args.gcs_port} is in use: stop what listens there or pass --gcs-port", file=sys.stderr)
            return 2
        emulators["gcs"] = LocalGcs(args.gcs_port, state / "gcs")
        prepare_demo_data(emulators, page_origins(args.port))
        raw = embedded_config(emulators, issuer, state_dir=state)
        try:
            config = parse_config(raw, mode="local")
        except ConfigError as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            return 2
        service = VendingService(config)
        reset_service(service)
        server = LocalServer(service, DevIdentityProvider(issuer), port=args.port)
        _start_sweeper(service, args.sweep_every)
        print(
            f"tvs local service on {server.url}/api/v1 (dev identity provider {issuer}); "
            f"stores: {', '.join(config.stores)}; the self-service page: {server.url}/api/ui/; Ctrl-C stops it",
            flush=True,
        )
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for emulator in emulators.values():
            emulator.stop()
    return 0


def _planned_emulators(args, state: Path) -> dict:
    """Stand-ins for the emulators a run would start, with the addresses it would give them."""
    from types import SimpleNamespace

    ca = state / "certs" / "ca.pem"  # where ensure_local_certs keeps the local CA
    return {
        "azurite": SimpleNamespace(blob_url=f"https://127.0.0.1:{AZURITE_BLOB_PORT}/{AZURITE_ACCOUNT}", ca=ca),
        "moto": SimpleNamespace(url=f"http://127.0.0.1:{args.moto_port}"),
        "vms": SimpleNamespace(url=f"https://127.0.0.1:{args.vms_port}", ca=ca),
    }


class LocalGcs:
    """demo-gcs: fake-gcs-server (a child process we own) and the Google token-service simulator (a thread),
    with the store's service-account key made at the first run under the state directory."""

    def __init__(self, port: int, state: Path):
        self.key_file = state / "service-account.json"
        key = ensure_service_account_key(self.key_file, DEMO_GCS_SERVICE_ACCOUNT, DEMO_GCS_PROJECT)
        self.google = GoogleSimulator()
        self.google.trust_key(key)
        self.google_apis_url = self.google.start()
        try:
            self.server = FakeGcsServer(port=port, workdir=state / "fake-gcs").start()
        except Exception:
            self.google.stop()
            raise
        self.url = self.server.url

    def stop(self) -> None:
        self.server.stop()
        self.google.stop()


def _start_vms(port: int, ca: Path, cert: Path, key: Path):
    """The VMS simulator over https (local CA) with a fresh API token for this run only."""
    import secrets

    token = secrets.token_urlsafe(24)
    os.environ[DEMO_VMS_TOKEN_ENV] = token
    vms = VmsSimulator(
        port=port, api_token=token, password=secrets.token_urlsafe(24), certfile=str(cert), keyfile=str(key)
    )
    vms.start()
    vms.ca = ca  # demo_stores points the store's ca_bundle here
    return vms


def _start_sweeper(service: VendingService, every: float) -> None:
    """Stand-in for the cloud timers: sweep expired VAST keys every ``every`` seconds."""
    import threading
    import time

    def loop():
        while True:
            time.sleep(every)
            try:
                service.reclaim_expired(budget_seconds=min(50.0, every))
            except Exception as exc:  # noqa: BLE001 - keep sweeping; the next run retries
                logging.getLogger("tvs.sweep").error("local sweep failed: %s", type(exc).__name__)

    if every > 0:
        threading.Thread(target=loop, name="tvs-local-sweep", daemon=True).start()


if __name__ == "__main__":
    os.environ.setdefault("TVS_MODE", "local")
    sys.exit(main())
