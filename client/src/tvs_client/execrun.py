"""``tvs exec``: run a command with a credential in its environment.

Without ``--refresh`` the child gets the credential in environment variables (``AWS_*`` for S3
stores and VAST, ``AZURE_STORAGE_*`` for Azure). Environment variables of a running process cannot
be changed from outside, so the child must finish before the credential expires.

With ``--refresh`` the credential is also written to files that are rewritten atomically (a new
file renamed over the old one, mode 0600) each time it is renewed by the half-life rule:

- S3-shaped stores: an AWS shared-credentials file named by ``AWS_SHARED_CREDENTIALS_FILE``
  (profile ``default``), and the key variables are *not* set (they would win over the file).
  Every new AWS CLI run, and every new SDK session, reads the current file; an SDK client that is
  already running keeps the keys it read (botocore loads that file once, as static credentials).
- every store: ``TVS_CREDENTIALS_FILE`` names a JSON file with the service's whole answer, for
  scripts that re-read it. No Azure tool reads it by itself; ``AZURE_STORAGE_SAS_TOKEN`` stays the
  first SAS.

Exit status: the child's (128 + N when a signal N ended it; 127 when the command is not found).
Revocable credentials (VAST key pairs) this run obtained are revoked when the child ends, unless
``--keep``.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Sequence, TextIO

from . import shapes
from .api import Client
from .config import write_private
from .errors import TvsError
from .renew import Lease, Renewer

REVOCABLE_PROVIDERS = ("vast-s3",)


class _Files:
    """The files of ``--refresh``, in a private temporary directory removed at the end."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="tvs-exec-"))  # mode 0700
        self.aws = self.directory / "credentials"
        self.json = self.directory / "credential.json"

    def write(self, answer: dict) -> None:
        import json

        if shapes.kind_of(answer) == "s3":
            write_private(self.aws, shapes.shared_credentials_text(answer).encode())
        write_private(self.json, (json.dumps(answer, indent=2) + "\n").encode())

    def environment(self, answer: dict) -> dict[str, str | None]:
        # the expiry variables would be stale after the first renewal: the files say it
        out: dict[str, str | None] = {"TVS_CREDENTIALS_FILE": str(self.json), "TVS_EXPIRES_AT": None,
                                      "AWS_CREDENTIAL_EXPIRATION": None}
        if shapes.kind_of(answer) == "s3":
            out.update({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None,
                        "AWS_SHARED_CREDENTIALS_FILE": str(self.aws)})
        return out

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def run(client: Client, store: str, argv: Sequence[str], *, path: str = "", access: str = "read",
        ttl: int | None = shapes.AWS_DEFAULT_TTL_SECONDS, refresh: bool = False, keep: bool = False,
        err: TextIO | None = None, renewer: Renewer | None = None) -> int:
    err = err or sys.stderr
    if not argv:
        raise TvsError("tvs exec needs a command after '--'")
    shapes.check_request(store, path, access, ttl)
    renewer = renewer or Renewer(lambda: client.credential_with_expiry(store, path, access, ttl, "native"),
                                 name=f"credential for {store}")
    minted: list[dict] = []
    renewer.on_renewed.append(lambda lease: minted.append(lease.value))
    lease = renewer.get()
    answer = lease.value
    variables = shapes.env_vars(answer, isolate=True)
    files = stop = thread = None
    try:
        if refresh:
            files = _Files()
            files.write(answer)
            variables.update(files.environment(answer))
            stop = threading.Event()
            thread = threading.Thread(target=_keep_fresh, args=(renewer, lease, files, stop, err),
                                      name="tvs-exec-renew", daemon=True)
            thread.start()
        status = _run_child(list(argv), shapes.apply_env(os.environ, variables), err)
        if not refresh and renewer.clock() > lease.expires_at:
            print(f"tvs exec: the credential expired at {answer.get('expires_at')} while the command ran; for long "
                  "runs ask for a longer --ttl or use --refresh", file=err)
        return status
    finally:
        if stop is not None:
            stop.set()
            thread.join(timeout=5)
        if files is not None:
            files.remove()
        if not keep:
            _revoke(client, minted, err)


def _keep_fresh(renewer: Renewer, lease: Lease, files: _Files, stop: threading.Event, err: TextIO) -> None:
    current = lease
    while not stop.wait(max(0.05, renewer.due_in())):
        try:
            fresh = renewer.get()
        except TvsError as exc:
            print(f"tvs exec: cannot renew the credential: {exc}", file=err)
            stop.wait(5)
            continue
        if fresh is not current:
            if fresh.value is not current.value:
                try:
                    files.write(fresh.value)
                except OSError as exc:
                    print(f"tvs exec: cannot rewrite the credentials file: {exc.strerror}", file=err)
            current = fresh


def _run_child(argv: list[str], env: dict[str, str], err: TextIO) -> int:
    try:
        child = subprocess.Popen(argv, env=env)
    except FileNotFoundError:
        print(f"tvs exec: command not found: {argv[0]}", file=err)
        return 127
    except PermissionError:
        print(f"tvs exec: permission denied: {argv[0]}", file=err)
        return 126
    # Ctrl-C reaches the child from the terminal by itself; TERM and HUP sent to tvs are passed on.
    forwarded = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {}
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        for sig in forwarded:
            previous[sig] = signal.signal(sig, lambda signum, frame: child.send_signal(signum))
    try:
        status = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - status if status < 0 else status


def _revoke(client: Client, minted: list[dict], err: TextIO) -> None:
    for answer in minted:
        if answer.get("provider") in REVOCABLE_PROVIDERS and answer.get("credential_id"):
            try:
                client.revoke(answer["credential_id"])
            except TvsError as exc:
                print(f"tvs exec: could not revoke {answer['credential_id']} (it expires by itself at "
                      f"{answer.get('expires_at')}): {exc}", file=err)
