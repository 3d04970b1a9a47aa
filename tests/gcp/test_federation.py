"""Workload identity federation: the service's own Azure managed identity or AWS role becomes a Google
credential with no Google secret anywhere, and so does a federation configuration file.

The subject-token sources are faked at their SDKs (azure-identity's ``ManagedIdentityCredential``;
botocore reading the runtime's keys from the environment); Google's STS and IAM Credentials are the
simulator, which checks the exchange's shape (audience, token types, a signed ``GetCallerIdentity``).
"""

from __future__ import annotations

import json
from urllib.parse import unquote

import jwt
import pytest

from tests.gcp.support import IDP, PROVIDER, SIGNER, make_service, sign, store_block, vend
from tests.support import call, token

AZURE_TOKEN = jwt.encode(
    {"iss": "https://sts.windows.net/tenant-1/", "sub": "mi-object-id", "aud": "api://AzureADTokenExchange"},
    "not-a-secret-0123456789abcdef0123456789",
    algorithm="HS256",
)


class FakeManagedIdentity:
    """azure-identity's ManagedIdentityCredential as the Function App's identity would answer."""

    asked: list[tuple[str | None, tuple[str, ...]]] = []
    fail = False

    def __init__(self, client_id=None, **kwargs):
        self.client_id = client_id

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken
        from azure.core.exceptions import ClientAuthenticationError

        FakeManagedIdentity.asked.append((self.client_id, scopes))
        if FakeManagedIdentity.fail:
            raise ClientAuthenticationError("no identity")
        return AccessToken(AZURE_TOKEN, 2_000_000_000)


@pytest.fixture
def azure_identity(monkeypatch):
    import azure.identity

    monkeypatch.delenv("AZURE_FEDERATED_TOKEN_FILE", raising=False)
    monkeypatch.setattr(azure.identity, "ManagedIdentityCredential", FakeManagedIdentity)
    FakeManagedIdentity.asked, FakeManagedIdentity.fail = [], False
    return FakeManagedIdentity


