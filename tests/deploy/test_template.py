"""template.yaml says what the code needs: handlers that exist, the ledger table the ledger code
uses, the routes of the core, least-privilege roles with stable names, the schedule and its alarms,
the configuration (inline or from a source), the optional VPC and the HTTP API's front doors.

Most tests evaluate the template for one set of parameter values (``Stack``), as CloudFormation
would, and look at what that deployment gets."""

from __future__ import annotations

import importlib
import re
import uuid

import pytest

from shared.api.routes import build_routes
from shared.ledger.dynamodb import TABLE_SCHEMA, TTL_ATTRIBUTE  # the ledger code's table, as CreateTable takes it
from tests.deploy.template import ACCOUNT, REGION, REPO, STACK, Stack, load_template

FUNCTIONS = ("ApiFunction", "SweepFunction")
ROLES = ("ApiFunctionRole", "SweepFunctionRole")


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
    for name in FUNCTIONS:
        assert _env(Stack(template, TvsConfig=INLINE), name)["TVS_LEDGER_TABLE"] == "LedgerTable.Ref"


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


# -- the configuration ---------------------------------------------------------------------------------

INLINE = '{"issuers": [], "stores": {}}'


def _env(stack: Stack, function: str) -> dict:
    return stack.function(function)["Environment"]["Variables"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_an_inline_configuration_reaches_the_functions_in_deployed_mode(template, function):
    env = _env(Stack(template, TvsConfig=INLINE), function)
    assert (env["TVS_CONFIG"], env["TVS_MODE"]) == (INLINE, "deployed")


@pytest.mark.parametrize("source", ["ssm:/tvs/config", "s3://tvs-config-111122223333/prod/tvs-config.json"])
@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_configuration_source_reaches_the_functions_as_tvs_config(template, function, source):
    assert _env(Stack(template, TvsConfigSource=source), function)["TVS_CONFIG"] == source


@pytest.mark.parametrize(
    "parameters, broken",
    [
        ({"TvsConfig": INLINE}, False),
        ({"TvsConfigSource": "ssm:/tvs/config"}, False),
        ({"TvsConfig": INLINE, "TvsConfigSource": "ssm:/tvs/config"}, True),
        ({}, True),
    ],
)
def test_the_stack_takes_exactly_one_of_the_inline_configuration_and_a_source(template, parameters, broken):
    assert bool(Stack(template, **parameters).broken_rules()) is broken


@pytest.mark.parametrize(
    "source, allowed",
    [
        ("", True),
        ("ssm:/tvs/config", True),
        ("ssm:/tvs", True),
        ("s3://tvs-config/prod/tvs.json", True),
        ("ssm:tvs-config", False),
        ("s3://tvs-config", False),
        ("s3://tvs-config/", False),
        ("https://example.org/tvs.json", False),
        ("/etc/tvs.json", False),
        ("ssm:/tvs/*", False),
    ],
)
def test_the_configuration_source_is_an_ssm_parameter_or_an_s3_object(template, source, allowed):
    pattern = template["Parameters"]["TvsConfigSource"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, source)) is allowed  # CloudFormation matches the whole value


def test_an_inline_configuration_fits_the_environment_of_a_function(template):
    # Lambda allows 4 KB for all of a function's variables: the document and the extra values must leave room.
    params = template["Parameters"]
    room = params["TvsConfig"]["MaxLength"] + sum(params[f"TvsEnv{i}"]["MaxLength"] for i in range(1, 5))
    assert room <= 4096 - 512


def _reads(stack: Stack, role: str, action: str) -> list:
    return [r for s in stack.role_statements(role) if action in _as_list(s["Action"]) for r in _as_list(s["Resource"])]


