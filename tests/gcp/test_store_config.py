"""The ``gcs`` store block: every error names its key; emulator settings exist only in local mode."""

from __future__ import annotations

import pytest

from shared.config import parse_config
from shared.errors import ConfigError
from tests.gcp.support import IDP, PROVIDER, SIGNER
from tests.support import issuer_block

KEY = {"method": "service-account-key", "key": {"env": "GCS_KEY"}}


def parse(store: dict, mode: str = "local"):
    block = {"kind": "gcs", "bucket": "gcs-demo", "auth": KEY, **store}
    issuer = issuer_block(IDP) if mode == "local" else {"issuer": "https://idp.example", "audiences": ["api://tvs"]}
    return parse_config({"issuers": [issuer], "stores": {"g": block}}, mode=mode)


def error_key(store: dict, mode: str = "local") -> str:
    with pytest.raises(ConfigError) as err:
        parse(store, mode)
    return err.value.key


def test_a_key_store_with_defaults_is_valid():
    options = parse({}).stores["g"].options
    assert (options["endpoint_url"], options["auth"]["method"]) == (
        "https://storage.googleapis.com",
        "service-account-key",
    )


@pytest.mark.parametrize("bucket", ["GCS", "ab", "goog-x", "a-google-b", "10.0.0.1", "-bad-", "a" * 64])
def test_a_bucket_name_that_is_not_one_is_refused(bucket):
    assert error_key({"bucket": bucket}) == "stores.g.bucket"


def test_a_key_written_in_the_document_is_refused():
    assert (
        error_key({"auth": {"method": "service-account-key", "key": '{"private_key": "..."}'}}) == "stores.g.auth.key"
    )


def test_an_unknown_method_is_refused():
    assert error_key({"auth": {"method": "hmac"}}) == "stores.g.auth.method"


def test_a_field_of_another_method_is_refused():
    assert error_key({"auth": {**KEY, "audience": PROVIDER}}) == "stores.g.auth.audience"


def test_impersonate_must_be_a_service_account_email():
    assert error_key({"auth": {**KEY, "impersonate": "alice@example.com"}}) == "stores.g.auth.impersonate"


def test_token_lifetime_max_needs_impersonation():
    assert error_key({"auth": {**KEY, "token_lifetime_max": 7200}}) == "stores.g.auth.token_lifetime_max"


def test_token_lifetime_max_is_at_most_twelve_hours():
    auth = {**KEY, "impersonate": SIGNER, "token_lifetime_max": 43_201}
    assert error_key({"auth": auth}) == "stores.g.auth.token_lifetime_max"


def test_without_impersonation_a_store_maximum_below_the_source_tokens_hour_is_refused():
    assert error_key({"ttl": {"max": 900}}) == "stores.g.ttl.max"


def test_with_impersonation_a_short_store_maximum_is_valid():
    assert parse({"ttl": {"max": 900}, "auth": {**KEY, "impersonate": SIGNER}}).stores["g"].ttl_max == 900


def test_a_federation_audience_must_name_a_workload_identity_provider():
    auth = {
        "method": "workload-identity-federation",
        "audience": "//iam.googleapis.com/x",
        "subject_token": {"file": "/t"},
    }
    assert error_key({"auth": auth}) == "stores.g.auth.audience"


def test_a_federation_needs_exactly_one_subject_token_source():
    two = {"azure_audience": "api://AzureADTokenExchange", "file": "/t"}
    auth = {"method": "workload-identity-federation", "audience": PROVIDER, "subject_token": two}
    assert error_key({"auth": auth}) == "stores.g.auth.subject_token"


def test_client_id_applies_only_to_an_azure_subject_token():
    token = {"aws_region": "eu-west-3", "client_id": "x"}
    auth = {"method": "workload-identity-federation", "audience": PROVIDER, "subject_token": token}
    assert error_key({"auth": auth}) == "stores.g.auth.subject_token.client_id"


def test_an_aws_region_must_be_a_region_name():
    auth = {"method": "workload-identity-federation", "audience": PROVIDER, "subject_token": {"aws_region": "paris"}}
    assert error_key({"auth": auth}) == "stores.g.auth.subject_token.aws_region"


def test_a_federation_configuration_running_an_executable_is_refused():
    config = {"type": "external_account", "audience": PROVIDER, "credential_source": {"executable": {"command": "sh"}}}
    assert error_key({"auth": {"method": "credential-config", "config": config}}) == "stores.g.auth.config"


def test_a_credential_config_needs_exactly_one_of_config_and_config_file():
    assert error_key({"auth": {"method": "credential-config"}}) == "stores.g.auth"


def test_an_emulator_store_is_refused_in_deployed_mode():
    assert error_key({"emulator": True}, mode="deployed") == "stores.g.emulator"


def test_a_plain_http_endpoint_needs_an_emulator_store():
    assert error_key({"endpoint_url": "http://127.0.0.1:4443"}) == "stores.g.endpoint_url"


def test_the_google_apis_override_is_for_emulator_stores_only():
    assert error_key({"google_apis_url": "https://sts.example"}) == "stores.g.google_apis_url"


def test_a_project_must_be_a_project_id():
    assert error_key({"project": "My Project"}) == "stores.g.project"


def test_the_example_configuration_is_valid_in_deployed_mode():
    from shared.config import load_config

    config = load_config("examples/config.gcs.json", mode="deployed")
    assert {s.kind for s in config.stores.values()} == {"gcs"} and len(config.stores) == 3
