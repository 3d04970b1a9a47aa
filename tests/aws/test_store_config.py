"""An aws-s3 store block is validated at start-up; every error names the offending key."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from shared.config import load_config, parse_config
from shared.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "config.aws-s3.json"
BASE = json.loads(EXAMPLE.read_text())


def test_example_configuration_with_every_method_is_valid_when_deployed():
    config = load_config(str(EXAMPLE), mode="deployed")
    methods = {s.options["auth"]["method"] for s in config.stores.values()}
    assert methods == {"assume-role", "web-identity", "federation-token", "presign-only"}


def store(name):
    return lambda d: d["stores"][name]


def auth(name):
    return lambda d: d["stores"][name]["auth"]


CASES = {
    "stores.sales-raw.bucket": lambda d: store("sales-raw")(d).update(bucket="Sales_Raw*"),
    "stores.sales-raw.region": lambda d: store("sales-raw")(d).update(region="EU WEST"),
    "stores.sales-raw.endpoint_url": lambda d: store("sales-raw")(d).update(endpoint_url="http://s3.example.org"),
    "stores.sales-raw.sts_endpoint_url": lambda d: store("sales-raw")(d).update(sts_endpoint_url="ftp://x"),
    "stores.sales-raw.emulator": lambda d: store("sales-raw")(d).update(emulator=True),
    "stores.sales-raw.kms_key_arn": lambda d: store("sales-raw")(d).update(kms_key_arn="alias/sales"),
    "stores.sales-raw.ttl.max": lambda d: store("sales-raw")(d).update(ttl={"max": 600, "default": 300}),
    "stores.sales-raw.auth.method": lambda d: auth("sales-raw")(d).update(method="iam-user"),
    "stores.sales-raw.auth.role_arn": lambda d: auth("sales-raw")(d).update(role_arn="arn:aws:iam::12:role/*"),
    "stores.sales-raw.auth.source": lambda d: auth("sales-raw")(d).update(source="instance"),
    "stores.sales-raw.auth.source.access_key_id": lambda d: auth("sales-raw")(d).update(
        source={"access_key_id": "AKIAEXAMPLE", "secret_access_key": {"env": "X"}}
    ),
    "stores.sales-raw.auth.session_tags.tvs-subject": lambda d: auth("sales-raw")(d)["session_tags"].update(
        {"tvs-subject": "{password}"}
    ),
    "stores.sales-raw.auth.session_tags.aws:owner": lambda d: auth("sales-raw")(d)["session_tags"].update(
        {"aws:owner": "x"}
    ),
    "stores.sales-raw.auth.session_tags": lambda d: auth("sales-raw")(d).update(
        session_tags={f"t{i}": "x" for i in range(51)}
    ),
    "stores.sales-raw.auth.token": lambda d: auth("sales-raw")(d).update(token={"file": "/x"}),
    "stores.partner-exports.auth.external_id": lambda d: auth("partner-exports")(d).update(external_id="a"),
    "stores.lake-from-azure.auth.token": lambda d: auth("lake-from-azure")(d).update(
        token={"azure_audience": "api://AzureADTokenExchange", "file": "/var/run/token"}
    ),
    "stores.lake-from-azure.auth.external_id": lambda d: auth("lake-from-azure")(d).update(external_id="abc"),
    "stores.legacy-iam-user.auth.secret_access_key": lambda d: auth("legacy-iam-user")(d).pop("secret_access_key"),
    "stores.onprem-minio.auth.role_arn": lambda d: auth("onprem-minio")(d).update(role_arn="minio-role"),
    "stores.ibm-cos.auth.role_arn": lambda d: auth("ibm-cos")(d).update(role_arn="arn:aws:iam::123456789012:role/x"),
    "stores.ibm-cos.bucket": lambda d: store("ibm-cos")(d).pop("bucket"),
}


@pytest.mark.parametrize("key", CASES.keys())
def test_an_invalid_aws_store_names_the_offending_key(key):
    doc = copy.deepcopy(BASE)
    CASES[key](doc)
    with pytest.raises(ConfigError) as err:
        parse_config(doc, mode="deployed")
    assert err.value.key == key


def test_a_literal_key_in_the_configuration_is_refused_with_a_hint_to_use_a_reference():
    doc = copy.deepcopy(BASE)
    CASES["stores.sales-raw.auth.source.access_key_id"](doc)
    with pytest.raises(ConfigError, match="reference"):
        parse_config(doc, mode="deployed")


def test_emulator_store_with_plain_http_endpoints_is_allowed_in_local_mode():
    doc = copy.deepcopy(BASE)
    doc["stores"]["onprem-minio"].update(
        emulator=True, endpoint_url="http://127.0.0.1:9000", sts_endpoint_url="http://127.0.0.1:9000"
    )
    assert parse_config(doc, mode="local").stores["onprem-minio"].options["endpoint_url"] == "http://127.0.0.1:9000"


def test_presign_only_store_may_have_a_maximum_below_fifteen_minutes():
    doc = copy.deepcopy(BASE)
    doc["stores"]["ibm-cos"]["ttl"] = {"default": 300, "max": 600}
    assert parse_config(doc, mode="deployed").stores["ibm-cos"].ttl_max == 600


def test_a_default_store_maximum_below_the_sts_minimum_is_refused():
    doc = json.loads(EXAMPLE.read_text())
    doc["limits"] = {"max_ttl_seconds": 600}  # the stores' default maximum follows it down
    for store in doc["stores"].values():
        store.pop("ttl", None)
    with pytest.raises(ConfigError) as err:
        parse_config(doc, mode="deployed")
    assert err.value.key.endswith(".ttl.max") and "900" in str(err.value)
