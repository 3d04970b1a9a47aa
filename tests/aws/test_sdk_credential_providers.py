"""AWS SDKs fetching vended sessions by themselves, from a local service on a free port.

- the container-credentials provider (``AWS_CONTAINER_CREDENTIALS_FULL_URI``, raw token in
  ``AWS_CONTAINER_AUTHORIZATION_TOKEN``; botocore allows plain http on loopback), run in a
  separate Python process with no other AWS credentials;
- a ``credential_process`` profile running ``tools/tvs_credential_process.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from localdev.server import LocalServer
from tests.aws.support import BUCKET, REGION, make_service
from tests.support import call, token

TOOL = Path(__file__).resolve().parents[2] / "tools" / "tvs_credential_process.py"
CONTAINER_ROUTE = "/api/v1/aws/container-credentials"


@pytest.fixture(scope="module")
def server(moto, idp):
    svc = make_service(moto, idp, cache=True)
    srv = LocalServer(svc, idp, port=0).start_background()
    yield srv
    srv.stop()


def clean_env(**extra) -> dict:
    """The environment of a process that has no AWS credentials of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    env.update(extra)
    return env


SDK_SCRIPT = """
import json, sys, boto3
session = boto3.Session(region_name=sys.argv[2])
s3 = session.client("s3", endpoint_url=sys.argv[1])
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[3], Prefix="team-a/")["Contents"]]
creds = session.get_credentials()
print(json.dumps({"keys": keys, "method": creds.method, "access_key_id": creds.get_frozen_credentials().access_key}))
"""


def run_sdk(moto, env: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, moto.url, REGION, BUCKET],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_boto3_in_a_container_obtains_and_uses_a_session_from_the_service(server, moto, idp):
    env = clean_env(
        AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{server.url}{CONTAINER_ROUTE}/s3?path=team-a/&access=read",
        AWS_CONTAINER_AUTHORIZATION_TOKEN=token(idp, "alice", ["team-a"]),
    )
    result = run_sdk(moto, env)
    assert result["method"] == "container-role"
    assert result["keys"] == ["team-a/seed.txt"]
    assert result["access_key_id"].startswith("ASIA")


def test_container_route_answers_the_container_credentials_shape(server, idp):
    resp = call(
        server.service,
        "GET",
        f"{CONTAINER_ROUTE}/s3",
        headers={"Authorization": token(idp, "a", ["team-a"])},
        query={"path": "team-a/", "access": "read"},
    )
    assert resp.status == 200
    assert set(resp.json()) == {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}


def test_container_route_shares_the_cache_with_post_credentials(server, idp):
    jwt = token(idp, "carol", ["team-a"])
    container = call(
        server.service,
        "GET",
        f"{CONTAINER_ROUTE}/s3",
        headers={"Authorization": jwt},
        query={"path": "team-a/", "access": "write"},
    ).json()
    posted = call(
        server.service,
        "POST",
        "/api/v1/credentials",
        token=jwt,
        body={"store": "s3", "path": "team-a/", "access": "write", "ttl_seconds": 3600},
    ).json()
    assert container["AccessKeyId"] == posted["credential_id"]  # the container shape's default: an hour


@pytest.mark.parametrize(
    "query, slug",
    [
        ({"path": "team-a/"}, "missing-field"),
        ({"path": "team-a/", "access": "read", "format": "native"}, "unknown-field"),
        ({"path": "team-*/", "access": "read"}, "bad-path"),
        ({"path": "team-a/", "access": "read", "ttl_seconds": "soon"}, "bad-ttl"),
        ({"path": "team-a/", "access": "admin"}, "bad-access"),
    ],
)
def test_container_route_validates_its_query_like_a_credential_request(server, idp, query, slug):
    resp = call(
        server.service,
        "GET",
        f"{CONTAINER_ROUTE}/s3",
        headers={"Authorization": token(idp, "a", ["team-a"])},
        query=query,
    )
    assert resp.status == 400
    assert resp.json()["type"].endswith(f"/{slug}")


def test_container_route_needs_a_token(server):
    assert call(server.service, "GET", f"{CONTAINER_ROUTE}/s3", query={"access": "read"}).status == 401


def test_container_route_is_in_the_openapi_document(server):
    document = call(server.service, "GET", "/api/v1/openapi.json").json()
    assert "get" in document["paths"][f"{CONTAINER_ROUTE}/{{store}}"]


# -- credential_process ---------------------------------------------------------------------------
def tool_args(server, token_file: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(TOOL),
        "--url",
        server.url,
        "--store",
        "s3",
        "--path",
        "team-a/",
        "--access",
        "read",
        "--token-file",
        str(token_file),
        *extra,
    ]


def test_aws_profile_with_credential_process_lists_objects_through_the_service(
    server, moto, idp, tmp_path, monkeypatch
):
    token_file = tmp_path / "token"
    token_file.write_text(token(idp, "alice", ["team-a"]))
    command = " ".join(tool_args(server, token_file))
    config = tmp_path / "config"
    config.write_text(f"[profile tvs]\ncredential_process = {command}\nregion = {REGION}\n")
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    session = boto3.Session(profile_name="tvs")
    s3 = session.client("s3", endpoint_url=moto.url)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="team-a/")["Contents"]] == ["team-a/seed.txt"]
    assert session.get_credentials().method == "custom-process"


