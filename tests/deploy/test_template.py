"""template.yaml says what the code needs: handlers that exist, the ledger table the ledger code
uses, the routes of the core, least-privilege roles, the schedule, the configuration."""

from __future__ import annotations

import importlib
import re
import uuid

import pytest

from shared.api.routes import build_routes
from shared.ledger.dynamodb import TABLE_SCHEMA, TTL_ATTRIBUTE  # the ledger code's table, as CreateTable takes it
from tests.deploy.template import REPO, load_template


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


def _resources(template: dict, kind: str) -> dict:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def _functions(template: dict) -> dict:
    return _resources(template, "AWS::Serverless::Function")


def _table(template: dict) -> dict:
    (table,) = _resources(template, "AWS::DynamoDB::Table").values()
    return table


def _statements(function: dict) -> list[dict]:
    """Inline policy statements of a function, whatever their condition."""
    out = []
    for policy in function["Properties"]["Policies"]:
        if "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        out.extend(policy.get("Statement", []))
    return out


def _by_name(items: list[dict], key: str) -> dict:
    return {item[key]: item for item in items}


def test_every_function_handler_names_a_callable_of_the_repository(template):
    for name, function in _functions(template).items():
        path, _, attribute = function["Properties"]["Handler"].rpartition(".")
        assert (REPO / f"{path}.py").is_file(), name
        module = importlib.import_module(path.replace("/", "."))  # what the Lambda Python runtime does
        assert callable(getattr(module, attribute)), name


def test_the_ledger_table_keys_match_the_ledger_code(template):
    props = _table(template)["Properties"]
    assert _by_name(props["AttributeDefinitions"], "AttributeName") == _by_name(
        TABLE_SCHEMA["AttributeDefinitions"], "AttributeName"
    )
    assert props["KeySchema"] == TABLE_SCHEMA["KeySchema"]
    assert _by_name(props["GlobalSecondaryIndexes"], "IndexName") == _by_name(
        TABLE_SCHEMA["GlobalSecondaryIndexes"], "IndexName"
    )
    assert props["BillingMode"] == TABLE_SCHEMA["BillingMode"]


def test_the_ledger_ttl_attribute_matches_the_ledger_code(template):
    assert _table(template)["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": TTL_ATTRIBUTE,
        "Enabled": True,
    }


def test_the_ledger_table_is_recoverable_encrypted_and_kept_when_the_stack_goes(template):
    table = _table(template)
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")


@pytest.mark.emulator
def test_dynamodb_creates_the_ledger_table_as_the_template_declares_it(template, moto_server):
    import boto3

    props = _table(template)["Properties"]
    client = boto3.client(
        "dynamodb",
        endpoint_url=moto_server.url,
        region_name="eu-west-3",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    name = f"ledger-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        **{k: props[k] for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")},
    )
    client.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
    described = client.describe_table(TableName=name)["Table"]
    assert sorted(i["IndexName"] for i in described["GlobalSecondaryIndexes"]) == ["by_due", "by_user"]
    assert client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["AttributeName"] == TTL_ATTRIBUTE


def test_the_table_name_reaches_the_functions_as_tvs_ledger_table(template):
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["TVS_LEDGER_TABLE"] == {"Ref": "LedgerTable"}


def test_the_configuration_reaches_the_functions_in_deployed_mode(template):
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert (env["TVS_CONFIG"], env["TVS_MODE"]) == ({"Ref": "TvsConfig"}, "deployed")


def _http_routes(template: dict) -> set[tuple[str, str]]:
    events = template["Resources"]["ApiFunction"]["Properties"]["Events"].values()
    return {
        (e["Properties"].get("Method", "ANY").upper(), e["Properties"].get("Path", "$default"))
        for e in events
        if e["Type"] == "HttpApi"
    }


def test_every_route_of_the_core_is_a_route_of_the_http_api(template):
    assert {(r.method, r.template) for r in build_routes()} <= _http_routes(template)


def test_every_other_request_reaches_the_core_through_the_default_route(template):
    assert ("ANY", "$default") in _http_routes(template)


def test_the_api_function_may_assume_only_the_configured_roles(template):
    sts = [
        s for s in _statements(template["Resources"]["ApiFunction"]) if any(a.startswith("sts:") for a in s["Action"])
    ]
    assert [(sorted(s["Action"]), s["Resource"]) for s in sts] == [
        (["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"], {"Ref": "AssumableRoleArns"})
    ]


