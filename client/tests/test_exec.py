"""tvs exec: the child's environment, its exit status, renewed credential files, revocation."""
from __future__ import annotations

import json
import os
import sys
import textwrap

DUMP_ENV = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"


def child_env(tvs, tmp_path, *argv):
    out = tmp_path / "env.json"
    run = tvs("exec", *argv, "--", sys.executable, "-c", DUMP_ENV, str(out))
    assert run.status == 0, run.err
    return json.loads(out.read_text())


def test_the_exit_status_is_the_childs(tvs, signed_in):
    assert tvs("exec", "demo-s3", "--", sys.executable, "-c", "raise SystemExit(7)").status == 7


def test_a_child_ended_by_a_signal_gives_128_plus_the_signal(tvs, signed_in):
    kill = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    assert tvs("exec", "demo-s3", "--", sys.executable, "-c", kill).status == 128 + 15


def test_a_command_that_does_not_exist_gives_127(tvs, signed_in):
    run = tvs("exec", "demo-s3", "--", "no-such-command-tvs-test")
    assert run.status == 127 and "command not found" in run.err


def test_the_child_gets_the_s3_session_in_aws_variables(tvs, signed_in, tmp_path):
    env = child_env(tvs, tmp_path, "demo-s3", "--path", "users/alice/", "--access", "write")
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and env["AWS_SESSION_TOKEN"].startswith("SESSIONTOKEN")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1" and env["TVS_STORE"] == "demo-s3"


def test_the_child_sees_no_other_aws_credential(tvs, signed_in, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "admin")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials")
    env = child_env(tvs, tmp_path, "demo-s3")
    assert "AWS_PROFILE" not in env and "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in env


def test_a_vast_child_has_no_session_token_even_if_the_parent_had_one(tvs, signed_in, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "stale")
    env = child_env(tvs, tmp_path, "demo-vast")
    assert "AWS_SESSION_TOKEN" not in env and env["AWS_ENDPOINT_URL_S3"] == "https://s3.vast.example"


def test_an_azure_child_gets_the_sas_in_azure_variables(tvs, signed_in, tmp_path, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountKey=k")
    env = child_env(tvs, tmp_path, "demo-azure", "--ttl", "600")
    assert env["AZURE_STORAGE_SAS_TOKEN"].startswith("sv=") and env["AZURE_STORAGE_ACCOUNT"] == "acct"
    assert "AZURE_STORAGE_CONNECTION_STRING" not in env


def test_exec_asks_for_an_hour_by_default(tvs, signed_in, service, tmp_path):
    child_env(tvs, tmp_path, "demo-s3")
    assert service.seen("POST", "/api/v1/credentials")[0].json()["ttl_seconds"] == 3600


def test_refresh_puts_the_keys_in_a_private_shared_credentials_file_instead_of_variables(tvs, signed_in, tmp_path):
    probe = textwrap.dedent("""
        import json, os, stat, sys
        path = os.environ["AWS_SHARED_CREDENTIALS_FILE"]
        json.dump({"mode": stat.S_IMODE(os.stat(path).st_mode), "text": open(path).read(),
                   "env": dict(os.environ)}, open(sys.argv[1], "w"))
    """)
    out = tmp_path / "probe.json"
    assert tvs("exec", "demo-s3", "--refresh", "--", sys.executable, "-c", probe, str(out)).status == 0
    seen = json.loads(out.read_text())
    assert seen["mode"] == 0o600 and "[default]" in seen["text"] and "aws_session_token = SESSIONTOKEN" in seen["text"]
    assert "AWS_ACCESS_KEY_ID" not in seen["env"] and "AWS_SESSION_TOKEN" not in seen["env"]
    assert "AWS_CREDENTIAL_EXPIRATION" not in seen["env"]  # it would be stale after the first renewal


def test_refresh_rewrites_the_credentials_file_before_the_credential_expires(tvs, signed_in, service):
    service.lifetime["demo-s3"] = 4  # renewed about 2 s after it is handed out
    wait_for_new_key = textwrap.dedent("""
        import os, time
        path = os.environ["AWS_SHARED_CREDENTIALS_FILE"]
        first = open(path).read()
        deadline = time.time() + 10
        while time.time() < deadline:
            if open(path).read() != first:
                raise SystemExit(0)
            time.sleep(0.05)
        raise SystemExit(1)
    """)
    assert tvs("exec", "demo-s3", "--refresh", "--", sys.executable, "-c", wait_for_new_key).status == 0


def test_refresh_also_keeps_a_json_file_of_the_whole_answer_for_any_store(tvs, signed_in, tmp_path):
    probe = "import json, os, sys; json.dump(json.load(open(os.environ['TVS_CREDENTIALS_FILE'])), open(sys.argv[1], 'w'))"
    out = tmp_path / "answer.json"
    assert tvs("exec", "demo-azure", "--refresh", "--", sys.executable, "-c", probe, str(out)).status == 0
    assert json.loads(out.read_text())["credentials"]["sas_token"].startswith("sv=")


def test_the_credential_files_are_removed_when_the_command_ends(tvs, signed_in, tmp_path):
    env = child_env(tvs, tmp_path, "demo-s3", "--refresh")
    assert not os.path.exists(env["AWS_SHARED_CREDENTIALS_FILE"])
    assert not os.path.exists(os.path.dirname(env["TVS_CREDENTIALS_FILE"]))


def test_a_vast_key_is_revoked_when_the_command_ends(tvs, signed_in, service):
    tvs("exec", "demo-vast", "--", sys.executable, "-c", "pass")
    assert service.revoked == ["vast.demo-vast.k1"]


def test_keep_leaves_the_vast_key_to_expire_by_itself(tvs, signed_in, service):
    tvs("exec", "demo-vast", "--keep", "--", sys.executable, "-c", "pass")
    assert service.revoked == []


def test_an_s3_session_is_not_revoked(tvs, signed_in, service):
    tvs("exec", "demo-s3", "--", sys.executable, "-c", "pass")
    assert service.seen("DELETE", "/api/v1/credentials/ASIA0000000000000001") == []


def test_exec_without_a_command_is_a_usage_error(tvs, signed_in):
    assert tvs("exec", "demo-s3", "--").status == 2


def test_no_command_is_run_when_the_service_refuses(tvs, signed_in, service, tmp_path):
    service.overrides[("POST", "/api/v1/credentials")] = (403, {"title": "Not granted", "detail": "no"}, {})
    marker = tmp_path / "ran"
    run = tvs("exec", "demo-s3", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')")
    assert run.status == 1 and not marker.exists()


def test_a_command_that_outlives_its_credential_is_told_how_to_avoid_it(tvs, signed_in, service):
    service.lifetime["demo-s3"] = 2  # expires_at has whole seconds: between 1 and 2 s from now
    run = tvs("exec", "demo-s3", "--", sys.executable, "-c", "import time; time.sleep(2.2)")
    assert run.status == 0 and "expired" in run.err and "--refresh" in run.err


def test_a_command_without_the_double_dash_is_refused_with_the_usage(tvs, signed_in, capsys):
    import pytest

    with pytest.raises(SystemExit) as exc:
        tvs("exec", "demo-s3", "aws", "s3", "ls")
    assert exc.value.code == 2 and "put the command after '--'" in capsys.readouterr().err
