"""The vended ``storage_options`` in gcsfs's hands: reads, writes and lists under the granted prefix on
fake-gcs-server (which checks no token: what lies outside the prefix is refused by the token's
boundary, proven in test_access_boundary.py).

Against an emulator a gcsfs client turns off what needs Google itself: the look-up of a raw token's
expiry at Google's tokeninfo endpoint (``FETCH_RAW_TOKEN_EXPIRY=false``), and the experimental
filesystem's probe of the bucket's storage layout over gRPC, which fake-gcs-server does not speak
(``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false``, or ``gcsfs.core.GCSFileSystem``, as here).
"""

from __future__ import annotations

import uuid

import pytest

from tests.gcp.support import BUCKET, make_service, read, store_block, vend


@pytest.fixture
def filesystem(gcs, google, monkeypatch):
    from gcsfs.core import GCSFileSystem

    monkeypatch.setenv("FETCH_RAW_TOKEN_EXPIRY", "false")
    service = make_service(google, {"gcs": store_block(gcs)})
    cred = vend(service, groups=("team-a",), path="team-a/", access="write")
    return GCSFileSystem(**cred["storage_options"], skip_instance_cache=True)


def test_gcsfs_writes_under_the_granted_prefix_with_the_vended_options(filesystem, gcs):
    name = f"team-a/{uuid.uuid4().hex}.txt"
    with filesystem.open(f"{BUCKET}/{name}", "wb") as fh:
        fh.write(b"written by gcsfs")
    assert read(gcs, BUCKET, name) == b"written by gcsfs"


def test_gcsfs_reads_under_the_granted_prefix_with_the_vended_options(filesystem):
    assert filesystem.cat(f"{BUCKET}/team-a/seed.txt") == b"gcs-demo/team-a/seed.txt"


def test_gcsfs_lists_the_granted_prefix_with_the_vended_options(filesystem):
    assert f"{BUCKET}/team-a/seed.txt" in filesystem.ls(f"{BUCKET}/team-a/", detail=False)
