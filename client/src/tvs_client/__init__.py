"""Client of the token vending service: the ``tvs`` command and self-refreshing SDK credentials.

The core needs only the standard library. The cloud SDK helpers live in :mod:`tvs_client.sdk` and
import boto3, azure-storage-blob, s3fs or adlfs only when called (extras ``aws``, ``azure``,
``fsspec``; ``keyring`` keeps sign-ins in the OS keyring).

    from tvs_client import Client
    from tvs_client.sdk import boto3_session

    client = Client.from_profile()                 # the sign-in of `tvs login`
    s3 = boto3_session(client, "demo-s3", path="users/alice/", access="write").client("s3")
"""
from __future__ import annotations

from ._version import __version__

from .api import Client
from .errors import ApiRefusal, NotSignedIn, TvsError, Unreachable

__all__ = ["Client", "TvsError", "NotSignedIn", "ApiRefusal", "Unreachable", "__version__"]
