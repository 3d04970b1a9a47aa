"""Configuration of vast-s3 stores and of the ledger: every mistake is refused, naming its key."""

from __future__ import annotations

import copy

import pytest

from shared.config import parse_config
from shared.errors import ConfigError
from shared.ledger import validate_ledger
from tests.support import issuer_block

STORE = {
    "kind": "vast-s3",
    "vms_url": "https://vms.example",
    "s3_endpoint": "https://s3.example",
    "auth": {"method": "api-token", "token": {"env": "VMS_TOKEN"}},
    "key_access": "read",
    "mapping": {"users": {"alice": {"user_id": 1001}}},
}
LEDGER = {"backend": "dynamodb", "table": "tvs-vast-keys", "region": "eu-west-3"}


def doc(idp, store=None, ledger=LEDGER, deployed=False):
    issuer = (
        issuer_block(idp, issuer="https://idp.example", jwks_uri="https://idp.example/jwks", dev=False)
        if deployed
        else issuer_block(idp)
    )
    raw = {"issuers": [issuer], "stores": {"v": store or copy.deepcopy(STORE)}}
    if ledger is not None:
        raw["ledger"] = ledger
    return raw


def refused(raw, mode="local") -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, mode)
    return info.value.key


def test_a_complete_store_is_accepted_with_its_defaults(idp):
    config = parse_config(doc(idp), "local")
    o = config.stores["v"].options
    assert (o["verify_tls"], o["timeout_seconds"], o["max_keys_per_user"], o["region"]) == (True, 10, 2, "us-east-1")
    assert config.ledger["backend"] == "dynamodb"


def test_a_vast_store_without_a_ledger_is_refused_naming_ledger(idp):
    assert refused(doc(idp, ledger=None)) == "ledger"


def test_a_configuration_without_revocable_stores_needs_no_ledger(idp):
    raw = doc(idp, ledger=None)
    raw["stores"] = {
        "b": {
            "kind": "azure-blob",
            "account_url": "https://a.blob.core.windows.net",
            "container": "c",
            "auth": {"method": "managed-identity"},
        }
    }
    assert parse_config(raw, "local").ledger is None


@pytest.mark.parametrize(
    "field,value,key",
    [
        ("vms_url", "http://vms.example", "stores.v.vms_url"),
        ("key_access", "admin", "stores.v.key_access"),
        ("auth", {"method": "basic", "username": "u", "password": "plain-text"}, "stores.v.auth.password"),
        ("mapping", {}, "stores.v.mapping"),
        ("mapping", {"users": {"alice": {"sid": "not-a-sid"}}}, "stores.v.mapping.users.alice.sid"),
        ("mapping", {"users": {"alice": {"uid": 1, "sid": "S-1-5-21-1"}}}, "stores.v.mapping.users.alice"),
        ("timeout_seconds", 0, "stores.v.timeout_seconds"),
        ("pending_grace_seconds", 15, "stores.v.pending_grace_seconds"),
        ("sweep", {"concurrency": 0}, "stores.v.sweep.concurrency"),
        ("bucket", "x", "stores.v.bucket"),
    ],
)
def test_a_bad_store_field_is_refused_naming_it(idp, field, value, key):
    store = copy.deepcopy(STORE)
    store[field] = value
    deployed = field == "vms_url"
    assert refused(doc(idp, store, deployed=deployed), mode="deployed" if deployed else "local") == key


def test_plain_http_to_vms_is_allowed_only_in_local_mode(idp):
    store = dict(STORE, vms_url="http://127.0.0.1:8444")
    assert parse_config(doc(idp, store), "local").stores["v"].options["vms_url"] == "http://127.0.0.1:8444"


def test_the_sam_table_variable_supplies_and_overrides_the_dynamodb_table():
    assert (
        validate_ledger("ledger", {"backend": "dynamodb"}, "deployed", {"TVS_LEDGER_TABLE": "from-env"})["table"]
        == "from-env"
    )
    assert validate_ledger("ledger", LEDGER, "deployed", {"TVS_LEDGER_TABLE": "from-env"})["table"] == "from-env"


