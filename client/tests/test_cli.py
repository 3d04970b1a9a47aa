"""The tvs commands against a fake service: output shapes and errors a person can act on."""
from __future__ import annotations

import json
import socket
import subprocess

import pytest

from tvs_client.config import Profile, save_profile


def test_stores_lists_each_grant(tvs, signed_in):
    run = tvs("stores")
    assert run.status == 0
    assert "demo-s3" in run.out and "users/alice/" in run.out and "(whole store)" in run.out


def test_stores_json_prints_the_services_answer(tvs, signed_in):
    stores = json.loads(tvs("stores", "--json").out)["stores"]
    assert [s["store"] for s in stores] == ["demo-s3", "demo-vast", "demo-azure"]


def shell_env(text: str, *names: str) -> dict:
    """Evaluate 'tvs creds' output in a POSIX shell and read back some variables."""
    script = text + "".join(f'printf "%s=%s\\n" {n} "${{{n}-UNSET}}"\n' for n in names)
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "AWS_SESSION_TOKEN": "stale", "AZURE_STORAGE_KEY": "k"}).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def test_creds_env_sets_the_aws_variables_of_an_s3_session_when_evaluated(tvs, signed_in, service):
    run = tvs("creds", "demo-s3", "--path", "users/alice/", "--access", "write")
    env = shell_env(run.out, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION")
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and env["AWS_SECRET_ACCESS_KEY"].startswith("SECRET")
    assert env["AWS_SESSION_TOKEN"].startswith("SESSIONTOKEN") and env["AWS_REGION"] == "us-east-1"
    assert service.seen("POST", "/api/v1/credentials")[0].json() == {
        "store": "demo-s3", "path": "users/alice/", "access": "write", "format": "native"}


def test_creds_env_unsets_a_stale_session_token_for_a_vast_key_pair(tvs, signed_in):
    env = shell_env(tvs("creds", "demo-vast").out, "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3")
    assert env == {"AWS_SESSION_TOKEN": "UNSET", "AWS_ENDPOINT_URL_S3": "https://s3.vast.example"}


def test_creds_env_for_azure_sets_the_sas_and_unsets_account_keys(tvs, signed_in):
    env = shell_env(tvs("creds", "demo-azure").out, "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_ACCOUNT",
                    "AZURE_STORAGE_KEY")
    assert env["AZURE_STORAGE_SAS_TOKEN"].startswith("sv=") and env["AZURE_STORAGE_ACCOUNT"] == "acct"
    assert env["AZURE_STORAGE_KEY"] == "UNSET"


def test_creds_json_prints_the_native_answer(tvs, signed_in):
    answer = json.loads(tvs("creds", "demo-s3", "--format", "json").out)
    assert answer["provider"] == "aws-s3" and "session_token" in answer["credentials"]


def test_creds_iceberg_asks_the_service_for_the_iceberg_format(tvs, signed_in, service):
    answer = json.loads(tvs("creds", "demo-s3", "--format", "iceberg").out)
    assert "storage-credentials" in answer
    assert service.seen("POST", "/api/v1/credentials")[0].json()["format"] == "iceberg"


def test_creds_passes_the_requested_lifetime(tvs, signed_in, service):
    tvs("creds", "demo-s3", "--ttl", "1200")
    assert service.seen("POST", "/api/v1/credentials")[0].json()["ttl_seconds"] == 1200


def test_url_prints_the_signed_url_and_the_headers_to_send(tvs, signed_in, service):
    run = tvs("url", "demo-azure", "users/alice/a.txt", "--method", "put", "--content-type", "text/plain")
    assert run.status == 0
    assert run.out.strip() == "https://storage.example/demo/users/alice/a.txt?sig=urlsig"
    assert "x-ms-blob-type: BlockBlob" in run.err
    assert service.seen("POST", "/api/v1/signed-urls")[0].json() == {
        "store": "demo-azure", "object": "users/alice/a.txt", "method": "PUT", "content_type": "text/plain"}


def test_url_refuses_a_prefix_instead_of_an_object(tvs, signed_in, service):
    assert tvs("url", "demo-s3", "users/alice/").status == 2
    assert service.seen("POST", "/api/v1/signed-urls") == []


def test_keys_lists_every_page(tvs, signed_in, service):
    def key(n):
        return {"credential_id": f"vast.demo-vast.k{n}", "store": "demo-vast", "access_key_id": f"AK{n}",
                "scope": {}, "issued_at": "2030-01-01T00:00:00Z", "expires_at": "2030-01-01T01:00:00Z",
                "state": "ACTIVE"}
    service.key_pages = [[key(1), key(2)], [key(3)]]
    run = tvs("keys")
    assert run.status == 0
    assert [line.split()[0] for line in run.out.splitlines()[1:]] == [f"vast.demo-vast.k{n}" for n in (1, 2, 3)]
    assert service.seen("GET", "/api/v1/credentials")[1].query == {"cursor": "p1"}


def test_keys_explains_a_service_that_does_not_list_credentials(tvs, signed_in, service):
    service.overrides[("GET", "/api/v1/credentials")] = (405, {"title": "Method not allowed", "detail": "x"}, {})
    run = tvs("keys")
    assert run.status == 1 and "does not list credentials" in run.err


def test_revoke_deletes_each_credential(tvs, signed_in, service):
    run = tvs("revoke", "vast.demo-vast.k1", "vast.demo-vast.k2")
    assert run.status == 0 and service.revoked == ["vast.demo-vast.k1", "vast.demo-vast.k2"]


def test_without_a_sign_in_every_command_says_run_tvs_login(tvs, service):
    run = tvs("creds", "demo-s3", "--service", service.url)
    assert run.status == 3 and run.err.strip().endswith("run 'tvs login'")


def test_an_expired_sign_in_without_refresh_token_says_run_tvs_login(tvs, signed_in, service):
    service.tokens.clear()
    run = tvs("stores")
    assert run.status == 3 and "run 'tvs login'" in run.err


def test_a_refusal_prints_the_problems_title_and_detail(tvs, signed_in, service):
    service.overrides[("POST", "/api/v1/credentials")] = (
        403, {"type": "https://tvs.dev/problems/forbidden", "title": "Not granted", "status": 403,
              "detail": "no grant gives you 'write' on 'demo-s3' under 'users/bob/'"}, {})
    run = tvs("creds", "demo-s3", "--path", "users/bob/", "--access", "write")
    assert run.status == 1
    assert "Not granted" in run.err and "under 'users/bob/'" in run.err and "Traceback" not in run.err


def test_a_service_that_cannot_be_reached_is_named(tvs, config_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    save_profile(Profile(service=url))
    from tvs_client.tokens import FileTokenStore, TokenSet
    FileTokenStore().save("default", TokenSet("at-1", None))
    run = tvs("stores")
    assert run.status == 4 and f"cannot reach {url}/api/v1/stores" in run.err and "Traceback" not in run.err


def test_plain_http_to_another_host_is_refused_before_sending_a_token(tvs, signed_in):
    run = tvs("stores", "--service", "http://tvs.example.org")
    assert run.status == 2 and "use https" in run.err


def test_tvs_url_is_the_service_when_the_profile_names_none(tvs, service, monkeypatch):
    monkeypatch.setenv("TVS_URL", service.url)
    assert tvs("login", "--dev", "--sub", "alice").status == 0
    assert len(service.seen("POST", "/dev-idp/token")) == 1


def test_the_service_flag_wins_over_the_saved_profile(tvs, signed_in, service):
    other = type(service)()
    try:
        other.tokens.add(signed_in)
        assert tvs("stores", "--service", other.url).status == 0
        assert service.seen("GET", "/api/v1/stores") == [] and len(other.seen("GET", "/api/v1/stores")) == 1
    finally:
        other.close()


def test_status_says_whether_the_profile_is_signed_in(tvs, signed_in):
    run = tvs("status")
    assert run.status == 0 and "signed in as alice" in run.out


@pytest.mark.parametrize("argv", [["creds"], ["creds", "demo-s3", "--access", "admin"], ["bogus"]])
def test_bad_arguments_exit_with_status_2(tvs, argv):
    with pytest.raises(SystemExit) as exc:
        tvs(*argv)
    assert exc.value.code == 2


def test_status_of_an_expired_sign_in_without_refresh_token_exits_3(tvs, signed_in):
    from tvs_client.tokens import FileTokenStore

    tokens = FileTokenStore().load("default")
    tokens.expires_at = 1
    FileTokenStore().save("default", tokens)
    run = tvs("status")
    assert run.status == 3 and "run 'tvs login'" in run.out


def test_a_local_service_is_reached_without_the_environments_proxy(tvs, signed_in, monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert tvs("stores").status == 0
