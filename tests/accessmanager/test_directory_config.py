"""The accessmanager section of the configuration: validated at start-up, every error naming its key."""

from __future__ import annotations

import copy

import pytest

from shared.config import parse_config
from shared.errors import ConfigError

BASE = {
    "issuers": [
        {"name": "dev", "issuer": "http://127.0.0.1:7071/dev-idp", "audiences": ["a"], "jwks_uri": "http://x/jwks"}
    ],
    "stores": {
        "acct": {
            "kind": "azure-blob",
            "account_url": "https://acct.blob.core.windows.net",
            "container": "c",
            "auth": {"method": "managed-identity"},
        },
        "bucket": {
            "kind": "aws-s3",
            "bucket": "org-bucket",
            "region": "eu-west-3",
            "auth": {
                "method": "web-identity",
                "role_arn": "arn:aws:iam::123456789012:role/r",
                "token": {"file": "/var/run/token"},
            },
        },
    },
    "accessmanager": {
        "organizations": {
            "demo": {
                "id": 1,
                "store": "acct",
                "confidentiality": "public",
                "spaces": {"loadingzone": {"confidentiality": "internal"}, "main": {"confidentiality": "private"}},
            }
        }
    },
}


def error(mutate) -> str:
    doc = copy.deepcopy(BASE)
    mutate(doc)
    with pytest.raises(ConfigError) as err:
        parse_config(doc, mode="local")
    return str(err.value)


def org(doc):
    return doc["accessmanager"]["organizations"]["demo"]


def test_the_section_parses_with_that_services_defaults():
    am = parse_config(copy.deepcopy(BASE), mode="local").accessmanager
    assert (am.sas.read_minutes, am.sas.write_minutes, am.sas.delete_minutes, am.sas.buffer_minutes) == (60, 60, 60, 2)
    assert (am.roles_from, am.create_containers, am.notifier["kind"]) == ("roles", False, "log")
    assert am.organizations["demo"].spaces["main"].container == "main"


def test_every_organization_needs_a_loadingzone():
    assert error(lambda d: org(d)["spaces"].pop("loadingzone")).startswith(
        "accessmanager.organizations.demo.spaces.loadingzone: is required"
    )


def test_an_unknown_store_names_the_key():
    assert error(lambda d: org(d).update(store="nope")).startswith("accessmanager.organizations.demo.store:")


def test_an_organization_name_is_a_storage_account_name():
    def rename(d):
        d["accessmanager"]["organizations"]["Demo_1"] = d["accessmanager"]["organizations"].pop("demo")

    assert error(rename).startswith("accessmanager.organizations.Demo_1:")


@pytest.mark.parametrize("name", ["spc", "org"])
def test_the_names_the_role_prefixes_use_are_reserved(name):
    def rename(d):
        d["accessmanager"]["organizations"][name] = d["accessmanager"]["organizations"].pop("demo")

    assert "reserved" in error(rename)


def test_a_confidentiality_is_public_internal_or_private():
    msg = error(lambda d: org(d)["spaces"]["main"].update(confidentiality="secret"))
    assert msg.startswith("accessmanager.organizations.demo.spaces.main.confidentiality: must be one of")


def test_a_space_container_must_be_a_container_name():
    msg = error(lambda d: org(d)["spaces"]["main"].update(container="-main"))
    assert msg.startswith("accessmanager.organizations.demo.spaces.main.container:")


def test_two_spaces_never_share_a_container():
    msg = error(lambda d: org(d)["spaces"]["main"].update(container="loadingzone"))
    assert msg.startswith("accessmanager.organizations.demo.spaces.main.container:") and "already belongs" in msg


def test_two_organizations_never_share_an_id():
    def twin(d):
        other = copy.deepcopy(org(d))
        other["spaces"] = {"loadingzone": {"container": "other-lz", "confidentiality": "internal"}}
        d["accessmanager"]["organizations"]["other"] = other

    assert error(twin).startswith("accessmanager.organizations.other.id: duplicate id 1")


def test_the_sas_buffer_must_be_shorter_than_every_lifetime():
    msg = error(lambda d: d["accessmanager"].update(sas={"expiration": {"read": 5}, "cache": {"buffer": 5}}))
    assert msg.startswith("accessmanager.sas.cache.buffer:")


def test_a_lifetime_beyond_the_services_ttl_ceiling_is_refused():
    def long(d):
        d["limits"] = {"max_ttl_seconds": 3600}
        d["accessmanager"]["sas"] = {"expiration": {"delete": 61}}

    assert error(long).startswith("accessmanager.sas.expiration.delete: must be between 1 and 60")


def test_an_unknown_field_names_its_key():
    assert error(lambda d: org(d)["spaces"]["main"].update(owner="x")) == (
        "accessmanager.organizations.demo.spaces.main.owner: unknown field"
    )


def test_roles_come_from_roles_or_groups():
    assert error(lambda d: d["accessmanager"].update(roles_from="scopes")).startswith("accessmanager.roles_from:")


def test_with_several_issuers_each_organization_names_its_issuers():
    def second(d):
        d["issuers"].append({**d["issuers"][0], "name": "other", "issuer": "http://127.0.0.1:7071/other"})
        d["grants"] = []

    assert error(second).startswith("accessmanager.organizations.demo.issuers: is required")


def test_an_event_hubs_notifier_by_identity_needs_its_namespace():
    msg = error(lambda d: d["accessmanager"].update(notifier={"kind": "event-hubs"}))
    assert msg.startswith("accessmanager.notifier.fully_qualified_namespace: is required")


def test_an_event_hubs_connection_string_is_a_secret_reference_never_a_literal():
    notifier = {
        "kind": "event-hubs",
        "auth": "connection-string",
        "connection_string": "Endpoint=sb://x/;SharedAccessKey=k",
    }
    assert error(lambda d: d["accessmanager"].update(notifier=notifier)).startswith(
        "accessmanager.notifier.connection_string:"
    )


def test_an_eventbridge_notifier_needs_its_region():
    msg = error(lambda d: d["accessmanager"].update(notifier={"kind": "eventbridge"}))
    assert msg.startswith("accessmanager.notifier.region: is required")


def test_an_eventbridge_emulator_endpoint_is_local_only():
    doc = copy.deepcopy(BASE)
    doc["issuers"][0] = {"issuer": "https://idp.example", "audiences": ["a"], "jwks_uri": "https://idp.example/jwks"}
    doc["accessmanager"]["notifier"] = {
        "kind": "eventbridge",
        "region": "eu-west-3",
        "emulator": True,
        "endpoint_url": "http://127.0.0.1:5000",
    }
    with pytest.raises(ConfigError) as err:
        parse_config(doc, mode="deployed")
    assert str(err.value).startswith("accessmanager.notifier.emulator:")


def test_an_s3_backed_organization_is_accepted():
    doc = copy.deepcopy(BASE)
    org(doc)["store"] = "bucket"
    assert parse_config(doc, mode="local").accessmanager.organizations["demo"].provider == "aws-s3"
