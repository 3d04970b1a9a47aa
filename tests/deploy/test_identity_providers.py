"""docs/identity-providers.md: each identity provider's sample access token, signed with a test key
of the same shape (RSA 2048, RS256, a kid), passes the service's own validator with the issuer block
the page gives, and reaches the grants of the example configurations through its claims."""

from __future__ import annotations

import copy
import json
import time

import jwt
import pytest

from shared.authz import authorize
from shared.config import parse_config
from shared.errors import ConfigError, Problem
from shared.identity.tokens import TokenValidator
from tests.deploy.docs import json_block, run_offline
from tests.deploy.template import REPO
from tests.identity.fake_idp import RsaIdp

PAGE = "identity-providers.md"
TENANT = "11111111-2222-3333-4444-555555555555"
OTHER_TENANT = "99999999-8888-7777-6666-555555555555"


def example(name: str) -> dict:
    return json.loads((REPO / "examples" / name).read_text())


def configured(example_name: str, issuer: dict) -> dict:
    """The example configuration with its issuer of that name replaced by the page's block."""
    doc = example(example_name)
    names = [i.get("name") for i in doc["issuers"]]
    assert issuer["name"] in names or len(names) == 1
    doc["issuers"] = [issuer if (i.get("name") == issuer["name"] or len(names) == 1) else i for i in doc["issuers"]]
    return doc


def fresh(payload: dict) -> dict:
    """The sample with its times moved to now (same lifetime)."""
    out, now = copy.deepcopy(payload), int(time.time())
    life = payload["exp"] - payload["iat"]
    out.update(iat=now, exp=now + life)
    for name in ("nbf", "auth_time"):
        if name in out:
            out[name] = now
    return out


class Signed:
    """A validator for ``doc`` whose issuer keys are a test key, and tokens signed with it."""

    def __init__(self, doc: dict, issuer_url: str):
        self.config = parse_config(doc)
        self.idp = RsaIdp(issuer_url)
        self.validator = TokenValidator(self.config, fetch=self.idp.fetch)

    def principal(self, payload: dict):
        token = jwt.encode(fresh(payload), self.idp.key, algorithm="RS256", headers={"kid": self.idp.kid})
        return self.validator.validate(token)

    def refused(self, payload: dict) -> Problem:
        with pytest.raises(Problem) as err:
            self.principal(payload)
        return err.value


def _allowed(config, principal, store, path, access) -> bool:
    try:
        authorize(config, principal, store, path, access, None)
    except Problem as problem:
        assert problem.status == 403
        return False
    return True


# -- Entra ID -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def entra() -> Signed:
    issuer = json_block(PAGE, "issuer", "entra")
    return Signed(configured("config.azure.json", issuer), issuer["issuer"])


def test_an_entra_v2_token_gives_its_roles_groups_scope_tenant_and_object_id(entra):
    p = entra.principal(json_block(PAGE, "token", "entra"))
    assert (p.roles, p.groups, p.scopes, p.tenant_id, p.object_id) == (
        ("Storage.User",),
        ("6f1c0a5e-0000-0000-0000-000000000001",),
        ("Credentials.Vend",),
        TENANT,
        "3f4b2a10-5c6d-4e7f-8091-a2b3c4d5e6f7",
    )


def test_an_entra_v2_token_reaches_the_grants_of_its_app_role_and_its_group(entra):
    p = entra.principal(json_block(PAGE, "token", "entra"))
    assert _allowed(entra.config, p, "sales-raw", f"users/{p.object_id}/", "delete")  # role Storage.User
    assert _allowed(entra.config, p, "sales-raw", "exports/", "write")  # group 6f1c0a5e-…-001


def test_an_entra_token_over_the_group_limit_carries_no_groups(entra):
    assert entra.principal(json_block(PAGE, "token", "entra-overage")).groups == ()


def test_over_the_group_limit_no_group_grant_applies_but_app_role_grants_do(entra):
    p = entra.principal(json_block(PAGE, "token", "entra-overage"))
    assert not _allowed(entra.config, p, "sales-raw", "exports/", "write")
    assert _allowed(entra.config, p, "sales-raw", f"users/{p.object_id}/", "delete")


def test_a_v1_token_is_refused_by_the_v2_issuer_block(entra):
    v1 = dict(
        json_block(PAGE, "token", "entra"),
        iss=f"https://sts.windows.net/{TENANT}/",
        ver="1.0",
        aud="api://00000000-0000-0000-0000-0000000000aa",
    )
    assert entra.refused(v1).status == 401


