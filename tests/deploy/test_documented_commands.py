"""docs/deploy.md works as written, as far as it can run without a cloud account: its AWS blocks
run in order (cloud CLIs replaced by stand-ins that record their arguments), the trust policies
they write name the role the template creates, the configuration they write is valid, and every
documented ``sam deploy`` is parsed by SAM CLI's own command-line parser (``.venv-sam``) into
parameters that carry the whole document and satisfy the template. The Azure settings file is
checked the same way."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.deploy.docs import block, run_offline
from tests.deploy.template import ACCOUNT, REGION, REPO, STACK, Stack, load_template

PAGE = "deploy.md"
SAM_PYTHON = REPO / ".venv-sam" / "bin" / "python"
USER_POOL_ID = f"{REGION}_AbCdEf123"
CLIENT_ID = "7abcdefghijklmnopqrstuvwx1"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:tvs/vms-token-AbCdEf"
ANSWERS = {"aws sts get-caller-identity": ACCOUNT, "aws secretsmanager create-secret": SECRET_ARN}
IDP_ENV = {
    "USER_POOL_ID": USER_POOL_ID,
    "CLIENT_ID": CLIENT_ID,
    "ISSUER": f"https://cognito-idp.{REGION}.amazonaws.com/{USER_POOL_ID}",
}  # what step 2 sets
AWS_BLOCKS = [
    "aws-names",
    "aws-roles",
    "aws-partner-trust",
    "aws-secret",
    "aws-config",
    "aws-params",
    "aws-params-source",
    "aws-deploy",
    "aws-deploy-inline",
]

# SAM CLI's parser, run in its own environment: `sam deploy` arguments in, what it would deploy with out.
_PARSE = """
import json, sys
from samcli.commands.deploy.command import cli
ctx = cli.make_context("deploy", json.load(sys.stdin))
print(json.dumps({"parameter_overrides": ctx.params["parameter_overrides"], "stack_name": ctx.params["stack_name"],
                  "capabilities": list(ctx.params["capabilities"] or [])}))
"""


def sam_parses(args: list[str], cwd) -> dict:
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", _PARSE],
        input=json.dumps(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"SAM_CLI_TELEMETRY": "0", "HOME": str(cwd), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def aws_walkthrough(tmp_path_factory):
    """The AWS blocks run in order in a working directory that stands for the repository's root."""
    workdir = tmp_path_factory.mktemp("aws")
    calls = run_offline(PAGE, AWS_BLOCKS, workdir, env=IDP_ENV, answers=ANSWERS)
    deploys = [c[2:] for c in calls if c[:2] == ["sam", "deploy"]]
    return workdir, calls, deploys


@pytest.fixture(scope="module")
def template():
    return load_template()


def _api_role_arn(template) -> str:
    role = Stack(template, TvsConfig="{}").resource("ApiFunctionRole")
    return f"arn:aws:iam::{ACCOUNT}:role{role['Path']}{role['RoleName']}"


def _parsed_deploys(aws_walkthrough) -> list[dict]:
    workdir, _, deploys = aws_walkthrough
    return [sam_parses(args, workdir) for args in deploys]


@pytest.fixture(scope="module")
def parsed(aws_walkthrough):
    return _parsed_deploys(aws_walkthrough)


def test_the_walkthrough_deploys_with_a_parameters_file_single_quotes_and_escaped_quotes(aws_walkthrough):
    _, _, deploys = aws_walkthrough
    values = [d[d.index("--parameter-overrides") + 1] for d in deploys]
    assert [values[0], values[1][:11], values[2][:11]] == ["file://tvs-params.yaml", "TvsConfig='", 'TvsConfig="']