def test_credential_process_tool_reads_the_token_from_the_environment(server, idp, tmp_path):
    args = [a for a in tool_args(server, tmp_path / "unused") if a not in ("--token-file", str(tmp_path / "unused"))]
    done = subprocess.run(
        args, env=clean_env(TVS_TOKEN=token(idp, "alice", ["team-a"])), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Version"] == 1


def test_credential_process_tool_fails_with_a_message_and_never_prints_the_token(server, idp, tmp_path):
    jwt = token(idp, "mallory", ["nobody"])
    token_file = tmp_path / "token"
    token_file.write_text(jwt)
    done = subprocess.run(tool_args(server, token_file), env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and done.stdout == ""
    assert "403" in done.stderr
    assert jwt not in done.stderr and jwt.split(".")[2] not in done.stderr


def test_credential_process_tool_refuses_plain_http_to_another_host(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("eyJ.token.value")
    done = subprocess.run(
        [
            sys.executable,
            str(TOOL),
            "--url",
            "http://tvs.example.org",
            "--store",
            "s3",
            "--token-file",
            str(token_file),
        ],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "plain http" in done.stderr


def test_credential_process_tool_without_a_token_says_so(server):
    done = subprocess.run(
        [sys.executable, str(TOOL), "--url", server.url, "--store", "s3"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "TVS_TOKEN" in done.stderr


def test_container_route_refuses_a_store_that_is_not_aws(moto, idp):
    azure = {
        "kind": "azure-blob",
        "account_url": "https://acct.blob.core.windows.net",
        "container": "c",
        "auth": {"method": "default"},
    }
    svc = make_service(moto, idp, {"blob": azure})
    resp = call(
        svc,
        "GET",
        f"{CONTAINER_ROUTE}/blob",
        headers={"Authorization": token(idp, "a", ["readers"])},
        query={"access": "read"},
    )
    assert resp.status == 400
    assert resp.json()["type"].endswith("/bad-format")


def test_credential_process_tool_never_follows_a_redirect_with_the_token(tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str | None] = []

    class Elsewhere(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            self.send_response(404)
            self.end_headers()

        do_POST = do_GET

    elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)

    class Redirecting(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{elsewhere.server_address[1]}/stolen")
            self.send_header("Content-Length", "0")
            self.end_headers()

    redirecting = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    for httpd in (elsewhere, redirecting):
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    token_file = tmp_path / "token"
    token_file.write_text("eyJ.token.value")
    try:
        done = subprocess.run(
            [
                sys.executable,
                str(TOOL),
                "--url",
                f"http://127.0.0.1:{redirecting.server_address[1]}",
                "--store",
                "s3",
                "--token-file",
                str(token_file),
            ],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        for httpd in (elsewhere, redirecting):
            httpd.shutdown()
            httpd.server_close()
    assert done.returncode != 0 and done.stdout == ""
    assert seen == []
    assert "eyJ.token.value" not in done.stderr


def test_credential_process_tool_reports_a_non_problem_error_answer_in_one_line(tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Broken(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b"[]"
            self.send_response(502)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    token_file = tmp_path / "token"
    token_file.write_text("eyJ.token.value")
    try:
        done = subprocess.run(
            [
                sys.executable,
                str(TOOL),
                "--url",
                f"http://127.0.0.1:{httpd.server_address[1]}",
                "--store",
                "s3",
                "--token-file",
                str(token_file),
            ],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "502" in done.stderr


def test_credential_process_tool_reports_an_unreadable_ca_file_in_one_line(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("eyJ.token.value")
    done = subprocess.run(
        [
            sys.executable,
            str(TOOL),
            "--url",
            "https://127.0.0.1:9",
            "--store",
            "s3",
            "--token-file",
            str(token_file),
            "--ca-file",
            str(tmp_path / "missing.pem"),
        ],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "CA" in done.stderr


def test_credential_process_tool_never_prints_a_token_it_cannot_send(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("eyJ.first-line\nsecond-line-of-the-token\n")
    done = subprocess.run(
        [sys.executable, str(TOOL), "--url", "http://127.0.0.1:9", "--store", "s3", "--token-file", str(token_file)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert "first-line" not in done.stderr and "second-line" not in done.stderr


TEN_CALLS_SCRIPT = """
import sys, boto3
s3 = boto3.Session(region_name=sys.argv[2]).client("s3", endpoint_url=sys.argv[1])
for _ in range(10):
    s3.list_objects_v2(Bucket=sys.argv[3], Prefix="team-a/")
"""


def test_an_sdk_fetching_container_credentials_fetches_once_for_ten_calls(server, moto, idp, caplog):
    # Without a ttl the container shape lasts an hour: botocore refreshes within 15 minutes of expiry,
    # so the store's 900 s default would make it fetch again before every call.
    caplog.set_level("INFO", logger="tvs.audit")
    env = clean_env(
        AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{server.url}{CONTAINER_ROUTE}/s3?path=team-a/&access=read",
        AWS_CONTAINER_AUTHORIZATION_TOKEN=token(idp, "dave", ["team-a"]),
    )
    done = subprocess.run(
        [sys.executable, "-c", TEN_CALLS_SCRIPT, moto.url, REGION, BUCKET],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    audited = [r.getMessage() for r in caplog.records]
    fetches = [m for m in audited if '"format":"container_credentials"' in m and '"subject":"dave"' in m]
    assert len(fetches) == 1
    assert '"ttl_seconds":3600' in fetches[0]


def test_an_explicit_ttl_still_wins_for_the_sdk_shapes(server, idp):
    resp = call(
        server.service,
        "GET",
        f"{CONTAINER_ROUTE}/s3",
        token=token(idp, "alice", ["team-a"]),
        query={"path": "team-a/", "access": "read", "ttl_seconds": "900"},
    )
    assert resp.status == 200