@pytest.fixture
def aws_role(monkeypatch, tmp_path):
    """The runtime's AWS role session, as Lambda puts it in the environment (no metadata service)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "ASIAFAKEFAKEFAKEFAKE",
        "AWS_SECRET_ACCESS_KEY": "fake-secret",
        "AWS_SESSION_TOKEN": "fake-session-token",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def azure_auth(**over) -> dict:
    return {
        "method": "workload-identity-federation",
        "audience": PROVIDER,
        "subject_token": {"azure_audience": "api://AzureADTokenExchange", "client_id": "11111111-2222"},
        **over,
    }


def aws_auth(**over) -> dict:
    return {
        "method": "workload-identity-federation",
        "audience": PROVIDER,
        "subject_token": {"aws_region": "eu-west-3"},
        **over,
    }


def sts_calls(google) -> list[dict]:
    return [c for c in google.calls if c["api"] == "sts"]


def test_the_azure_managed_identity_token_is_exchanged_for_the_source_token(gcs, google, azure_identity):
    service = make_service(google, {"gcs": store_block(gcs, azure_auth())})
    cred = vend(service)
    federate, downscope = sts_calls(google)
    assert (federate["subject_token"], federate["audience"]) == (AZURE_TOKEN, PROVIDER)
    assert federate["subject_token_type"] == "urn:ietf:params:oauth:token-type:jwt"
    assert downscope["subject_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    issued = google.tokens[cred["credentials"]["access_token"]]
    assert (issued.kind, issued.principal) == ("downscoped", "https://sts.windows.net/tenant-1/|mi-object-id")


def test_the_azure_token_is_asked_for_the_configured_audience_and_identity(gcs, google, azure_identity):
    vend(make_service(google, {"gcs": store_block(gcs, azure_auth())}))
    assert azure_identity.asked == [("11111111-2222", ("api://AzureADTokenExchange/.default",))]


def test_azure_federation_impersonates_the_service_account_with_the_federated_token(gcs, google, azure_identity):
    service = make_service(google, {"gcs": store_block(gcs, azure_auth(impersonate=SIGNER))})
    vend(service, ttl_seconds=600)
    assert [c["api"] for c in google.calls] == ["sts", "generateAccessToken", "sts"]
    assert google.calls[1]["email"] == SIGNER and google.calls[1]["body"]["lifetime"] == "600s"


def test_azure_federation_with_impersonation_signs_urls_through_sign_blob(gcs, google, azure_identity):
    service = make_service(google, {"gcs": store_block(gcs, azure_auth(impersonate=SIGNER))})
    signed = sign(service, object="users/alice/seed.txt")
    assert "tvs-signer%40" in signed["url"] and [c["api"] for c in google.calls] == ["sts", "signBlob"]


def test_an_azure_identity_without_a_token_is_a_503(gcs, google, azure_identity):
    azure_identity.fail = True
    service = make_service(google, {"gcs": store_block(gcs, azure_auth())})
    problem = vend(service, status=503)
    assert "Azure identity" in problem["detail"] and google.calls == []


def test_the_aws_role_signs_a_get_caller_identity_request_as_the_subject_token(gcs, google, aws_role):
    service = make_service(google, {"gcs": store_block(gcs, aws_auth())})
    cred = vend(service)
    federate = sts_calls(google)[0]
    assert federate["subject_token_type"] == "urn:ietf:params:aws:token-type:aws4_request"
    request = json.loads(unquote(federate["subject_token"]))
    headers = {h["key"].lower(): h["value"] for h in request["headers"]}
    assert request["url"].startswith("https://sts.eu-west-3.amazonaws.com") and "GetCallerIdentity" in request["url"]
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=ASIAFAKEFAKEFAKEFAKE/")
    assert "/eu-west-3/sts/aws4_request" in headers["authorization"]
    assert headers["x-amz-security-token"] == "fake-session-token"
    assert headers["x-goog-cloud-target-resource"] == PROVIDER
    assert google.tokens[cred["credentials"]["access_token"]].principal == "aws:ASIAFAKEFAKEFAKEFAKE"


def test_a_runtime_without_aws_credentials_is_503_upstream_refused(gcs, google, aws_role, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    problem = vend(make_service(google, {"gcs": store_block(gcs, aws_auth())}), status=503)
    assert problem["type"].endswith("/upstream-refused") and "AWS credentials" in problem["detail"]


def test_a_provider_sts_does_not_know_is_503_upstream_refused(gcs, google, azure_identity):
    google.providers.clear()
    problem = vend(make_service(google, {"gcs": store_block(gcs, azure_auth())}), status=503)
    assert problem["type"].endswith("/upstream-refused") and "invalid_target" in problem["detail"]


def test_a_federation_configuration_with_a_token_file_federates(gcs, google, tmp_path):
    path = tmp_path / "token"
    path.write_text(AZURE_TOKEN)
    config = {
        "type": "external_account",
        "audience": PROVIDER,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": "https://sts.googleapis.com/v1/token",
        "credential_source": {"file": str(path)},
    }
    service = make_service(google, {"gcs": store_block(gcs, {"method": "credential-config", "config": config})})
    vend(service)
    assert sts_calls(google)[0]["subject_token"] == AZURE_TOKEN


def test_a_missing_federation_token_file_is_503_upstream_refused(gcs, google, tmp_path):
    auth = {
        "method": "workload-identity-federation",
        "audience": PROVIDER,
        "subject_token": {"file": str(tmp_path / "x")},
    }
    problem = vend(make_service(google, {"gcs": store_block(gcs, auth)}), status=503)
    assert problem["type"].endswith("/upstream-refused")


def test_federation_without_impersonation_offers_no_signed_urls(gcs, google, azure_identity):
    service = make_service(google, {"gcs": store_block(gcs, azure_auth())})
    stores = call(service, "GET", "/api/v1/stores", token=token(IDP, "alice", ["readers"])).json()["stores"]
    assert stores[0]["grants"][0]["produces"] == ["credential"]
    assert sign(service, object="seed.txt", groups=("readers",), status=400)["type"].endswith(
        "/signed-urls-unsupported"
    )
