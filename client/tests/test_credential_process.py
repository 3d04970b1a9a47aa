"""tvs credential-process: AWS's credential_process document, with the arguments checked first."""
from __future__ import annotations

import json

import pytest


def test_prints_the_aws_credential_process_document(tvs, signed_in):
    run = tvs("credential-process", "demo-s3", "--path", "users/alice/", "--access", "write")
    doc = json.loads(run.out)
    assert run.status == 0
    assert list(doc) == ["Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]
    assert doc["Version"] == 1 and doc["SessionToken"].startswith("SESSIONTOKEN")


def test_a_vast_key_pair_has_no_session_token(tvs, signed_in):
    doc = json.loads(tvs("credential-process", "demo-vast").out)
    assert "SessionToken" not in doc and doc["AccessKeyId"]


def test_asks_for_an_hour_in_the_credential_process_format_by_default(tvs, signed_in, service):
    tvs("credential-process", "demo-s3")
    sent = service.seen("POST", "/api/v1/credentials")[0].json()
    assert sent["ttl_seconds"] == 3600 and sent["format"] == "credential_process"


@pytest.mark.parametrize("argv", [
    ["--path", "users/*"], ["--path", "users/../bob/"], ["--path", "users//x"], ["--path", "a%2f"],
    ["--ttl", "0"], ["--ttl", "604801"],
])
def test_refuses_arguments_the_service_would_refuse_before_asking_it(tvs, signed_in, service, argv):
    run = tvs("credential-process", "demo-vast", *argv)
    assert run.status == 2 and run.err.startswith("tvs: ")
    assert service.seen("POST", "/api/v1/credentials") == []  # no key was minted for it


def test_a_store_without_the_format_prints_the_services_refusal(tvs, signed_in):
    run = tvs("credential-process", "demo-azure")
    assert run.status == 1 and "does not offer 'credential_process'" in run.err and run.out == ""
