"""Provider registry: one module per store kind, imported on first use.

A provider module exposes ``validate_store`` (a config validator with a ``fields`` attribute)
and ``VENDOR`` (a :class:`~shared.providers.base.Vendor` subclass). Its cloud SDK is imported
inside its functions, never at module import. Adding a provider is adding a module and a line here.
"""
from __future__ import annotations

import importlib
from types import ModuleType

MODULES: dict[str, str] = {
    "azure-blob": "azure_blob",
    "aws-s3": "aws_s3",
    "vast-s3": "vast_s3",
}


def _module(kind: object) -> ModuleType | None:
    name = MODULES.get(kind) if isinstance(kind, str) else None
    return importlib.import_module(f"{__name__}.{name}") if name else None


def store_validator(kind: object):
    module = _module(kind)
    return module.validate_store if module else None


def vendor_class(kind: str):
    module = _module(kind)
    if module is None:  # configuration validation makes this unreachable
        raise KeyError(kind)
    return module.VENDOR