def test_the_multi_tenant_issuer_block_accepts_tokens_of_its_tenants_only():
    issuer = json_block(PAGE, "issuer", "entra-multi-tenant")
    signed = Signed(configured("config.azure.json", issuer), "https://login.microsoftonline.com/common/v2.0")
    sample = json_block(PAGE, "token", "entra")
    assert signed.principal(sample).tenant_id == TENANT
    listed = dict(sample, tid=OTHER_TENANT, iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0")
    assert signed.principal(listed).tenant_id == OTHER_TENANT
    stranger = "22222222-3333-4444-5555-666666666666"
    assert (
        signed.refused(dict(sample, tid=stranger, iss=f"https://login.microsoftonline.com/{stranger}/v2.0")).status
        == 401
    )


def test_a_multi_tenant_issuer_without_tenants_is_refused():
    issuer = {k: v for k, v in json_block(PAGE, "issuer", "entra-multi-tenant").items() if k != "tenants"}
    with pytest.raises(ConfigError) as err:
        parse_config(configured("config.azure.json", issuer))
    assert err.value.key == "issuers[0].tenants"


def test_the_app_registration_asks_for_v2_tokens_the_app_roles_and_only_the_applications_groups(tmp_path):
    run_offline(PAGE, "entra-manifest", tmp_path)
    manifest = json.loads((tmp_path / "tvs-api-manifest.json").read_text())
    preauthorized = json.loads((tmp_path / "tvs-api-preauthorized.json").read_text())
    assert manifest["api"]["requestedAccessTokenVersion"] == 2
    assert manifest["groupMembershipClaims"] == "ApplicationGroup"
    granted_roles = {r for g in example("config.azure.json")["grants"] for r in g["match"].get("roles", [])}
    assert granted_roles <= {role["value"] for role in manifest["appRoles"]}
    ids = [role["id"] for role in manifest["appRoles"]] + [s["id"] for s in manifest["api"]["oauth2PermissionScopes"]]
    assert len(set(ids)) == len(ids) == 3
    (scope,) = manifest["api"]["oauth2PermissionScopes"]
    assert preauthorized["api"]["preAuthorizedApplications"][0]["delegatedPermissionIds"] == [scope["id"]]


# -- Cognito --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cognito() -> Signed:
    issuer = json_block(PAGE, "issuer", "cognito")
    return Signed(configured("config.aws-lambda.json", issuer), issuer["issuer"])


def test_a_cognito_access_token_gives_its_groups_and_username(cognito):
    p = cognito.principal(json_block(PAGE, "token", "cognito"))
    assert (p.groups, p.username) == (("analysts",), "alice")


def test_a_cognito_access_token_reaches_the_grant_of_its_group(cognito):
    p = cognito.principal(json_block(PAGE, "token", "cognito"))
    assert _allowed(cognito.config, p, "sales-raw", "", "read")
    assert not _allowed(cognito.config, p, "sales-raw", "", "write")


def test_a_cognito_id_token_of_the_same_user_is_refused(cognito):
    sample = json_block(PAGE, "token", "cognito")
    id_token = {**{k: v for k, v in sample.items() if k != "client_id"}, "token_use": "id", "aud": sample["client_id"]}
    assert cognito.refused(id_token).status == 401


def test_a_cognito_token_of_another_app_client_is_refused(cognito):
    assert cognito.refused(dict(json_block(PAGE, "token", "cognito"), client_id="someotherclient")).status == 401


# -- Keycloak ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keycloak() -> Signed:
    issuer = json_block(PAGE, "issuer", "keycloak")
    return Signed(configured("config.aws.json", issuer), issuer["issuer"])


def test_a_keycloak_access_token_gives_its_realm_roles_and_groups(keycloak):
    p = keycloak.principal(json_block(PAGE, "token", "keycloak"))
    assert "ops" in p.roles and p.groups == ("analysts",) and p.username == "alice"


def test_a_keycloak_access_token_reaches_the_grant_of_its_realm_role(keycloak):
    p = keycloak.principal(json_block(PAGE, "token", "keycloak"))
    assert _allowed(keycloak.config, p, "partner-drop", "", "read")


def test_a_keycloak_token_without_the_audience_mapper_is_refused(keycloak):
    assert keycloak.refused(dict(json_block(PAGE, "token", "keycloak"), aud="account")).status == 401


def test_a_keycloak_id_token_is_refused(keycloak):
    assert keycloak.refused(dict(json_block(PAGE, "token", "keycloak"), typ="ID")).status == 401
