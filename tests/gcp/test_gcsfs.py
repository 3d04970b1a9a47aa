"""The vended ``storage_options`` in gcsfs's hands, on fake-gcs-server behind a proxy that enforces the
token's boundary (``enforcing_proxy``: the emulator itself checks no token): gcsfs reads, writes and
lists under the granted prefix, and is refused beside it (``team-ab/``), above it and beyond its level.

Against an emulator a gcsfs client turns off what needs Google itself: the look-up of a raw token's
expiry at Google's tokeninfo endpoint (``FETCH_RAW_TOKEN_EXPIRY=false``), and the experimental
filesystem's probe of the bucket's storage layout over gRPC, which fake-gcs-server does not speak
(``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false``, or ``gcsfs.core.GCSFileSystem``, as here).
"""

from __future__ import annotations

import uuid

import pytest

from tests.gcp.enforcing_proxy import EnforcingProxy
from tests.gcp.support import BUCKET, make_service, read, seed, store_block, vend


@pytest.fixture
def proxy(gcs, google):
    proxy = EnforcingProxy(gcs.url, google)
    yield proxy
    proxy.stop()


@pytest.fixture
def filesystem(proxy, google, monkeypatch):
    """gcsfs with a token for 'write' under team-a/, reaching the emulator through the proxy."""
    from gcsfs.core import GCSFileSystem

    monkeypatch.setenv("FETCH_RAW_TOKEN_EXPIRY", "false")
    service = make_service(google, {"gcs": store_block(proxy)})  # the proxy stands where the emulator would
    cred = vend(service, groups=("team-a",), path="team-a/", access="write")
    assert cred["storage_options"]["endpoint_url"] == proxy.url
    return GCSFileSystem(**cred["storage_options"], skip_instance_cache=True, retries=1)


def test_gcsfs_writes_under_the_granted_prefix_with_the_vended_options(filesystem, gcs):
    name = f"team-a/{uuid.uuid4().hex}.txt"
    with filesystem.open(f"{BUCKET}/{name}", "wb") as fh:
        fh.write(b"written by gcsfs")
    assert read(gcs, BUCKET, name) == b"written by gcsfs"


def test_gcsfs_reads_under_the_granted_prefix_with_the_vended_options(filesystem):
    assert filesystem.cat(f"{BUCKET}/team-a/seed.txt") == b"gcs-demo/team-a/seed.txt"


def test_gcsfs_lists_the_granted_prefix_with_the_vended_options(filesystem):
    assert f"{BUCKET}/team-a/seed.txt" in filesystem.ls(f"{BUCKET}/team-a/", detail=False)


def test_gcsfs_is_refused_beside_the_granted_prefix(filesystem, proxy):
    with pytest.raises(OSError):
        filesystem.cat(f"{BUCKET}/team-ab/seed.txt")
    with pytest.raises(OSError):
        filesystem.pipe(f"{BUCKET}/team-ab/new.txt", b"x")
    assert proxy.refused


def test_gcsfs_cannot_list_above_the_granted_prefix(filesystem, proxy):
    with pytest.raises(OSError):
        filesystem.ls(f"{BUCKET}/", detail=False)
    assert any(r.startswith(f"GET /storage/v1/b/{BUCKET}/o?") for r in proxy.refused)


def test_gcsfs_cannot_delete_with_a_write_token(filesystem, gcs, proxy):
    seed(gcs, BUCKET, "team-a/keep.txt", b"keep")
    with pytest.raises(OSError):
        filesystem.rm(f"{BUCKET}/team-a/keep.txt")
    assert read(gcs, BUCKET, "team-a/keep.txt") == b"keep"
    assert any(r.startswith("DELETE ") for r in proxy.refused)


def test_gcsfs_cannot_reach_another_bucket(filesystem, proxy):
    with pytest.raises(OSError):
        filesystem.cat("gcs-other/team-a/seed.txt")
    assert any("/b/gcs-other/" in r for r in proxy.refused)


def test_a_delete_token_for_the_whole_bucket_passes_the_proxy(proxy, google, gcs, monkeypatch):
    from gcsfs.core import GCSFileSystem

    monkeypatch.setenv("FETCH_RAW_TOKEN_EXPIRY", "false")
    cred = vend(make_service(google, {"gcs": store_block(proxy)}), groups=("deleters",), access="delete")
    fs = GCSFileSystem(**cred["storage_options"], skip_instance_cache=True, retries=1)
    seed(gcs, BUCKET, "scratch/x.txt", b"x")
    fs.rm(f"{BUCKET}/scratch/x.txt")
    assert read(gcs, BUCKET, "scratch/x.txt") is None and f"{BUCKET}/seed.txt" in fs.ls(f"{BUCKET}/", detail=False)
