"""AWS S3 and S3-compatible storage, one concern per module (used by ``shared.providers.aws_s3``).

- ``policy``: the session policy generated for a grant (DESIGN §4), pinned by golden files.
- ``sessions``: who we are to STS (session names, duration clamps) and minting a scoped session.
- ``sts``: the STS client factory and the three STS calls with their errors mapped to problems.
- ``web_identity``: where AssumeRoleWithWebIdentity gets its token (Azure identity, a file).
- ``formats``: SDK-native shapes (credential_process, container credentials, Iceberg, s3fs, console).

No module here imports boto3, botocore or azure at import time.
"""
