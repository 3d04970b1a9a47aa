"""Authorization is pure: principal x request -> grant with a clamped TTL, or 403."""

import pytest

from shared.authz import authorize, visible_grants
from shared.config import parse_config
from shared.errors import Problem
from shared.identity.principal import Principal

CONFIG = {
    "issuers": [{"issuer": "https://idp.example/", "audiences": ["tvs"]}],
    "stores": {
        "sales": {
            "kind": "azure-blob",
            "account_url": "https://acct.blob.core.windows.net",
            "container": "sales",
            "auth": {"method": "managed-identity"},
            "ttl": {"default": 600, "max": 1800},
        },
        "hr": {
            "kind": "azure-blob",
            "account_url": "https://acct.blob.core.windows.net",
            "container": "hr",
            "auth": {"method": "managed-identity"},
        },
    },
    "grants": [
        {
            "name": "team-a",
            "match": {"groups": ["team-a"]},
            "stores": ["sales"],
            "prefix": "team-a/",
            "access": "write",
            "max_ttl_seconds": 7200,
        },
        {
            "name": "own",
            "match": {"groups": ["staff"]},
            "stores": ["*"],
            "prefix": "users/{sub}/",
            "access": "delete",
            "max_ttl_seconds": 900,
        },
        {
            "name": "auditors",
            "match": {"roles": ["Auditor"], "issuers": ["https://idp.example/"]},
            "stores": ["hr"],
            "access": "read",
        },
    ],
}


@pytest.fixture(scope="module")
def config():
    return parse_config(CONFIG)


def who(sub="alice", groups=(), roles=()):
    return Principal(
        issuer_name="https://idp.example/",
        issuer="https://idp.example/",
        subject=sub,
        groups=tuple(groups),
        roles=tuple(roles),
    )


def test_a_grant_covers_its_prefix_and_lower_access_levels(config):
    grant = authorize(config, who(groups=["team-a"]), "sales", "team-a/q1/", "read", None)
    assert (grant.path, grant.access, grant.rule) == ("team-a/q1/", "read", "team-a")


def test_a_prefix_grant_does_not_match_a_sibling_with_the_same_start(config):
    with pytest.raises(Problem) as err:
        authorize(config, who(groups=["team-a"]), "sales", "team-ab/", "read", None)
    assert err.value.status == 403


def test_a_higher_access_level_than_granted_is_refused(config):
    with pytest.raises(Problem):
        authorize(config, who(roles=["Auditor"]), "hr", "", "write", None)


def test_a_grant_for_another_store_does_not_apply(config):
    with pytest.raises(Problem):
        authorize(config, who(groups=["team-a"]), "hr", "team-a/", "read", None)


def test_placeholder_prefix_is_the_callers_own(config):
    assert authorize(config, who("bob", ["staff"]), "hr", "users/bob/x.csv", "delete", None).path == "users/bob/x.csv"
    with pytest.raises(Problem):
        authorize(config, who("bob", ["staff"]), "hr", "users/alice/", "read", None)


def test_the_store_default_ttl_applies_when_none_is_asked(config):
    assert authorize(config, who(groups=["team-a"]), "sales", "team-a/", "read", None).ttl_seconds == 600


def test_ttl_is_clamped_to_the_store_maximum(config):
    assert authorize(config, who(groups=["team-a"]), "sales", "team-a/", "read", 99_999).ttl_seconds == 1800


def test_ttl_is_clamped_to_the_grant_maximum(config):
    assert authorize(config, who("bob", ["staff"]), "hr", "users/bob/", "read", 3000).ttl_seconds == 900


def test_nobody_matching_no_grant_gets_nothing(config):
    with pytest.raises(Problem):
        authorize(config, who(groups=["visitors"]), "sales", "", "list", None)
    assert visible_grants(config, who(groups=["visitors"])) == []


def test_visible_grants_list_the_callers_prefixes_per_store(config):
    listing = {s["store"]: s["grants"] for s in visible_grants(config, who("bob", ["staff", "team-a"]))}
    assert listing["sales"] == [
        {"prefix": "team-a/", "access": "write", "max_ttl_seconds": 1800},
        {"prefix": "users/bob/", "access": "delete", "max_ttl_seconds": 900},
    ]
    assert listing["hr"] == [{"prefix": "users/bob/", "access": "delete", "max_ttl_seconds": 900}]


def test_visible_grants_keep_a_longer_lived_lower_level_beside_a_shorter_higher_one():
    doc = dict(
        CONFIG,
        grants=[
            {"match": {"groups": ["g"]}, "stores": ["hr"], "prefix": "p/", "access": "read", "max_ttl_seconds": 3600},
            {"match": {"groups": ["g"]}, "stores": ["hr"], "prefix": "p/", "access": "write", "max_ttl_seconds": 900},
            {"match": {"groups": ["g"]}, "stores": ["hr"], "prefix": "p/", "access": "list", "max_ttl_seconds": 600},
        ],
    )
    [listing] = visible_grants(parse_config(doc), who(groups=["g"]))
    assert listing["grants"] == [
        {"prefix": "p/", "access": "read", "max_ttl_seconds": 3600},
        {"prefix": "p/", "access": "write", "max_ttl_seconds": 900},
    ]
