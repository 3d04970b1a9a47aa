"""format=duckdb: a DuckDB CREATE SECRET statement for the vended credential, scoped to its store and
prefix, so a DuckDB user pastes one statement instead of mapping seven fields by hand. (DuckDB's
httpfs and azure extensions are downloaded by DuckDB at run time, so here the statement is checked
field by field.)"""

from __future__ import annotations

import base64
import re

from shared.aws.formats import duckdb_s3
from shared.kinds.contract import duckdb_statement
from shared.secrets import SecretResolver
from tests.support import build_service, call, issuer_block, token

KEY = base64.b64encode(b"k" * 64).decode()


def _params(statement: str) -> dict[str, str]:
    body = re.fullmatch(r"CREATE OR REPLACE SECRET (\w+) \((.*)\);", statement).group(2)
    return {m.group(1): m.group(2) for m in re.finditer(r"(\w+) ('(?:[^']|'')*'|\w+)", body)}


def test_an_azure_store_gives_an_azure_secret_with_the_sas_scoped_to_its_container_and_prefix(idp):
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {
            "lake": {
                "kind": "azure-blob",
                "account_url": "https://lake.blob.core.windows.net",
                "account_name": "lake",
                "container": "raw",
                "hierarchical_namespace": True,
                "auth": {"method": "account-key", "account_key": {"env": "LAKE_KEY"}},
            }
        },
        "grants": [{"match": {"groups": ["team"]}, "stores": ["lake"], "prefix": "team-a/", "access": "read"}],
    }
    service = build_service(raw, idp, secrets=SecretResolver({"LAKE_KEY": KEY}))
    resp = call(
        service,
        "POST",
        "/api/v1/credentials",
        token=token(idp, "alice", ["team"]),
        body={"store": "lake", "path": "team-a/", "access": "read", "format": "duckdb"},
    )
    assert resp.status == 200, resp.json()
    body = resp.json()
    params = _params(body["duckdb"])
    assert params["TYPE"] == "azure" and params["SCOPE"] == "'az://raw/team-a/'"
    assert params["CONNECTION_STRING"].startswith(
        "'BlobEndpoint=https://lake.blob.core.windows.net;SharedAccessSignature="
    )
    assert "sig=" in params["CONNECTION_STRING"] and set(body) == {"credential_id", "expires_at", "duckdb"}


def test_an_s3_session_gives_an_s3_secret_with_its_token_endpoint_and_url_style():
    params = duckdb_s3(
        "ASIAEXAMPLE", "s3cr3t", "tok", region="eu-west-3", endpoint_url="http://127.0.0.1:5000", path_style=True
    )
    assert params == {
        "TYPE": "s3",
        "KEY_ID": "ASIAEXAMPLE",
        "SECRET": "s3cr3t",
        "REGION": "eu-west-3",
        "SESSION_TOKEN": "tok",
        "ENDPOINT": "127.0.0.1:5000",
        "USE_SSL": False,
        "URL_STYLE": "path",
    }


def test_a_key_pair_without_a_session_token_names_none():
    assert "SESSION_TOKEN" not in duckdb_s3("AK", "SK", None, region="us-east-1", endpoint_url=None, path_style=False)


def test_values_are_sql_literals_and_the_secret_name_a_plain_identifier():
    statement = duckdb_statement("tvs_demo-s3", {"TYPE": "s3", "SECRET": "it's", "USE_SSL": True}, "s3://b/p/")
    assert statement == (
        "CREATE OR REPLACE SECRET tvs_demo_s3 (TYPE s3, SECRET 'it''s', USE_SSL true, SCOPE 's3://b/p/');"
    )
