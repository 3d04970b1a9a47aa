"""Tokens, secrets and signatures never reach a log line."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import parse_qs

import pytest

from shared import logsafe
from shared.logsafe import RedactingFilter, redact
from shared.secrets import SecretResolver
from tests.azure.test_azure_sas import config_for
from tests.localstack import local_stack
from tests.support import build_service, call, token


def test_a_whole_session_of_vends_and_refusals_logs_no_token_or_signature(azurite, idp, caplog):
    caplog.set_level(logging.DEBUG)
    service = build_service(
        config_for(azurite, idp, "account-key"),
        idp,
        secrets=SecretResolver({"AZURITE_CONNECTION_STRING": azurite.connection_string}),
    )
    alice = token(idp, "alice", ["readers", "users"])
    secrets = [alice, azurite.connection_string.split("AccountKey=")[1].split(";")[0]]
    for body in ({"store": "demo", "access": "read"}, {"store": "demo", "access": "read", "path": f"x/{uuid.uuid4()}"}):
        resp = call(service, "POST", "/api/v1/credentials", token=alice, body=body)
        secrets.append(parse_qs(resp.json()["credentials"]["sas_token"])["sig"][0])
    signed = call(
        service,
        "POST",
        "/api/v1/signed-urls",
        token=alice,
        body={"store": "demo", "object": "users/alice/a.txt", "method": "PUT"},
    ).json()
    secrets.append(parse_qs(signed["url"].split("?", 1)[1])["sig"][0])
    call(service, "GET", "/api/v1/stores", token=alice + "x")
    call(service, "POST", "/api/v1/credentials", token=alice, body={"store": "demo", "access": "delete"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert '"event":"issue"' in text and '"outcome":"denied"' in text  # the audit trail is there
    for secret in secrets:
        assert secret not in text


def test_the_redaction_filter_scrubs_what_a_library_might_log():
    sas = "https://a.blob.core.windows.net/c/b?sp=r&sig=abc%2Bdef&se=x"
    jwt_like = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
    s3 = "https://b.s3.amazonaws.com/k?X-Amz-Signature=0123abcd&X-Amz-Security-Token=FQoG"
    line = redact(f"GET {sas} Authorization: Bearer {jwt_like} {s3} AccountKey=Zm9v; \"SecretAccessKey\": \"wJal\"")
    for secret in ("abc%2Bdef", jwt_like, "0123abcd", "FQoG", "Zm9v", "wJal"):
        assert secret not in line


def test_the_filter_drops_tracebacks_that_could_quote_a_signed_url():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("https://h/c?sig=SECRET",), None)
    try:
        raise ValueError("https://h/c?sig=SECRET")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    assert "SECRET" not in record.getMessage() and record.exc_info is None


@pytest.mark.parametrize(
    "template",
    [
        "{{'SecretAccessKey': '{s}'}}",  # a dict printed with repr()
        "headers={{'X-Amz-Security-Token': b'{s}'}}",  # botocore's debug line of request headers
        "Response body: b'<Credentials><SecretAccessKey>{s}</SecretAccessKey><SessionToken>{s}</SessionToken>'",
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature={s}",
        "Authorization: SharedKey acct:{s}",
        "sig={s}&se=2026-01-01",
        "X-Amz-Signature: {s}",
        "ClientSecret={s}",
        '{{"SecretString": "{s}"}}',
    ],
)
def test_the_redaction_filter_scrubs_secrets_in_the_other_shapes_libraries_print(template):
    secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
    assert secret not in redact(template.format(s=secret))


# -- a broad slice of the suite's traffic, over HTTP, every logger at DEBUG --------------------------------
def _secrets_of(answer: dict) -> list[str]:
    """Every secret an answer carries: keys, session tokens, SAS and URL signatures, sign-in tokens."""
    found = []
    creds = answer.get("credentials") or {}
    for name in ("secret_access_key", "session_token", "sas_token"):
        if creds.get(name):
            found.append(creds[name])
    for url in (answer.get("url"), answer.get("console_url"), creds.get("sas_url")):
        if url and "?" in url:
            query = parse_qs(url.split("?", 1)[1])
            for name in ("sig", "X-Amz-Signature", "X-Amz-Security-Token", "SigninToken"):
                found += query.get(name, [])
    return [s for s in found if s and len(s) >= 8]


@pytest.fixture(scope="module")
def stack(azurite, moto_server, certs, tmp_path_factory):
    with local_stack(azurite, moto_server, certs, tmp_path_factory.mktemp("logs-state")) as running:
        yield running


def test_a_broad_slice_of_traffic_on_every_store_kind_logs_no_token_secret_or_signature(stack, azurite, caplog):
    import requests

    from tests.adapters.test_parity import CASE_IDS, _cases

    caplog.set_level(logging.DEBUG)
    for name in ("azure", "botocore", "boto3", "urllib3"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    logsafe.install()  # as every adapter does: the filter on the handlers (here, the capture's) and on tvs
    api = f"{stack.url}/api/v1"
    alice, admin = stack.token("alice"), stack.token("root", ("demo-admins",))
    supplier = stack.token("alice", (), roles=("org_demo_access", "spc_main_supplier"))
    secrets = [alice, admin, supplier, azurite.connection_string.split("AccountKey=")[1].split(";")[0]]

    def send(method, url, tok=None, **kw):
        headers = {"Authorization": f"Bearer {tok}"} if tok else {}
        return requests.request(method, url, headers=headers, timeout=30, **kw)

    # the parity requests (good, malformed, refused), as the adapters' parity test sends them
    cases = _cases(stack.server.idp)
    for case in CASE_IDS:
        _status, request = cases[case]
        headers = dict(request.get("headers", {}))
        if headers.get("Authorization"):
            secrets.append(headers["Authorization"].split(" ", 1)[1])
        requests.request(
            request["method"], stack.url + request["path"], headers=headers, data=request.get("body"), timeout=30
        )
    # vends of every kind and format, signed URLs, and refusals
    bodies = [
        {"store": "demo-azure", "access": "read"},
        {"store": "demo-azure", "access": "read", "path": "users/alice/x.txt", "format": "iceberg"},
        {"store": "demo-s3", "access": "write", "path": "users/alice/"},
        {"store": "demo-s3", "access": "read", "format": "credential_process"},
        {"store": "demo-s3", "access": "read", "format": "console"},
        {"store": "demo-vast", "access": "read"},
        {"store": "demo-vast", "access": "read", "format": "iceberg"},
        {"store": "demo-s3", "access": "delete"},  # 403
        {"store": "demo-azure", "access": "read", "path": "users/../x/"},  # 400
    ]
    vast_ids = []
    for body in bodies:
        answer = send("POST", f"{api}/credentials", alice, json=body)
        if answer.status_code == 200:
            doc = answer.json()
            secrets += _secrets_of(doc)
            if "storage-credentials" in doc:
                config = doc["storage-credentials"][0]["config"]
                secrets += [v for k, v in config.items() if ("secret" in k or "token" in k) and "expires" not in k]
            if doc.get("provider") == "vast-s3":
                vast_ids.append(doc["credential_id"])
    for store in ("demo-azure", "demo-s3"):
        for method in ("GET", "PUT"):
            answer = send(
                "POST",
                f"{api}/signed-urls",
                alice,
                json={"store": store, "object": "users/alice/a.txt", "method": method},
            )
            secrets += _secrets_of(answer.json())
    answer = send("GET", f"{api}/aws/container-credentials/demo-s3?access=read", alice)
    secrets += [answer.json()["SecretAccessKey"], answer.json()["Token"]]
    for cid in vast_ids:
        send("DELETE", f"{api}/credentials/{cid}", alice)
    sas = send("POST", f"{stack.url}/api/v2.0/accessmanager/upload?organization=demo&space=main", supplier).text
    secrets += parse_qs(sas)["sig"]
    send("POST", f"{stack.url}/api/v2.0/accessmanager/commit?organization=demo&space=main&rootDir=run-1", supplier)
    stack.service.reclaim_expired(10)

    text = "\n".join(r.getMessage() for r in caplog.records)
    assert '"event":"issue"' in text and '"event":"revoke"' in text and '"outcome":"denied"' in text
    assert len(secrets) > 30
    leaked = [s[:12] + "…" for s in set(secrets) if s in text]
    assert leaked == []
