"""Tokens, secrets and signatures never reach a log line."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import parse_qs

import pytest

from shared.logsafe import RedactingFilter, redact
from shared.secrets import SecretResolver
from tests.azure.test_azure_sas import config_for
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
