"""Secret references: configuration names where a secret lives, never the secret itself.

A reference is one of ``{"env": NAME}``, ``{"file": PATH}``,
``{"aws_secretsmanager": ID, "json_key": K?}`` or ``{"aws_ssm": NAME}``. On Azure, Key Vault
references already arrive as app settings, so ``env`` covers them. Values are resolved on first
use and kept for the life of the process (a rotated secret is picked up by the next cold start).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping

from .errors import ConfigError, unavailable

log = logging.getLogger("tvs.secrets")
KINDS = ("env", "file", "aws_secretsmanager", "aws_ssm")


def validate_ref(key: str, raw: object) -> dict:
    """Check that ``raw`` is a reference (not a literal secret) and return it normalized."""
    if isinstance(raw, str):
        raise ConfigError(
            key, "secrets are never written in the configuration; use {\"env\": NAME} or another reference"
        )
    if not isinstance(raw, Mapping):
        raise ConfigError(key, "must be a secret reference object")
    kinds = [k for k in KINDS if k in raw]
    if len(kinds) != 1:
        raise ConfigError(key, f"must name exactly one of {', '.join(KINDS)}")
    unknown = set(raw) - set(KINDS) - {"json_key"}
    if unknown:
        raise ConfigError(f"{key}.{sorted(unknown)[0]}", "unknown field")
    value = raw[kinds[0]]
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}.{kinds[0]}", "must be a non-empty string")
    return dict(raw)


class SecretResolver:
    """Resolves references once per process, thread-safe."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self._environ = environ if environ is not None else os.environ
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def resolve(self, ref: Mapping) -> str:
        cache_key = json.dumps(ref, sort_keys=True)
        with self._lock:
            if cache_key in self._cache:
                return self._cache[cache_key]
        try:
            value = self._fetch(ref)
            if "json_key" in ref:
                value = str(json.loads(value)[ref["json_key"]])
        except Exception as exc:  # noqa: BLE001 - a missing file, a missing json_key, an AWS error: never a 500
            kind = next(k for k in KINDS if k in ref)
            log.error("secret reference %s:%s cannot be resolved (%s)", kind, ref[kind], type(exc).__name__)
            raise unavailable(
                "a secret this store needs cannot be resolved; its operators find the reason in the log",
                slug="secret-missing",
            ) from None
        with self._lock:
            self._cache[cache_key] = value
        return value

    def _fetch(self, ref: Mapping) -> str:
        if "env" in ref:
            return self._environ[ref["env"]]  # a KeyError is logged by resolve(), never shown to the caller
        if "file" in ref:
            with open(ref["file"], encoding="utf-8") as fh:
                return fh.read().strip()
        import boto3  # only deployments that keep secrets in AWS pay for this import

        if "aws_secretsmanager" in ref:
            client = boto3.client("secretsmanager")
            return client.get_secret_value(SecretId=ref["aws_secretsmanager"])["SecretString"]
        client = boto3.client("ssm")
        return client.get_parameter(Name=ref["aws_ssm"], WithDecryption=True)["Parameter"]["Value"]
