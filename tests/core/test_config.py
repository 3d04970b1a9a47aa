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


@pytest.mark.parametrize("name,mode", [("config.azure.json", "deployed"), ("config.aws.json", "deployed"),
                                       ("config.local.json", "local")])
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
    "stores.sales-raw.account_url": lambda d: d["stores"]["sales-raw"].update(account_url="http://x.blob.core.windows.net"),
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
    proc = subprocess.run([sys.executable, "-m", "shared.check_config", str(bad)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], env={"PATH": "/usr/bin:/bin", "TVS_MODE": "deployed"})
    assert proc.returncode == 2
    assert "grants[0].access" in proc.stderr
