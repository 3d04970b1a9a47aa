"""The configuration document is validated whole at start-up; errors name the offending key."""

import copy
import json
from pathlib import Path

import pytest

from shared.config import load_config, parse_config
from shared.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE = json.loads((EXAMPLES / "config.azure.json").read_text())


def broken(mutate):
    doc = copy.deepcopy(BASE)
    mutate(doc)
    return doc


@pytest.mark.parametrize(
    "name,mode",
    [
        ("config.azure.json", "deployed"),
        ("config.aws.json", "deployed"),
        ("config.local.json", "local"),
        ("config.accessmanager.json", "deployed"),
    ],
)
def test_example_configurations_are_valid(name, mode):
    config = load_config(str(EXAMPLES / name), mode=mode)
    assert config.stores and config.issuers


CASES = {
    "issuers[0].issuer": lambda d: d["issuers"][0].pop("issuer"),
    "issuers[0].algorithms[0]": lambda d: d["issuers"][0].update(algorithms=["HS256"]),
    "issuers[0].audiences": lambda d: d["issuers"][0].update(audiences=[]),
    "issuers[0].claims_profile": lambda d: d["issuers"][0].update(claims_profile="okta-ish"),
    "issuers[0].jwks_uri": lambda d: d["issuers"][0].update(jwks_uri="http://idp.example/keys"),
    "stores.sales-raw.kind": lambda d: d["stores"]["sales-raw"].update(kind="ftp"),
    "stores.sales-raw.ttl.max": lambda d: d["stores"]["sales-raw"].update(ttl={"max": 10}),
    "stores.sales-raw.auth.method": lambda d: d["stores"]["sales-raw"]["auth"].update(method="password"),
    "stores.sales-raw.account_url": lambda d: d["stores"]["sales-raw"].update(
        account_url="http://x.blob.core.windows.net"
    ),
    "stores.sales-raw.colour": lambda d: d["stores"]["sales-raw"].update(colour="blue"),
    "stores.archive.auth.account_key": lambda d: d["stores"]["archive"]["auth"].update(account_key="c2VjcmV0"),
    "stores.Bad_Id": lambda d: d["stores"].update(Bad_Id=d["stores"]["archive"]),
    "grants[0].stores[0]": lambda d: d["grants"][0].update(stores=["nope"]),
    "grants[0].prefix": lambda d: d["grants"][0].update(prefix="exports"),
    "grants[0].access": lambda d: d["grants"][0].update(access="admin"),
    "grants[0].match": lambda d: d["grants"][0].update(match={}),
    "limits.max_body_bytes": lambda d: d.update(limits={"max_body_bytes": "big"}),
    "surprise": lambda d: d.update(surprise=True),
}


@pytest.mark.parametrize("key", CASES.keys())
def test_an_invalid_document_names_the_offending_key(key):
    with pytest.raises(ConfigError) as err:
        parse_config(broken(CASES[key]))
    assert err.value.key == key


def test_a_literal_secret_is_refused_with_a_hint_to_use_a_reference():
    with pytest.raises(ConfigError, match="reference"):
        parse_config(broken(CASES["stores.archive.auth.account_key"]))


def test_the_development_issuer_is_refused_outside_local_mode():
    local = json.loads((EXAMPLES / "config.local.json").read_text())
    with pytest.raises(ConfigError) as err:
        parse_config(local, mode="deployed")
    assert err.value.key.startswith("issuers[0]")


def test_emulator_stores_are_refused_outside_local_mode():
    doc = broken(lambda d: d["stores"]["sales-raw"].update(emulator=True))
    with pytest.raises(ConfigError) as err:
        parse_config(doc)
    assert err.value.key == "stores.sales-raw.emulator"


def test_an_unset_config_variable_is_an_error(monkeypatch):
    monkeypatch.delenv("TVS_CONFIG", raising=False)
    with pytest.raises(ConfigError) as err:
        load_config()
    assert err.value.key == "TVS_CONFIG"


def test_the_document_may_be_given_inline(monkeypatch):
    monkeypatch.setenv("TVS_CONFIG", json.dumps(BASE))
    assert set(load_config(mode="deployed").stores) == {"sales-raw", "archive"}


def test_invalid_json_is_reported_with_its_position():
    with pytest.raises(ConfigError, match="line 1"):
        load_config('{"issuers": [}', mode="deployed")