@pytest.mark.parametrize("role", ROLES)
def test_an_ssm_configuration_source_is_readable_at_exactly_that_parameter(template, role):
    stack = Stack(template, TvsConfigSource="ssm:/tvs/prod/config")
    assert _reads(stack, role, "ssm:GetParameter") == [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/tvs/prod/config"]
    assert _reads(stack, role, "s3:GetObject") == []


@pytest.mark.parametrize("role", ROLES)
def test_an_s3_configuration_source_is_readable_at_exactly_that_object(template, role):
    stack = Stack(template, TvsConfigSource="s3://tvs-config-111122223333/prod/tvs-config.json")
    assert _reads(stack, role, "s3:GetObject") == ["arn:aws:s3:::tvs-config-111122223333/prod/tvs-config.json"]
    assert _reads(stack, role, "ssm:GetParameter") == []


@pytest.mark.parametrize("role", ROLES)
def test_an_inline_configuration_reads_no_parameter_and_no_object(template, role):
    stack = Stack(template, TvsConfig=INLINE)
    assert (_reads(stack, role, "ssm:GetParameter"), _reads(stack, role, "s3:GetObject")) == ([], [])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_extra_environment_values_reach_both_functions_under_fixed_names(template, function):
    env = _env(Stack(template, TvsConfig=INLINE, TvsEnv1="tvs-7c1f0d9e-partner", TvsEnv3="x"), function)
    assert {k: v for k, v in env.items() if k.startswith("TVS_ENV_")} == {
        "TVS_ENV_1": "tvs-7c1f0d9e-partner",
        "TVS_ENV_3": "x",
    }


def test_extra_environment_variables_are_unset_when_their_value_is_empty(template):
    env = _env(Stack(template, TvsConfig=INLINE), "ApiFunction")
    assert not [k for k in env if k.startswith("TVS_ENV_")]


# -- roles ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function, role", list(zip(FUNCTIONS, ROLES, strict=True)))
def test_each_function_runs_as_its_own_role(template, function, role):
    assert Stack(template, TvsConfig=INLINE).function(function)["Role"] == f"{role}.Arn"


@pytest.mark.parametrize("role, suffix", [("ApiFunctionRole", "api"), ("SweepFunctionRole", "sweep")])
def test_the_roles_have_a_fixed_name_and_path_so_trust_policies_can_name_them_before_and_after_a_redeploy(
    template, role, suffix
):
    props = Stack(template, TvsConfig=INLINE).resource(role)
    assert (props["Path"], props["RoleName"]) == ("/tvs/", f"{STACK}-{REGION}-{suffix}")
    assert len(props["RoleName"]) <= 64


@pytest.mark.parametrize("role", ROLES)
def test_only_lambda_may_assume_the_function_roles(template, role):
    (statement,) = Stack(template, TvsConfig=INLINE).resource(role)["AssumeRolePolicyDocument"]["Statement"]
    assert (statement["Principal"], statement["Action"]) == ({"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")


def test_the_api_function_may_assume_only_the_configured_roles(template):
    roles = ["arn:aws:iam::111122223333:role/tvs-sales-raw-reader", "arn:aws:iam::444455556666:role/tvs-partner"]
    stack = Stack(template, TvsConfig=INLINE, AssumableRoleArns=",".join(roles))
    sts = [
        s for s in stack.role_statements("ApiFunctionRole") if any(a.startswith("sts:") for a in _as_list(s["Action"]))
    ]
    assert [(sorted(s["Action"]), s["Resource"]) for s in sts] == [
        (["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"], roles)
    ]


def test_without_assumable_roles_the_api_function_may_assume_none(template):
    stack = Stack(template, TvsConfig=INLINE)
    assert not [
        a for s in stack.role_statements("ApiFunctionRole") for a in _as_list(s["Action"]) if a.startswith("sts:")
    ]


def test_the_sweep_function_may_assume_no_role(template):
    stack = Stack(template, TvsConfig=INLINE, AssumableRoleArns="arn:aws:iam::111122223333:role/r")
    actions = [a for s in stack.role_statements("SweepFunctionRole") for a in _as_list(s["Action"])]
    assert not [a for a in actions if a.startswith("sts:")]


@pytest.mark.parametrize("role", ROLES)
def test_secrets_parameters_and_keys_are_readable_only_at_the_configured_arns(template, role):
    secret = "arn:aws:secretsmanager:eu-west-3:111122223333:secret:tvs/vms-admin-AbCdEf"
    parameter = "arn:aws:ssm:eu-west-3:111122223333:parameter/tvs/vms-token"
    key = "arn:aws:kms:eu-west-3:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    stack = Stack(template, TvsConfig=INLINE, SecretArns=secret, ParameterArns=parameter, KmsKeyArns=key)
    reads = {
        a: s["Resource"]
        for s in stack.role_statements(role)
        for a in _as_list(s["Action"])
        if a in ("secretsmanager:GetSecretValue", "ssm:GetParameter", "kms:Decrypt")
    }
    assert reads == {"secretsmanager:GetSecretValue": [secret], "ssm:GetParameter": [parameter], "kms:Decrypt": [key]}


@pytest.mark.parametrize("role", ROLES)
def test_nothing_is_readable_when_no_secret_parameter_or_key_is_configured(template, role):
    stack = Stack(template, TvsConfig=INLINE)
    actions = {a for s in stack.role_statements(role) for a in _as_list(s["Action"])}
    assert actions == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}


@pytest.mark.parametrize("role", ROLES)
def test_no_statement_grants_a_wildcard(template, role):
    everything = dict(
        TvsConfigSource="s3://b-1/k",
        AssumableRoleArns="arn:aws:iam::1:role/r",
        SecretArns="arn:s",
        ParameterArns="arn:p",
        KmsKeyArns="arn:k",
    )
    for statement in Stack(template, **everything).role_statements(role):
        resources, actions = _as_list(statement["Resource"]), _as_list(statement["Action"])
        assert not any("*" in str(r) for r in resources) and not any("*" in a for a in actions), statement


@pytest.mark.parametrize("role", ROLES)
def test_dynamodb_access_is_the_ledger_table_only(template, role):
    table = "LedgerTable.Arn"
    indexes = [f"LedgerTable.Arn/index/{index['IndexName']}" for index in TABLE_SCHEMA["GlobalSecondaryIndexes"]]
    ledger = [
        s
        for s in Stack(template, TvsConfig=INLINE).role_statements(role)
        if any(a.startswith("dynamodb:") for a in _as_list(s["Action"]))
    ]
    # What the ledger code calls: GetItem (get), PutItem (create, conditional replace), Query (the indexes).
    assert [(sorted(s["Action"]), s["Resource"]) for s in ledger] == [
        (["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], [table, *indexes])
    ]


# -- network ----------------------------------------------------------------------------------------------

VPC_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
BASIC_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


@pytest.mark.parametrize("function, role", list(zip(FUNCTIONS, ROLES, strict=True)))
def test_the_functions_run_outside_a_vpc_by_default_without_the_vpc_policy(template, function, role):
    stack = Stack(template, TvsConfig=INLINE)
    assert "VpcConfig" not in stack.function(function)
    assert stack.resource(role)["ManagedPolicyArns"] == [BASIC_POLICY]


@pytest.mark.parametrize("function, role", list(zip(FUNCTIONS, ROLES, strict=True)))
def test_with_subnets_both_functions_run_in_the_vpc_with_the_vpc_policy(template, function, role):
    stack = Stack(template, TvsConfig=INLINE, VpcSubnetIds="subnet-0a1b,subnet-0c2d", VpcSecurityGroupIds="sg-0e3f")
    assert stack.function(function)["VpcConfig"] == {
        "SubnetIds": ["subnet-0a1b", "subnet-0c2d"],
        "SecurityGroupIds": ["sg-0e3f"],
    }
    assert stack.resource(role)["ManagedPolicyArns"] == [BASIC_POLICY, VPC_POLICY]


# -- the HTTP API's front doors -------------------------------------------------------------------------------


def test_the_execute_api_url_is_open_by_default(template):
    assert Stack(template, TvsConfig=INLINE).resource("HttpApi")["DisableExecuteApiEndpoint"] is False
    assert Stack(template, TvsConfig=INLINE).resource("ApiDomain") is None


def test_the_execute_api_url_closes_when_asked_and_the_custom_domain_answers(template):
    stack = Stack(
        template,
        TvsConfig=INLINE,
        DisableExecuteApiEndpoint="true",
        ApiDomainName="tvs.example.org",
        ApiCertificateArn="arn:aws:acm:eu-west-3:111122223333:certificate/abc",
    )
    assert stack.broken_rules() == []
    assert stack.resource("HttpApi")["DisableExecuteApiEndpoint"] is True
    assert stack.resource("ApiDomainMapping") == {
        "DomainName": "ApiDomain.Ref",
        "ApiId": "HttpApi.Ref",
        "Stage": "HttpApiApiGatewayDefaultStage.Ref",
    }


def test_closing_the_execute_api_url_without_a_custom_domain_is_refused(template):
    assert Stack(template, TvsConfig=INLINE, DisableExecuteApiEndpoint="true").broken_rules()


def test_a_truststore_makes_the_custom_domain_require_mutual_tls(template):
    stack = Stack(
        template,
        TvsConfig=INLINE,
        ApiDomainName="tvs.example.org",
        ApiCertificateArn="arn:aws:acm:eu-west-3:111122223333:certificate/abc",
        ApiTruststoreUri="s3://tvs-truststore/gateway-ca.pem",
    )
    assert stack.resource("ApiDomain")["MutualTlsAuthentication"] == {
        "TruststoreUri": "s3://tvs-truststore/gateway-ca.pem"
    }


# -- the sweep, alarms ----------------------------------------------------------------------------------------


def _alarm_metrics(stack: Stack) -> dict:
    alarms = {
        name: stack.resource(name)
        for name, r in stack.template["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    return {(a["Namespace"], a["MetricName"]): a for a in alarms.values()}


def test_alarms_watch_api_errors_failed_revocations_and_dead_lettered_sweeps(template):
    watched = set(_alarm_metrics(Stack(template, TvsConfig=INLINE)))
    assert watched == {
        ("TokenVending", "Http5xx"),
        ("TokenVending", "SweepFailed"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    }


def test_the_alarms_notify_the_configured_topic_only(template):
    topic = "arn:aws:sns:eu-west-3:111122223333:tvs-alerts"
    assert all(
        a["AlarmActions"] == [topic]
        for a in _alarm_metrics(Stack(template, TvsConfig=INLINE, AlarmTopicArn=topic)).values()
    )
    assert all("AlarmActions" not in a for a in _alarm_metrics(Stack(template, TvsConfig=INLINE)).values())


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


def test_the_functions_run_on_python_3_13(template):
    # python3.11 is deprecated on Lambda from 2027-06-30; 3.13 is supported well beyond.
    assert template["Globals"]["Function"]["Runtime"] == "python3.13"
    assert not [name for name, f in _functions(template).items() if "Runtime" in f["Properties"]]


def test_the_build_names_its_interpreter_by_version_never_by_a_path():
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^PYTHON \?= python3\.13$", makefile, re.MULTILINE)
