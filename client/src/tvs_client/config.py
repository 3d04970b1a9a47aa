"""Profiles (where the service and the identity provider are) and private files.

The configuration file is ``config.json`` in the user's configuration directory, or in
``$TVS_CONFIG_DIR`` when it is set::

    {"profiles": {"default": {"service": "https://tvs.example.org", "issuer": "https://idp.example/realms/x",
                              "client_id": "tvs-cli", "scopes": ["openid"], "flow": "device", ...}}}

It holds no secret. Tokens live in the OS keyring or in ``tokens/<profile>.json`` beside it
(see :mod:`tvs_client.tokens`).
"""
from __future__ import annotations

import json
import os
import sys
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import UsageError

DEFAULT_SERVICE = "http://127.0.0.1:7071"
PROFILE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def config_dir() -> Path:
    """``$TVS_CONFIG_DIR``, else the platform's per-user configuration directory + ``tvs``."""
    override = os.environ.get("TVS_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / "tvs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "tvs"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "tvs"


def check_profile_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= PROFILE_NAME_CHARS or name.startswith("."):
        raise UsageError(f"a profile name is 1-64 characters of letters, digits, '-', '_' and '.', not {name!r}")
    return name


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700 where it does not exist yet."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data`` in a file that is created with mode 0600.

    The file is created by ``os.open(..., 0o600)`` under a temporary name in the same directory and
    renamed over ``path``: its content is never readable by others, not even for an instant, and
    no reader ever sees half a file. (No chmod after writing.)
    """
    private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o600)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 name collisions
        raise OSError(f"cannot create a temporary file beside {path}")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@dataclass
class Profile:
    name: str = "default"
    service: str | None = None
    issuer: str | None = None
    client_id: str | None = None
    scopes: list[str] = field(default_factory=list)
    flow: str | None = None            # "device", "code" or "dev"
    token_endpoint: str | None = None
    revocation_endpoint: str | None = None
    redirect_port: int | None = None
    redirect_host: str | None = None
    ca_file: str | None = None
    dev_sub: str | None = None
    dev_groups: list[str] = field(default_factory=list)

    def service_url(self, override: str | None = None) -> str:
        """The ``--service`` flag, else this profile's, else ``$TVS_URL``, else the local service."""
        return (override or self.service or os.environ.get("TVS_URL") or DEFAULT_SERVICE).rstrip("/")

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "name" and v not in (None, [], "")}


def _config_file() -> Path:
    return config_dir() / "config.json"


def _read_all() -> dict:
    path = _config_file()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"profiles": {}}
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the configuration file {path}: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("profiles", {}), dict):
        raise UsageError(f"the configuration file {path} is not a tvs configuration")
    doc.setdefault("profiles", {})
    return doc


def load_profile(name: str | None = None) -> Profile:
    """The saved profile ``name`` (``$TVS_PROFILE``, else ``default``); an empty one if not saved."""
    name = check_profile_name(name or os.environ.get("TVS_PROFILE") or "default")
    raw = _read_all()["profiles"].get(name) or {}
    known = {k: v for k, v in raw.items() if k in Profile.__dataclass_fields__ and k != "name"}
    return Profile(name=name, **known)


def save_profile(profile: Profile) -> Path:
    doc = _read_all()
    doc["profiles"][profile.name] = profile.to_json()
    path = _config_file()
    write_private(path, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())
    return path