@pytest.mark.parametrize(
    "ledger,key",
    [
        ({"backend": "mysql"}, "ledger.backend"),
        ({"backend": "dynamodb"}, "ledger.table"),
        ({"backend": "sqlite"}, "ledger.path"),
        ({"backend": "sqlite", "path": "x", "table": "t"}, "ledger.table"),
        (
            {"backend": "azure-table", "table": "bad-name", "account_url": "https://a.table.core.windows.net"},
            "ledger.table",
        ),
        ({"backend": "azure-table", "table": "vastkeys"}, "ledger.account_url"),
        (
            {"backend": "azure-table", "table": "vastkeys", "connection_string": "DefaultEndpointsProtocol=https"},
            "ledger.connection_string",
        ),
        ("sqlite", "ledger"),
    ],
)
def test_a_bad_ledger_block_is_refused_naming_its_key(ledger, key):
    with pytest.raises(ConfigError) as info:
        validate_ledger("ledger", ledger, "deployed", {})
    assert info.value.key == key


def test_an_azure_table_ledger_defaults_to_managed_identity():
    options = validate_ledger(
        "ledger",
        {"backend": "azure-table", "table": "vastkeys", "account_url": "https://a.table.core.windows.net"},
        "deployed",
        {},
    )
    assert options["auth"] == "managed-identity"


def test_the_request_deadline_defaults_below_the_api_function_timeout(idp):
    from tests.deploy.template import load_template

    o = parse_config(doc(idp), "local").stores["v"].options
    api_timeout = load_template()["Resources"]["ApiFunction"]["Properties"]["Timeout"]
    assert o["request_deadline_seconds"] == 20 and api_timeout - o["request_deadline_seconds"] >= 5


@pytest.mark.parametrize("value", [0, 26, 60, "20"])
def test_a_request_deadline_past_the_platform_limit_is_refused_naming_it(idp, value):
    store = dict(copy.deepcopy(STORE), request_deadline_seconds=value)
    assert refused(doc(idp, store)) == "stores.v.request_deadline_seconds"


@pytest.mark.parametrize(
    "over,key",
    [
        ({"timeout_seconds": 60, "retries": 5}, "stores.v.timeout_seconds"),
        ({"timeout_seconds": 60}, "stores.v.timeout_seconds"),
        ({"retries": 5}, "stores.v.retries"),
    ],
)
def test_vms_settings_one_sweep_record_could_outrun_the_sweep_with_are_refused_naming_the_key(idp, over, key):
    store = dict(copy.deepcopy(STORE), pending_grace_seconds=600, **over)
    assert refused(doc(idp, store)) == key


def test_accepted_vms_settings_fit_half_the_smallest_sweep_budget(idp):
    from shared.vast.config import SWEEP_BUDGET_MAX_SECONDS, sweep_reserve_seconds
    from shared.vast.vms_client import VmsClient

    store = dict(copy.deepcopy(STORE), timeout_seconds=19, retries=2)
    o = parse_config(doc(idp, store), "local").stores["v"].options
    vms = VmsClient("https://vms.example", auth=("api-token", "t"), timeout=o["timeout_seconds"], retries=o["retries"])
    assert sweep_reserve_seconds(vms) <= SWEEP_BUDGET_MAX_SECONDS / 2


def test_the_sweep_budget_bound_is_the_smallest_platform_budget():
    import importlib

    import function_app
    from shared.vast.config import SWEEP_BUDGET_MAX_SECONDS
    from tests.deploy.template import load_template

    lambda_sweep = importlib.import_module("lambda.sweep")
    sweep_timeout = load_template()["Resources"]["SweepFunction"]["Properties"]["Timeout"]
    azure_max = function_app._sweep_budget("1e9")
    assert min(azure_max, sweep_timeout - lambda_sweep.SAFETY_MARGIN_SECONDS) == SWEEP_BUDGET_MAX_SECONDS
