"""deploy/: the gateways in front (docs/gateways.md), checked offline. The API Management policy is
well-formed, reads the token with or without ``Bearer `` and leaves it in place; the JWT authorizer
fragment merges into template.yaml, passes ``sam validate --lint`` and cfn-lint, and protects
exactly the routes that need a token; the REST API front passes cfn-lint and sends every path on."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest
import yaml

from shared.api.contract import OPERATIONS
from shared.api.openapi import openapi_document
from shared.api.routes import build_routes
from tests.deploy.docs import json_block
from tests.deploy.template import REPO, _CfnLoader, _deep_merge, load_template

DEPLOY = REPO / "deploy"
SAM_BIN = REPO / ".venv-sam" / "bin"
SAM_ENV = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "eu-west-3"}


def _open_paths() -> set[str]:
    """The routes that take no token, from the service's own OpenAPI document."""
    doc = openapi_document(OPERATIONS)
    return {path for path, ops in doc["paths"].items() for op in ops.values() if op.get("security") == []}


# -- Azure API Management ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def policy() -> ET.Element:
    return ET.parse(DEPLOY / "azure" / "apim-policy.xml").getroot()


def test_the_apim_policy_checks_the_token_with_or_without_the_bearer_prefix(policy):
    (validate,) = policy.iter("validate-jwt")
    expression = validate.get("token-value")
    assert validate.get("header-name") is None and validate.get("require-scheme") is None
    assert 'GetValueOrDefault("Authorization"' in expression
    assert 'StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header.Substring(7)' in expression
    assert expression.rstrip(" }").endswith(": header;")  # a header without the prefix is the token itself


def test_the_apim_policy_skips_the_token_check_on_exactly_the_open_routes(policy):
    (when,) = [w for w in policy.iter("when") if w.find("validate-jwt") is not None]
    condition = when.get("condition")
    # a path ending is skipped by EndsWith; a path parameter's route by Contains of what precedes it
    skipped = set()
    for part in condition.split("&&"):
        how, rest = (
            ("EndsWith", part.split('EndsWith("')) if "EndsWith" in part else ("Contains", part.split('Contains("'))
        )
        text = rest[1].split('")')[0]
        skipped.add(text if how == "EndsWith" else text + "{asset}")
    assert skipped == _open_paths()


def test_the_apim_policy_leaves_the_authorization_header_to_the_service(policy):
    assert not [h for h in policy.iter("set-header") if h.get("name", "").lower() == "authorization"]


def test_the_apim_policy_trusts_the_issuer_and_audience_of_the_documented_app_registration(policy):
    issuer = json_block("identity-providers.md", "issuer", "entra")
    (validate,) = policy.iter("validate-jwt")
    assert [i.text for i in validate.iter("issuer")] == [issuer["issuer"]]
    assert [a.text for a in validate.iter("audience")] == issuer["audiences"]
    assert validate.find("openid-config").get("url") == issuer["issuer"] + "/.well-known/openid-configuration"


def test_the_apim_policy_keeps_the_inherited_policies_in_every_section(policy):
    assert all(
        policy.find(section).find("base") is not None for section in ("inbound", "backend", "outbound", "on-error")
    )


# -- API Gateway JWT authorizer -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def with_authorizer(tmp_path_factory):
    """template.yaml with deploy/aws/jwt-authorizer.yaml merged in, as a JSON template file."""
    fragment = yaml.load((DEPLOY / "aws" / "jwt-authorizer.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
    path = tmp_path_factory.mktemp("jwt") / "template.json"
    path.write_text(json.dumps(_deep_merge(load_template(), fragment), indent=1))
    return path


def test_the_template_with_the_jwt_authorizer_passes_sam_validate_with_lint(with_authorizer):
    result = subprocess.run(
        [str(SAM_BIN / "sam"), "validate", "--lint", "--template", str(with_authorizer)],
        cwd=with_authorizer.parent,
        env=SAM_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and "is a valid SAM Template" in result.stdout + result.stderr, (
        result.stdout + result.stderr
    )


def test_the_template_with_the_jwt_authorizer_passes_cfn_lint(with_authorizer):
    result = subprocess.run(
        [str(SAM_BIN / "cfn-lint"), str(with_authorizer)], env=SAM_ENV, capture_output=True, text=True, timeout=300
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_jwt_authorizer_guards_every_route_that_needs_a_token_and_no_other(with_authorizer):
    result = subprocess.run(
        [str(SAM_BIN / "python"), str(REPO / "tests" / "deploy" / "sam_transform.py"), str(with_authorizer)],
        env=SAM_ENV,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    body = json.loads(result.stdout)["Resources"]["HttpApi"]["Properties"]["Body"]
    guarded = {path for path, ops in body["paths"].items() for op in ops.values() if op["security"] == [{"TvsJwt": []}]}
    routes = {r.template for r in build_routes()}
    assert guarded == routes - _open_paths()
    authorizer = body["components"]["securitySchemes"]["TvsJwt"]["x-amazon-apigateway-authorizer"]
    assert (authorizer["type"], authorizer["identitySource"]) == ("jwt", "$request.header.Authorization")


# -- API Gateway REST API in front ---------------------------------------------------------------------


def test_the_rest_api_front_passes_cfn_lint():
    result = subprocess.run(
        [str(SAM_BIN / "cfn-lint"), str(DEPLOY / "aws" / "rest-api-front.yaml")],
        env=SAM_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_rest_api_front_sends_every_path_and_method_on_and_wants_a_key():
    resources = yaml.load((DEPLOY / "aws" / "rest-api-front.yaml").read_text(), Loader=_CfnLoader)["Resources"]  # noqa: S506
    (method,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGateway::Method"]
    assert (method["HttpMethod"], method["ApiKeyRequired"], method["Integration"]["Type"]) == (
        "ANY",
        True,
        "HTTP_PROXY",
    )
    assert method["Integration"]["Uri"] == {"Fn::Sub": "${BackendUrl}/{proxy}"}
    assert resources["Proxy"]["Properties"]["PathPart"] == "{proxy+}"
    (plan,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGateway::UsagePlan"]
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "Api"}, "Stage": {"Ref": "Stage"}}] and "Quota" in plan