@pytest.mark.parametrize("trust_file", ["tvs-trust.json", "tvs-trust-partner.json"])
def test_the_trust_policies_name_the_api_role_by_the_name_the_template_gives_it(aws_walkthrough, template, trust_file):
    workdir, _, _ = aws_walkthrough
    (statement,) = json.loads((workdir / trust_file).read_text())["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert statement["Condition"]["ArnEquals"] == {"aws:PrincipalArn": _api_role_arn(template)}
    # what the API role may do on the roles it assumes, and nothing it may not
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"]


def test_the_partner_trust_asks_for_the_external_id_the_stack_hands_the_function(aws_walkthrough, parsed):
    workdir, _, _ = aws_walkthrough
    (statement,) = json.loads((workdir / "tvs-trust-partner.json").read_text())["Statement"]
    config = json.loads((workdir / "tvs-config.json").read_text())
    assert config["stores"]["partner-exports"]["auth"]["external_id"] == {"env": "TVS_ENV_1"}
    assert statement["Condition"]["StringEquals"]["sts:ExternalId"] == parsed[0]["parameter_overrides"]["TvsEnv1"]


def test_the_role_policy_names_the_bucket_of_the_store(aws_walkthrough):
    workdir, _, _ = aws_walkthrough
    policy = json.loads((workdir / "tvs-sales-raw.json").read_text())
    bucket = json.loads((workdir / "tvs-config.json").read_text())["stores"]["sales-raw"]["bucket"]
    assert [s["Resource"] for s in policy["Statement"]] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def test_the_written_configuration_names_the_user_pool_and_its_app_client(aws_walkthrough):
    workdir, _, _ = aws_walkthrough
    (issuer,) = json.loads((workdir / "tvs-config.json").read_text())["issuers"]
    assert (issuer["issuer"], issuer["audiences"]) == (IDP_ENV["ISSUER"], [CLIENT_ID])


def test_every_documented_deploy_carries_the_whole_configuration(aws_walkthrough, parsed):
    workdir, _, _ = aws_walkthrough
    written = json.loads((workdir / "tvs-config.json").read_text())
    assert [json.loads(p["parameter_overrides"]["TvsConfig"]) for p in parsed] == [written] * 3


def test_without_a_secret_the_walkthrough_still_deploys_with_no_secret_to_read(tmp_path, template):
    answers = {k: v for k, v in ANSWERS.items() if "secretsmanager" not in k}  # step 4 skipped: SECRET_ARN is empty
    calls = run_offline(PAGE, AWS_BLOCKS, tmp_path, env=IDP_ENV, answers=answers)
    for args in [c[2:] for c in calls if c[:2] == ["sam", "deploy"]]:
        overrides = sam_parses(args, tmp_path)["parameter_overrides"]
        assert overrides.get("SecretArns", "") == "" and Stack(template, **overrides).broken_rules() == []


def test_the_parameters_file_carries_the_roles_the_secret_and_the_external_id(parsed):
    overrides = parsed[0]["parameter_overrides"]
    assert overrides["AssumableRoleArns"].split(",") == [
        f"arn:aws:iam::{ACCOUNT}:role/tvs-sales-raw",
        "arn:aws:iam::444455556666:role/tvs-access",
    ]
    assert (overrides["SecretArns"], overrides["TvsEnv1"]) == (SECRET_ARN, "tvs-7c1f0d9e-partner")


def test_each_parameters_file_sets_both_configuration_parameters_so_a_switch_leaves_no_stale_one(aws_walkthrough):
    workdir, _, _ = aws_walkthrough
    for name in ("tvs-params.yaml", "tvs-params-source.yaml"):
        overrides = sam_parses(["--parameter-overrides", f"file://{name}"], workdir)["parameter_overrides"]
        assert {"TvsConfig", "TvsConfigSource"} <= set(overrides), name


def test_every_documented_deploy_satisfies_the_templates_parameters_and_rules(parsed, template):
    for deploy in parsed:
        overrides = deploy["parameter_overrides"]
        assert _constraint_errors(template, overrides) == []
        assert Stack(template, **overrides).broken_rules() == []


def test_the_documented_deploys_go_to_the_stack_named_in_step_one(parsed):
    assert {p["stack_name"] for p in parsed} == {STACK}


def test_the_documented_deploys_allow_the_named_roles_the_template_creates(parsed):
    assert all(p["capabilities"] == ["CAPABILITY_NAMED_IAM"] for p in parsed)


def test_the_source_parameters_file_names_the_ssm_parameter_the_walkthrough_writes(aws_walkthrough, template):
    workdir, calls, _ = aws_walkthrough
    (put,) = [c for c in calls if c[:3] == ["aws", "ssm", "put-parameter"]]
    name = put[put.index("--name") + 1]
    overrides = sam_parses(["--stack-name", STACK, "--parameter-overrides", "file://tvs-params-source.yaml"], workdir)[
        "parameter_overrides"
    ]
    assert (overrides["TvsConfigSource"], overrides["TvsConfig"]) == (f"ssm:{name}", "")
    assert put[put.index("--value") + 1] == "file://tvs-config.json"
    assert _constraint_errors(template, overrides) == [] and Stack(template, **overrides).broken_rules() == []


def test_the_form_the_docs_warn_against_reaches_cloudformation_as_one_brace(aws_walkthrough):
    workdir, _, _ = aws_walkthrough
    assert 'TvsConfig="$(jq -c . tvs-config.json)"' in (REPO / "docs" / PAGE).read_text()
    args = subprocess.run(
        ["bash", "-c", 'printf "%s\\0" --parameter-overrides TvsConfig="$(jq -c . tvs-config.json)"'],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")[:-1]
    assert sam_parses(args, workdir)["parameter_overrides"]["TvsConfig"] == "{"


def test_a_document_with_a_quote_in_a_string_does_not_survive_sam_cli_as_the_docs_say(aws_walkthrough):
    workdir, _, _ = aws_walkthrough
    quoted = dict(json.loads((workdir / "tvs-config.json").read_text()), description='the "raw" zone')
    (workdir / "quoted.json").write_text(json.dumps(quoted))
    subprocess.run(["bash", "-c", "jq '{TvsConfig: tojson}' quoted.json > quoted.yaml"], cwd=workdir, check=True)
    value = sam_parses(["--parameter-overrides", "file://quoted.yaml"], workdir)["parameter_overrides"]["TvsConfig"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(value)


def _constraint_errors(template: dict, overrides: dict) -> list[str]:
    """What CloudFormation would refuse in these values: unknown names, MaxLength, AllowedPattern,
    AllowedValues (the parameter types here are String and CommaDelimitedList)."""
    import re

    errors = []
    for name, value in overrides.items():
        spec = template["Parameters"].get(name)
        if spec is None:
            errors.append(f"{name}: not a parameter")
            continue
        if "MaxLength" in spec and len(value) > spec["MaxLength"]:
            errors.append(f"{name}: longer than {spec['MaxLength']}")
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
            errors.append(f"{name}: does not match its pattern")
        if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
            errors.append(f"{name}: not an allowed value")
    return errors


# -- Azure -----------------------------------------------------------------------------------------


def test_the_azure_settings_file_holds_the_whole_configuration_as_one_string(tmp_path):
    config = json.loads((REPO / "examples" / "config.azure.json").read_text())
    (tmp_path / "tvs-config.json").write_text(json.dumps(config, indent=2))
    calls = run_offline(PAGE, "azure-settings", tmp_path, env={"RG": "rg-tvs", "APP": "tvs-func-1"})
    settings = json.loads((tmp_path / "tvs-settings.json").read_text())
    assert all(isinstance(v, str) for v in settings.values())  # app settings are strings
    assert (settings["TVS_MODE"], json.loads(settings["TVS_CONFIG"])) == ("deployed", config)
    (call,) = [c for c in calls if c[:1] == ["az"]]
    assert call[call.index("--settings") + 1] == "@tvs-settings.json"


def test_the_documented_build_commands_are_the_ones_the_sam_tests_run():
    assert block(PAGE, "offline", "aws-build").splitlines() == ["sam validate --lint", "sam build"]


# -- the README's short forms ------------------------------------------------------------------------


def test_the_readmes_aws_commands_deploy_the_whole_configuration(tmp_path):
    config = json.loads((REPO / "examples" / "config.aws-lambda.json").read_text())
    (tmp_path / "tvs-config.json").write_text(json.dumps(config, indent=2))
    calls = run_offline("README.md", "readme-aws", tmp_path)
    assert [c[:2] for c in calls] == [["sam", "validate"], ["sam", "build"], ["sam", "deploy"]]
    overrides = sam_parses(calls[2][2:], tmp_path)["parameter_overrides"]
    assert json.loads(overrides["TvsConfig"]) == config
    assert overrides["AssumableRoleArns"] == "arn:aws:iam::111122223333:role/tvs-sales-raw"


def test_the_readmes_azure_settings_file_holds_the_whole_configuration(tmp_path):
    config = json.loads((REPO / "examples" / "config.azure.json").read_text())
    (tmp_path / "tvs-config.json").write_text(json.dumps(config, indent=2))
    run_offline("README.md", "readme-azure", tmp_path)
    settings = json.loads((tmp_path / "tvs-settings.json").read_text())
    assert (settings["TVS_MODE"], json.loads(settings["TVS_CONFIG"])) == ("deployed", config)
