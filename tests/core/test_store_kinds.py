"""The store-kind contract: each registered kind declares itself, its vendor is of the type its
revocability says, and each kind recognises its own credential ids only."""

from __future__ import annotations

import re

import pytest

from shared.kinds import PACKAGES, RevocableStoreKind, StoreKind, store_kind
from shared.kinds.contract import RevocableVendor, Vendor

EXAMPLE_IDS = {
    "azure-blob": "sas-0123456789abcdef01234567",
    "aws-s3": "ASIAEXAMPLEEXAMPLE12",
    "vast-s3": "vast.demo-vast.0b8f7c1e-2f5a-4c0e-9d7a-1e2f3a4b5c6d",
    "gcs": "gcs-0123456789abcdef01234567",
}


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_every_registered_kind_declares_its_name_fields_and_vendor(name):
    kind = store_kind(name)
    assert isinstance(kind, StoreKind) and kind.name == name and kind.fields
    assert issubclass(kind.vendor_class(), Vendor) and kind.vendor_class().provider == name


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_a_kind_is_revocable_exactly_when_its_vendor_is_a_revocable_vendor(name):
    kind = store_kind(name)
    assert isinstance(kind, RevocableStoreKind) == issubclass(kind.vendor_class(), RevocableVendor)


def test_a_revocable_vendor_must_implement_revoke_and_reclaim_expired():
    class Half(RevocableVendor):
        provider = "half"

        def issue(self, grant):
            raise NotImplementedError

        def owner_of(self, credential_id):
            return None

        def revoke(self, credential_id, reason):
            pass

        def describe(self, record):
            return {}

    with pytest.raises(TypeError):
        Half(None, None)


def test_a_kind_declared_revocable_with_a_plain_vendor_is_refused():
    fake = RevocableStoreKind(
        name="azure-blob",
        fields=("x",),
        validate=lambda s, c: {},
        vendor="shared.azure.vendor:AzureBlobVendor",
        credential_ids=re.compile("x"),
    )
    with pytest.raises(TypeError):
        fake.vendor_class()


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_each_kind_owns_its_own_credential_ids_and_no_other_kinds(name):
    for other, cid in EXAMPLE_IDS.items():
        assert store_kind(name).owns(cid, "demo-vast") == (other == name)


def test_a_self_routing_id_belongs_only_to_the_store_it_names():
    assert not store_kind("vast-s3").owns(EXAMPLE_IDS["vast-s3"], "other-store")


def test_an_unknown_kind_is_none():
    assert store_kind("ftp") is None and store_kind(None) is None
