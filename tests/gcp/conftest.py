"""The GCS tests' world: fake-gcs-server with two seeded buckets, and a fresh Google simulator per test."""

from __future__ import annotations

import pytest

from tests.gcp.support import BUCKET, OTHER_BUCKET, SEEDED, seed, simulator


@pytest.fixture(scope="session")
def gcs(fake_gcs):
    """fake-gcs-server with buckets ``gcs-demo`` and ``gcs-other``, each seeded with a few objects."""
    for bucket in (BUCKET, OTHER_BUCKET):
        fake_gcs.create_bucket(bucket)
        for name in SEEDED:
            seed(fake_gcs, bucket, name, f"{bucket}/{name}".encode())
    return fake_gcs


@pytest.fixture
def google():
    """Google's token services, in process, with the tests' key trusted and one federation provider."""
    return simulator()
