"""VAST Data S3 keys (``vast-s3``): per-user key pairs from the VMS API, ledgered and revocable.

- ``config``: the store block (light, loaded at start-up);
- ``vendor``: :class:`~shared.vast.vendor.VastS3Vendor` (issue, revoke, reclaim expired keys);
- ``mapping``: which VAST user a caller's keys belong to;
- ``lifecycle``: one store's keys through the ledger: issue, revoke, reconcile;
- ``reclaim``: the sweep of one store;
- ``vms_client``: the VMS REST client (standard library only).

Nothing here imports a cloud SDK.
"""

from __future__ import annotations

import re

from ..kinds import RevocableStoreKind
from .config import FIELDS, validate_store

# Self-routing: "vast.<store>.<uuid>" names the store that can take the key back.
KIND = RevocableStoreKind(
    name="vast-s3",
    fields=FIELDS,
    validate=validate_store,
    vendor="shared.vast.vendor:VastS3Vendor",
    credential_ids=re.compile(r"^vast\.(?P<store>[a-z0-9][a-z0-9-]{0,62})\.[0-9a-f-]{36}\Z"),
)
