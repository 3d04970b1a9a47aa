"""Generated session policies: pinned by golden files and checked by an independent evaluator.

Regenerate the golden files after an intended change with
``python tests/aws/test_session_policy.py --update`` and review the diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.aws.policy import MAX_POLICY_CHARS, UnsafePolicyInput, deny_all, session_policy
from shared.errors import Problem
from shared.paths import validate_path
from tests.aws import policy_checker
from tests.aws.policy_checker import Grant, evaluate, violations

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "aws"
KMS_KEY = "arn:aws:kms:eu-west-3:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SCOPES = {"bucket": "", "prefix": "team-a/", "object": "team-a/report.csv"}
CASES = {
    f"{access}-{scope}": dict(path=path, access=access)
    for access in ("list", "read", "write", "delete")
    for scope, path in SCOPES.items()
}
CASES.update(
    {
        "read-prefix-kms": dict(path="team-a/", access="read", kms_key_arn=KMS_KEY),
        "write-prefix-kms": dict(path="team-a/", access="write", kms_key_arn=KMS_KEY),
        "delete-object-kms": dict(path="team-a/report.csv", access="delete", kms_key_arn=KMS_KEY),
        "list-prefix-kms": dict(path="team-a/", access="list", kms_key_arn=KMS_KEY),
    }
)


def generate(case: dict):
    return session_policy("demo", case["path"], case["access"], region="eu-west-3", kms_key_arn=case.get("kms_key_arn"))


def canonical(doc: dict) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_policy_matches_its_golden_file(name):
    golden = json.loads((GOLDEN / f"{name}.json").read_text())
    assert generate(CASES[name]).text == canonical(golden)


def test_deny_all_matches_its_golden_file():
    assert deny_all().text == canonical(json.loads((GOLDEN / "deny-all.json").read_text()))


def test_every_golden_file_is_generated_by_a_case():
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(CASES) | {"deny-all"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_policy_allows_exactly_its_grant(name):
    case = CASES[name]
    grant = Grant("demo", case["path"], case["access"], case.get("kms_key_arn"))
    assert violations(generate(case).document, grant) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_s3_prefix_condition_guards_only_actions_whose_requests_carry_s3_prefix(name):
    # Elsewhere the key is missing, the condition never matches, and the action is dead weight.
    for statement in generate(CASES[name]).document["Statement"]:
        if "s3:prefix" in json.dumps(statement.get("Condition", {})):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert set(actions) <= policy_checker.PREFIX_KEYED_ACTIONS


def test_list_on_a_single_object_denies_everything():
    policy = generate(dict(path="team-a/report.csv", access="list"))
    assert policy.denies_all
    assert evaluate(policy.document, "s3:ListBucket", "arn:aws:s3:::demo", {"s3:prefix": "team-a/report.csv"}) == "Deny"


def test_deny_all_refuses_every_probe():
    grant = Grant("demo", "team-a/", "delete")
    assert all(
        evaluate(deny_all().document, p.action, p.resource, p.context) != "Allow" for p in policy_checker.probes(grant)
    )


def test_prefix_grant_does_not_reach_a_sibling_prefix_with_the_same_start():
    policy = generate(dict(path="team-a/", access="delete")).document
    assert evaluate(policy, "s3:GetObject", "arn:aws:s3:::demo/team-a/x") == "Allow"
    assert evaluate(policy, "s3:GetObject", "arn:aws:s3:::demo/team-ab/x") == "ImplicitDeny"
    assert evaluate(policy, "s3:ListBucket", "arn:aws:s3:::demo", {"s3:prefix": "team-ab/"}) == "ImplicitDeny"
    assert evaluate(policy, "s3:ListBucket", "arn:aws:s3:::demo", {"s3:prefix": "team-a"}) == "ImplicitDeny"


@pytest.mark.parametrize("bad", ["team-*/", "team-?/", "users/${aws:username}/", "a/*"])
def test_policy_builder_refuses_wildcards_and_policy_variables_in_the_path(bad):
    with pytest.raises(UnsafePolicyInput):
        session_policy("demo", bad, "read", region="eu-west-3")


def test_policy_builder_refuses_wildcards_in_the_bucket_name():
    with pytest.raises(UnsafePolicyInput):
        session_policy("demo*", "", "read", region="eu-west-3")


def test_policy_over_the_size_limit_is_refused_before_sts_with_a_400():
    policy = session_policy("demo", "p/" + "x" * 700 + "/", "write", region="eu-west-3")
    assert len(policy.text) > MAX_POLICY_CHARS
    with pytest.raises(Problem) as caught:
        policy.check_size()
    assert (caught.value.status, caught.value.slug) == (400, "policy-too-large")


def test_policies_in_other_partitions_name_that_partition():
    policy = session_policy("demo", "a/", "read", region="cn-north-1", kms_key_arn=None)
    assert "arn:aws-cn:s3:::demo/a/*" in policy.text and "arn:aws:s3" not in policy.text


@pytest.mark.parametrize(
    "region, partition, s3_host",
    [
        ("us-iso-east-1", "aws-iso", "s3.us-iso-east-1.c2s.ic.gov"),
        ("us-isob-east-1", "aws-iso-b", "s3.us-isob-east-1.sc2s.sgov.gov"),
        ("us-isof-south-1", "aws-iso-f", "s3.us-isof-south-1.csp.hci.ic.gov"),
        ("eu-isoe-west-1", "aws-iso-e", "s3.eu-isoe-west-1.cloud.adc-e.uk"),
        ("eusc-de-east-1", "aws-eusc", "s3.eusc-de-east-1.amazonaws.eu"),
        ("us-gov-west-1", "aws-us-gov", "s3.us-gov-west-1.amazonaws.com"),
    ],
)
def test_policies_in_isolated_and_sovereign_partitions_name_that_partition(region, partition, s3_host):
    key = f"arn:{partition}:kms:{region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    document = session_policy("demo", "a/", "write", region=region, kms_key_arn=key).document
    resources = [st["Resource"] for st in document["Statement"]]
    assert resources == [f"arn:{partition}:s3:::demo", f"arn:{partition}:s3:::demo/a/*", key]
    assert document["Statement"][-1]["Condition"]["StringEquals"]["kms:ViaService"] == s3_host


# -- the checker itself must be able to fail -------------------------------------------------------
def test_checker_reports_a_policy_that_reaches_a_sibling_prefix():
    broad = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": "arn:aws:s3:::demo/team-a*",
            },
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::demo",
                "Condition": {"StringLike": {"s3:prefix": "team-a/*"}},
            },
        ],
    }
    found = violations(broad, Grant("demo", "team-a/", "read"))
    assert any("team-ab/file" in v for v in found) and all(v.startswith("over-grant") for v in found)


def test_checker_reports_a_listing_without_a_prefix_condition():
    broad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::demo"}],
    }
    assert "over-grant: s3:ListBucket demo prefix=None" in violations(broad, Grant("demo", "team-a/", "list"))


def test_checker_reports_a_missing_right():
    assert "under-grant: s3:GetObject demo/team-a/file" in violations(
        deny_all().document, Grant("demo", "team-a/", "read")
    )


# -- any valid prefix, not only the examples --------------------------------------------------------
SEGMENT = st.text(alphabet=st.sampled_from("abcXYZ019-_.+=@,é ü"), min_size=1, max_size=8)


def _valid(path: str) -> bool:
    try:
        validate_path(path)
        return True
    except ValueError:
        return False


@settings(max_examples=40, deadline=None)
@given(
    segments=st.lists(SEGMENT, min_size=1, max_size=3),
    access=st.sampled_from(["list", "read", "write", "delete"]),
    as_object=st.booleans(),
    kms=st.booleans(),
)
def test_any_valid_path_gets_a_policy_that_allows_exactly_its_grant(segments, access, as_object, kms):
    path = "/".join(segments) + ("" if as_object else "/")
    assume(_valid(path))
    key = KMS_KEY if kms else None
    policy = session_policy("demo", path, access, region="eu-west-3", kms_key_arn=key)
    assert violations(policy.document, Grant("demo", path, access, key)) == []


if __name__ == "__main__" and "--update" in sys.argv:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, case in CASES.items():
        (GOLDEN / f"{name}.json").write_text(json.dumps(generate(case).document, indent=2, ensure_ascii=False) + "\n")
    (GOLDEN / "deny-all.json").write_text(json.dumps(deny_all().document, indent=2) + "\n")
    print(f"wrote {len(CASES) + 1} golden files to {GOLDEN}")
