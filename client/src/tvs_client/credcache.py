"""A private cache of ``tvs credential-process`` answers.

An AWS tool runs its ``credential_process`` command at start and again when fewer than 15 minutes
are left; each ``aws`` command is a new process, so without a cache every command would vend a new
credential (for a VAST store: a new key pair, and a user holds at most two). An answer is reused
until its renewal point by the half-life rule of :mod:`tvs_client.renew`, then replaced.

Files: ``<config dir>/cache/<profile>/<sha256 of the request>.json``, mode 0600 in 0700
directories (they hold the secret key). ``tvs login`` and ``tvs logout`` remove the profile's cache.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Callable

from .config import config_dir, write_private
from .renew import plan


class CredentialCache:
    def __init__(self, profile: str, clock: Callable[[], float] = time.time):
        self.directory: Path = config_dir() / "cache" / profile
        self.clock = clock

    @staticmethod
    def key(*parts: object) -> str:
        return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()[:40]

    def get(self, key: str) -> dict | None:
        try:
            entry = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
            if self.clock() < float(entry["renew_at"]):
                return entry["answer"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return None

    def put(self, key: str, answer: dict, expires_at: float) -> None:
        lease = plan(None, expires_at, self.clock())
        entry = {"renew_at": lease.renew_at, "expires_at": expires_at, "answer": answer}
        try:
            write_private(self.directory / f"{key}.json", json.dumps(entry).encode())
        except OSError:
            pass  # a cache that cannot be written only costs another vend next time

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
