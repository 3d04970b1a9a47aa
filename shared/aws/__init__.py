"""AWS S3 and S3-compatible storage (``aws-s3``), one concern per module (docs/aws.md):

- ``config``: the store block (light, loaded at start-up);
- ``vendor``: :class:`~shared.aws.vendor.AwsS3Vendor`, which imports boto3 on its first session;
- ``policy``: the session policy generated for a grant, pinned by golden files;
- ``sessions``: who we are to STS (session names, duration clamps) and minting a scoped session;
- ``sts``: the three STS calls with their errors mapped to problems;
- ``clients``: boto3 clients cached per endpoint and keys, and presigning with a cached signer;
- ``web_identity``: where AssumeRoleWithWebIdentity gets its token (Azure identity, a file);
- ``formats``: SDK-native shapes (credential_process, container credentials, Iceberg, s3fs, console).

No module here imports boto3, botocore or azure at import time.
"""

from __future__ import annotations

import re

from ..kinds import StoreKind
from .config import FIELDS, browser_origins, validate_store

# An STS session is known by its access key id.
KIND = StoreKind(
    name="aws-s3",
    fields=FIELDS,
    validate=validate_store,
    vendor="shared.aws.vendor:AwsS3Vendor",
    credential_ids=re.compile(r"^ASIA[A-Z0-9]{16}\Z"),
    browser_origins=browser_origins,
)
