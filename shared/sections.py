"""Typed reads from the configuration document: every error names the full key of what is wrong.

A :class:`Section` wraps one mapping of the document (``stores.sales``, ``issuers[0]``...) and
refuses unknown fields, wrong types and out-of-range values with a :class:`ConfigError` whose key
is the dotted path a person finds in the document (docs/design.md, Configuration).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError


class Section:
    """Typed reads from one mapping of the document, each error naming its full key."""

    def __init__(self, key: str, raw: object, allowed: tuple[str, ...]):
        if not isinstance(raw, Mapping):
            raise ConfigError(key, "must be an object")
        unknown = sorted(set(raw) - set(allowed))
        if unknown:
            raise ConfigError(self._join(key, unknown[0]), "unknown field")
        self.key, self.raw = key, raw

    @staticmethod
    def _join(key: str, name: str) -> str:
        return f"{key}.{name}" if key else name

    def path(self, name: str) -> str:
        return self._join(self.key, name)

    def has(self, name: str) -> bool:
        return name in self.raw

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = ..., *, choices=None) -> Any:
        if name not in self.raw:
            if default is ...:
                raise ConfigError(self.path(name), "is required")
            return default
        value = self.raw[name]
        if isinstance(value, bool) and kind is not bool and not (isinstance(kind, tuple) and bool in kind):
            raise ConfigError(self.path(name), f"must be {_kind_name(kind)}")
        if not isinstance(value, kind):
            raise ConfigError(self.path(name), f"must be {_kind_name(kind)}")
        if choices is not None and value not in choices:
            raise ConfigError(self.path(name), f"must be one of {', '.join(map(str, choices))}")
        return value

    def string(self, name: str, default: Any = ..., **kw) -> str:
        value = self.get(name, str, default, **kw)
        if value is not None and value == "" and default is ...:
            raise ConfigError(self.path(name), "must not be empty")
        return value

    def strings(self, name: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(name, (list, str), default)
        if isinstance(value, str):
            value = [value]
        if value is None:
            return ()
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise ConfigError(f"{self.path(name)}[{i}]", "must be a non-empty string")
        return tuple(value)

    def integer(self, name: str, default: Any = ..., lo: int | None = None, hi: int | None = None) -> Any:
        """An integer within ``[lo, hi]`` (or the default, which may be None)."""
        value = self.get(name, int, default)
        if value is None:
            return None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ConfigError(self.path(name), f"must be between {lo} and {hi}")
        return value

    def url(self, name: str, default: Any = ..., *, allow_http: bool = False) -> str | None:
        """An https URL with a host (plain http only where ``allow_http``: local mode, an emulator),
        without a trailing slash."""
        value = self.get(name, str, default)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
            raise ConfigError(self.path(name), "must be an https URL" + (" (or http)" if allow_http else ""))
        if not parts.hostname:
            raise ConfigError(self.path(name), "must be a URL with a host")
        return value.rstrip("/")

    def local_only(self, name: str, mode: str, what: str) -> bool:
        """A true/false setting that may be true only in local mode (an emulator store, the dev issuer)."""
        value = self.get(name, bool, False)
        if value and mode != "local":
            raise ConfigError(self.path(name), f"{what} are allowed only in local mode (TVS_MODE=local)")
        return value

    def section(self, name: str, allowed: tuple[str, ...], default: Any = ...) -> Section:
        if name not in self.raw:
            if default is ...:
                raise ConfigError(self.path(name), "is required")
            return Section(self.path(name), default, allowed)
        return Section(self.path(name), self.raw[name], allowed)


def _kind_name(kind) -> str:
    names = {
        str: "a string",
        int: "an integer",
        bool: "true or false",
        list: "a list",
        dict: "an object",
        float: "a number",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)
