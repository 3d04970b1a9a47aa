"""The registry of store kinds: a kind's name -> the package of its cloud (docs/design.md, Store kinds).

Looking a kind up imports only its light declaration (``shared.<cloud>/__init__.py`` and its
``config.py``); the vendor, and with it the cloud SDK, is imported when a store first issues a
credential. Adding a store kind is adding a package and a line to :data:`PACKAGES`
(CONTRIBUTING.md, "Adding a store kind").
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..sections import Section
from .contract import RevocableVendor, Vendor

PACKAGES: dict[str, str] = {
    "azure-blob": "shared.azure",
    "aws-s3": "shared.aws",
    "vast-s3": "shared.vast",
    "gcs": "shared.gcp",
}


@dataclass(frozen=True)
class ValidationContext:
    """What a store block's validation may know besides the block: the mode and the issuers' names."""

    mode: str
    issuers: tuple[str, ...] = ()

    @property
    def local(self) -> bool:
        return self.mode == "local"


@dataclass(frozen=True)
class StoreKind:
    """The declaration of a store kind, imported at start-up; its vendor is imported on first use.

    - ``name``: the ``kind`` of a store block (``azure-blob``);
    - ``fields``: the fields of a store block besides ``kind``, ``description`` and ``ttl``;
    - ``validate``: checks a store block and returns its normalized options (errors name the key);
    - ``vendor``: ``"module:Class"`` of its :class:`~shared.kinds.contract.Vendor`;
    - ``credential_ids``: the shape of the credential ids its vendor hands out. A named group
      ``store`` (self-routing ids) must equal the store's id;
    - ``browser_origins``: the web origins a browser reaches with the store's signed URLs, from its
      normalized options (the self-service page may connect there); none by default.
    """

    name: str
    fields: tuple[str, ...]
    validate: Callable[[Section, ValidationContext], dict[str, Any]]
    vendor: str
    credential_ids: re.Pattern[str]
    browser_origins: Callable[[Mapping[str, Any]], tuple[str, ...]] = lambda options: ()

    revocable = False

    def vendor_class(self) -> type[Vendor]:
        module, _, attr = self.vendor.partition(":")
        cls = getattr(importlib.import_module(module), attr)
        if self.revocable != issubclass(cls, RevocableVendor):
            raise TypeError(f"store kind {self.name}: a revocable kind's vendor is a RevocableVendor, and only its")
        return cls

    def owns(self, credential_id: str, store_id: str) -> bool:
        """True when ``credential_id`` is one this kind hands out for store ``store_id``."""
        m = self.credential_ids.match(credential_id)
        return m is not None and m.groupdict().get("store", store_id) == store_id


@dataclass(frozen=True)
class RevocableStoreKind(StoreKind):
    """A kind whose credentials live until taken back: recorded in the ledger, revocable one by one
    and reclaimed by the sweep at expiry. Its vendor is a :class:`~shared.kinds.contract.RevocableVendor`."""

    revocable = True


def store_kind(name: object) -> StoreKind | None:
    """The declaration of kind ``name``, or None for a name that is not a kind."""
    package = PACKAGES.get(name) if isinstance(name, str) else None
    return importlib.import_module(package).KIND if package else None


def kind_of(name: str) -> StoreKind:
    """The declaration of a configured store's kind (validation made it one)."""
    kind = store_kind(name)
    if kind is None:
        raise KeyError(name)
    return kind


__all__ = ["PACKAGES", "StoreKind", "RevocableStoreKind", "ValidationContext", "kind_of", "store_kind"]
