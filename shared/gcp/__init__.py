"""Google Cloud Storage (``gcs``): V4 signed URLs and downscoped tokens (docs/gcs.md).

- ``config``: the store block (light, loaded at start-up);
- ``names``: GCS bucket and object name rules beyond the core's literal paths;
- ``boundary``: the Credential Access Boundary of a grant, pinned by golden files;
- ``google_http``: the HTTP transport google-auth calls through, and Google's errors as problems;
- ``sources``: the source credentials (a key, application default credentials, a federation
  configuration, the service's own Azure or AWS identity), optionally impersonating a service account;
- ``vendor``: :class:`~shared.gcp.vendor.GcsVendor`.

No module here imports google-auth or google-cloud-storage at import time.
"""

from __future__ import annotations

import re

from ..kinds import StoreKind
from .config import FIELDS, validate_store

# A downscoped token has no id of its own: each issuance gets "gcs-<24 hex>"; a signed URL "gcsurl-<24 hex>".
KIND = StoreKind(
    name="gcs",
    fields=FIELDS,
    validate=validate_store,
    vendor="shared.gcp.vendor:GcsVendor",
    credential_ids=re.compile(r"^gcs(?:url)?-[0-9a-f]{24}\Z"),
)
