"""Azure Blob Storage and ADLS Gen2 (``azure-blob``): container, directory and blob SAS.

- ``config``: the store block (light, loaded at start-up);
- ``vendor``: :class:`~shared.azure.vendor.AzureBlobVendor`, which imports azure-storage-blob and
  azure-identity on its first SAS.
"""

from __future__ import annotations

import re

from ..kinds import StoreKind
from .config import FIELDS, browser_origins, validate_store

# A SAS has no id of its own: each issuance gets "sas-<24 hex>" (in a user-delegation SAS, also its scid).
KIND = StoreKind(
    name="azure-blob",
    fields=FIELDS,
    validate=validate_store,
    vendor="shared.azure.vendor:AzureBlobVendor",
    credential_ids=re.compile(r"^sas-[0-9a-f]{24}\Z"),
    browser_origins=browser_origins,
)