def test_the_cli_check_refuses_to_start_on_an_invalid_document(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken(CASES["grants[0].access"])))
    proc = subprocess.run(
        [sys.executable, "-m", "shared.check_config", str(bad)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={"PATH": "/usr/bin:/bin", "TVS_MODE": "deployed"},
    )
    assert proc.returncode == 2
    assert "grants[0].access" in proc.stderr


# -- issuers that could speak for someone else's users ---------------------------------------------

ENTRA_TEMPLATE = "https://login.microsoftonline.com/{tenantid}/v2.0"


def refused_key(doc, mode="deployed") -> str:
    with pytest.raises(ConfigError) as err:
        parse_config(doc, mode)
    return err.value.key


@pytest.mark.parametrize("mode", ["deployed", "local"])
def test_a_tenant_template_issuer_must_name_its_tenants(mode):
    doc = broken(lambda d: d["issuers"][0].pop("tenants"))
    assert doc["issuers"][0]["issuer"] == ENTRA_TEMPLATE
    assert refused_key(doc, mode) == "issuers[0].tenants"


def test_any_tenant_is_refused_unless_every_grant_for_the_issuer_matches_on_tenant():
    def any_tenant(d):
        d["issuers"][0].pop("tenants")
        d["issuers"][0]["any_tenant"] = True

    assert refused_key(broken(any_tenant)) == "grants[0].match.tenants"

    def pinned(d):
        any_tenant(d)
        for grant in d["grants"]:
            grant["match"]["tenants"] = ["11111111-2222-3333-4444-555555555555"]

    assert parse_config(broken(pinned)).issuers[0].any_tenant


def test_any_tenant_and_a_tenant_list_together_are_refused():
    assert refused_key(broken(lambda d: d["issuers"][0].update(any_tenant=True))) == "issuers[0].any_tenant"


def test_any_tenant_is_only_for_a_tenant_template_issuer():
    doc = json.loads((EXAMPLES / "config.aws.json").read_text())
    doc["issuers"][0]["any_tenant"] = True
    assert refused_key(doc) == "issuers[0].any_tenant"


def test_a_discovery_url_over_plain_http_is_refused_in_deployed_mode():
    def plain_http(d):
        d["issuers"][0].pop("jwks_uri")
        d["issuers"][0]["discovery_url"] = "http://idp.example/.well-known/openid-configuration"

    assert refused_key(broken(plain_http)) == "issuers[0].discovery_url"


def two_issuers(mutate=lambda d: None) -> dict:
    doc = json.loads((EXAMPLES / "config.aws.json").read_text())
    mutate(doc)
    return doc


def test_with_two_issuers_a_grant_must_name_the_issuer_of_its_subjects_and_groups():
    assert refused_key(two_issuers(lambda d: d["grants"][0]["match"].pop("issuers"))) == "grants[0].match.issuers"


def test_with_two_issuers_admin_groups_must_name_their_issuer():
    assert refused_key(two_issuers(lambda d: d.update(admin_groups=["tvs-admins"]))) == "admin_groups"


def test_with_two_issuers_admin_groups_per_issuer_are_accepted():
    config = parse_config(two_issuers())
    assert config.admin_groups == (("cognito", "tvs-admins"),)


def test_admin_groups_name_configured_issuers():
    assert refused_key(two_issuers(lambda d: d.update(admin_groups={"nobody": ["x"]}))) == "admin_groups.nobody"


def test_an_issuer_containing_the_principal_key_separator_is_refused():
    assert (
        refused_key(broken(lambda d: d["issuers"][0].update(issuer="https://idp.example/a|b"))) == "issuers[0].issuer"
    )


def test_a_tenant_template_issuer_without_a_jwks_uri_is_refused():
    assert refused_key(broken(lambda d: d["issuers"][0].pop("jwks_uri"))) == "issuers[0].jwks_uri"


@pytest.mark.parametrize("claim", ["email", "preferred_username"])
def test_a_prefix_naming_a_claim_its_owner_can_change_is_refused(claim):
    doc = broken(lambda d: d["grants"][0].update(prefix=f"users/{{{claim}}}/"))
    assert refused_key(doc) == "grants[0].prefix"


def test_a_claim_the_issuer_manages_may_name_a_prefix():
    def managed(d):
        d["issuers"][0]["immutable_claims"] = ["email"]
        d["grants"][0]["prefix"] = "users/{email}/"

    assert parse_config(broken(managed)).grants[0].prefix == "users/{email}/"


def test_immutable_claims_names_only_claims_that_could_change():
    assert (
        refused_key(broken(lambda d: d["issuers"][0].update(immutable_claims=["sub"])))
        == "issuers[0].immutable_claims[0]"
    )
