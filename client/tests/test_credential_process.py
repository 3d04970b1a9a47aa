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


def cache_files(config_dir):
    return list((config_dir / "cache" / "default").glob("*.json"))


def test_a_second_run_within_half_life_reuses_the_answer_without_asking_the_service(tvs, signed_in, service):
    first, second = tvs("credential-process", "demo-vast").out, tvs("credential-process", "demo-vast").out
    assert first == second and len(service.seen("POST", "/api/v1/credentials")) == 1


def test_another_request_is_not_answered_from_the_cache(tvs, signed_in, service):
    tvs("credential-process", "demo-s3", "--access", "read")
    tvs("credential-process", "demo-s3", "--access", "write")
    assert len(service.seen("POST", "/api/v1/credentials")) == 2


def test_a_cached_answer_past_half_its_life_is_replaced(tvs, signed_in, service, config_dir):
    tvs("credential-process", "demo-s3")
    (path,) = cache_files(config_dir)
    entry = json.loads(path.read_text())
    entry["renew_at"] = 0
    path.write_text(json.dumps(entry))
    tvs("credential-process", "demo-s3")
    assert len(service.seen("POST", "/api/v1/credentials")) == 2


def test_the_cache_file_is_private(tvs, signed_in, config_dir):
    import os
    import stat

    tvs("credential-process", "demo-s3")
    (path,) = cache_files(config_dir)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_no_cache_asks_the_service_every_time(tvs, signed_in, service, config_dir):
    tvs("credential-process", "demo-s3", "--no-cache")
    tvs("credential-process", "demo-s3", "--no-cache")
    assert len(service.seen("POST", "/api/v1/credentials")) == 2 and cache_files(config_dir) == []


def test_logout_and_login_clear_the_cache(tvs, signed_in, service, config_dir):
    tvs("credential-process", "demo-s3")
    tvs("logout")
    assert cache_files(config_dir) == []
    tvs("login", "--dev", "--sub", "bob")
    tvs("credential-process", "demo-s3")
    tvs("login", "--dev", "--sub", "carol")
    assert cache_files(config_dir) == []
