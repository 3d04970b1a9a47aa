"""Principal -> VAST user: a configured table first, then verified claims; nothing else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.errors import ConfigError, Problem
from shared.identity.principal import Principal
from shared.sections import Section
from shared.vast.mapping import VastUser, validate_mapping, vast_user_for

SID = "S-1-5-21-1004336348-1177238915-682003330-1101"


def mapping(raw: dict, tenant_id=None) -> dict:
    return validate_mapping(Section("stores.v.mapping", raw, ("users", "claims", "protected")), tenant_id)


def who(sub="alice", issuer_name="dev", **claims) -> Principal:
    return Principal(issuer_name=issuer_name, issuer="https://idp", subject=sub, extra=claims)


def test_the_table_maps_a_subject_to_a_local_user():
    assert vast_user_for(who(), mapping({"users": {"alice": {"user_id": 1001}}})) == VastUser(user_id=1001)


def test_a_table_entry_bound_to_an_issuer_does_not_map_the_same_subject_from_another():
    m = mapping({"users": {"alice": {"user_id": 1001, "issuer": "corp"}}})
    assert vast_user_for(who(issuer_name="corp"), m) == VastUser(user_id=1001)
    with pytest.raises(Problem) as info:
        vast_user_for(who(issuer_name="dev"), m)
    assert info.value.status == 403


def test_the_table_wins_over_claims():
    m = mapping({"users": {"alice": {"uid": 50001}}, "claims": {"sid": "onprem_sid"}})
    assert vast_user_for(who(onprem_sid=SID), m) == VastUser(uid=50001)


def test_a_sid_claim_is_tried_before_a_uid_claim():
    m = mapping({"claims": {"uid": "uidNumber", "sid": "onprem_sid"}})
    assert vast_user_for(who("x", onprem_sid=SID, uidNumber=50001), m) == VastUser(sid=SID)


def test_a_uid_claim_may_be_a_string_of_digits_and_carries_the_store_tenant():
    assert vast_user_for(
        who("x", uidNumber="50001"), mapping({"claims": {"uid": "uidNumber"}}, tenant_id=3)
    ) == VastUser(uid=50001, tenant_id=3)


@pytest.mark.parametrize("value", ["-1", "abc", True, 2**40, "S-1-5-*"])
def test_a_claim_that_is_not_a_valid_identifier_is_403(value):
    m = mapping({"claims": {"uid": "uidNumber"}})
    with pytest.raises(Problem) as info:
        vast_user_for(who("x", uidNumber=value), m)
    assert info.value.status == 403


def test_no_mapping_is_403():
    with pytest.raises(Problem) as info:
        vast_user_for(who("nobody"), mapping({"users": {"alice": {"user_id": 1001}}}))
    assert (info.value.status, info.value.slug) == (403, "vast-user-unmapped")


def test_the_vast_modules_import_no_cloud_sdk():
    code = (
        "import sys, shared.vast.vendor, shared.vast.lifecycle, shared.vast.reclaim, shared.ledger.sqlite, "
        "shared.ledger.dynamodb, shared.ledger.azure_table, shared.api.service; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'azure', 'google'}))"
    )
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo
    ).stdout.strip()
    assert out == "[]"


def test_a_uid_claim_in_digits_other_than_ascii_maps_to_no_user():
    m = mapping({"claims": {"uid": "uidNumber"}})
    with pytest.raises(Problem) as info:
        vast_user_for(who("x", uidNumber="\u0665\u0660\u0660\u0660\u0661"), m)  # 50001 in Arabic-Indic digits
    assert info.value.status == 403


@pytest.mark.parametrize(
    "claim,value",
    [
        ("uidNumber", 0),
        ("uidNumber", "0"),
        ("onprem_sid", "S-1-5-18"),
        ("onprem_sid", "S-1-5-32-544"),
        ("onprem_sid", "S-1-5-21-1004336348-1177238915-682003330-500"),
        ("onprem_sid", "S-1-5-21-1004336348-1177238915-682003330-512"),
        ("vast_user_id", 1),
    ],
)
def test_claims_never_map_to_a_built_in_or_privileged_vast_user(claim, value):
    m = mapping({"claims": {"uid": "uidNumber", "sid": "onprem_sid", "user_id": "vast_user_id"}})
    with pytest.raises(Problem) as info:
        vast_user_for(who("x", **{claim: value}), m)
    assert (info.value.status, info.value.slug) == (403, "vast-user-privileged")


def test_a_table_entry_naming_a_privileged_user_must_say_so():
    with pytest.raises(ConfigError) as info:
        mapping({"users": {"admin": {"user_id": 1}}})
    assert info.value.key == "stores.v.mapping.users.admin.privileged"
    assert vast_user_for(who("admin"), mapping({"users": {"admin": {"user_id": 1, "privileged": True}}})) == VastUser(
        user_id=1
    )


def test_more_protected_users_may_be_named_per_store():
    m = mapping({"claims": {"uid": "uidNumber"}, "protected": {"uids": [50009]}})
    with pytest.raises(Problem) as info:
        vast_user_for(who("x", uidNumber=50009), m)
    assert info.value.slug == "vast-user-privileged"


def test_with_two_issuers_a_table_entry_must_name_its_issuer():
    with pytest.raises(ConfigError) as info:
        validate_mapping(
            Section("stores.v.mapping", {"users": {"alice": {"user_id": 1001}}}, ("users", "claims")),
            None,
            ("corp", "partners"),
        )
    assert info.value.key == "stores.v.mapping.users.alice.issuer"


def test_with_two_issuers_claims_are_read_only_from_the_issuers_named():
    raw = {"claims": {"uid": "uidNumber", "issuers": ["corp"]}}
    m = validate_mapping(Section("stores.v.mapping", raw, ("users", "claims")), None, ("corp", "partners"))
    assert vast_user_for(who("x", issuer_name="corp", uidNumber=50001), m) == VastUser(uid=50001)
    with pytest.raises(Problem) as info:
        vast_user_for(who("x", issuer_name="partners", uidNumber=50001), m)
    assert info.value.slug == "vast-user-unmapped"
    with pytest.raises(ConfigError) as info:
        validate_mapping(
            Section("stores.v.mapping", {"claims": {"uid": "u"}}, ("users", "claims")), None, ("corp", "partners")
        )
    assert info.value.key == "stores.v.mapping.claims.issuers"