def test_the_sweep_function_may_assume_no_role(template):
    actions = [a for s in _statements(template["Resources"]["SweepFunction"]) for a in _as_list(s["Action"])]
    assert not [a for a in actions if a.startswith("sts:")]


def test_secrets_and_parameters_are_readable_only_at_the_configured_arns(template):
    for function in _functions(template).values():
        reads = {
            a: s["Resource"]
            for s in _statements(function)
            for a in _as_list(s["Action"])
            if a in ("secretsmanager:GetSecretValue", "ssm:GetParameter")
        }
        assert reads == {
            "secretsmanager:GetSecretValue": {"Ref": "SecretArns"},
            "ssm:GetParameter": {"Ref": "ParameterArns"},
        }


def test_no_inline_statement_grants_a_wildcard(template):
    for name, function in _functions(template).items():
        for statement in _statements(function):
            assert "*" not in _as_list(statement["Resource"]) and not any(
                "*" in a for a in _as_list(statement["Action"])
            ), name


def test_dynamodb_access_is_the_ledger_table_only(template):
    table = {"Fn::GetAtt": ["LedgerTable", "Arn"]}
    indexes = [
        {"Fn::Sub": f"${{LedgerTable.Arn}}/index/{index['IndexName']}"}
        for index in TABLE_SCHEMA["GlobalSecondaryIndexes"]
    ]
    for name, function in _functions(template).items():
        assert not [p for p in function["Properties"]["Policies"] if "DynamoDBCrudPolicy" in p], name
        ledger = [s for s in _statements(function) if any(a.startswith("dynamodb:") for a in _as_list(s["Action"]))]
        # What the ledger code calls: GetItem (get), PutItem (create, conditional replace), Query (the indexes).
        assert [(sorted(s["Action"]), s["Resource"]) for s in ledger] == [
            (["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], [table, *indexes])
        ], name


def test_the_sweep_runs_every_five_minutes_with_retries_and_a_dead_letter_queue(template):
    (event,) = template["Resources"]["SweepFunction"]["Properties"]["Events"].values()
    props = event["Properties"]
    assert (event["Type"], props["ScheduleExpression"]) == ("ScheduleV2", "rate(5 minutes)")
    assert props["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert props["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["SweepDeadLetterQueue", "Arn"]}}


def test_the_sweep_may_run_longer_than_its_safety_margin(template):
    sweep = importlib.import_module("lambda.sweep")
    assert template["Resources"]["SweepFunction"]["Properties"]["Timeout"] > 2 * sweep.SAFETY_MARGIN_SECONDS


def test_the_sweep_takes_records_for_most_of_its_run_with_the_default_vms_timeouts(template):
    from shared.vast.config import sweep_reserve_seconds
    from shared.vast.vms_client import VmsClient

    sweep = importlib.import_module("lambda.sweep")
    default = VmsClient("https://vms.example", auth=("api-token", "t"), timeout=10, retries=2)  # the store defaults
    reserve = sweep_reserve_seconds(default)
    budget = template["Resources"]["SweepFunction"]["Properties"]["Timeout"] - sweep.SAFETY_MARGIN_SECONDS
    assert budget > 2 * reserve


def test_the_outputs_give_the_api_url(template):
    assert template["Outputs"]["ApiUrl"]["Value"] == {
        "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/v1"
    }


def test_the_lambda_package_pins_the_versions_the_service_is_tested_with():
    def pins(path):
        return {
            line.split("#")[0].strip()
            for line in (REPO / path).read_text().splitlines()
            if line.split("#")[0].strip() and not line.startswith("-r")
        }

    lambda_pins = pins("lambda/requirements.txt")
    assert lambda_pins <= pins("requirements.txt")
    assert not any(p.startswith("azure-functions") for p in lambda_pins)


def test_the_build_targets_the_runtime_and_architecture_of_the_template(template):
    makefile = (REPO / "Makefile").read_text()
    glob = template["Globals"]["Function"]
    version = re.search(r"^PYTHON_VERSION := (\S+)$", makefile, re.MULTILINE).group(1)
    platform = re.search(r"^PLATFORM := (\S+)$", makefile, re.MULTILINE).group(1)
    assert glob["Runtime"] == f"python{version}"
    assert platform.endswith({"arm64": "_aarch64", "x86_64": "_x86_64"}[glob["Architectures"][0]])


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]
