"""SDK-native shapes of one AWS session: credential_process, Iceberg, s3fs storage_options, console.

Each shape is used the way its consumer would use it (boto3 against moto), except the console
sign-in link: the AWS federation endpoint is not reachable here, so its one HTTP call is stubbed
and the construction of the request and of the link is checked (not exercised against AWS).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config

from shared.aws import formats
from tests.aws.support import BUCKET, REGION, make_service, store_block, vend


@pytest.fixture(scope="module")
def service(moto, idp):
    aws_s3 = store_block(moto)
    del aws_s3["endpoint_url"]  # S3 itself is "AWS" (never called here); STS is moto
    return make_service(moto, idp, {"s3": store_block(moto), "aws": aws_s3})


def _keys(moto, key, secret, token):
    return boto3.client(
        "s3",
        endpoint_url=moto.url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def _listed(client, prefix="team-a/"):
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]]


def test_credential_process_format_is_what_aws_tools_expect(service, idp, moto):
    body = vend(service, idp, ("team-a",), path="team-a/", access="read", format="credential_process")
    assert set(body) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert body["Version"] == 1
    assert _listed(_keys(moto, body["AccessKeyId"], body["SecretAccessKey"], body["SessionToken"])) == [
        "team-a/seed.txt"
    ]


def test_iceberg_format_holds_the_session_and_its_expiry_inside_config(service, idp, moto):
    body = vend(service, idp, ("team-a",), path="team-a/", access="read", format="iceberg")
    [entry] = body["storage-credentials"]
    config = entry["config"]
    assert entry["prefix"] == f"s3://{BUCKET}/team-a/"
    assert {k: config[k] for k in ("s3.endpoint", "s3.path-style-access", "client.region")} == {
        "s3.endpoint": moto.url,
        "s3.path-style-access": "true",
        "client.region": REGION,
    }
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert int(config["s3.session-token-expires-at-ms"]) == int(expires.timestamp() * 1000)
    assert all(isinstance(v, str) for v in config.values())
    client = _keys(moto, config["s3.access-key-id"], config["s3.secret-access-key"], config["s3.session-token"])
    assert _listed(client) == ["team-a/seed.txt"]


def test_storage_options_are_s3fs_keyword_arguments(service, idp, moto):
    options = vend(service, idp, ("team-a",), path="team-a/", access="read")["storage_options"]
    assert set(options) == {"key", "secret", "token", "client_kwargs", "config_kwargs"}
    assert options["client_kwargs"] == {"region_name": REGION, "endpoint_url": moto.url}
    # s3fs hands these to aiobotocore exactly like this; boto3 takes the same arguments.
    client = boto3.client(
        "s3",
        aws_access_key_id=options["key"],
        aws_secret_access_key=options["secret"],
        aws_session_token=options["token"],
        config=Config(**options["config_kwargs"]),
        **options["client_kwargs"],
    )
    assert _listed(client) == ["team-a/seed.txt"]


@pytest.fixture
def federation(monkeypatch):
    """Stands in for the AWS federation endpoint's getSigninToken (the only call the console needs)."""
    calls = []

    def fetch(url, form, timeout=5.0):
        calls.append((url, form))
        return "SIGNIN-TOKEN-FROM-STUB"

    monkeypatch.setattr(formats, "fetch_signin_token", fetch)
    return calls


def test_console_link_signs_in_with_the_scoped_session_on_the_granted_prefix(service, idp, federation):
    body = vend(
        service, idp, ("team-a",), store="aws", path="team-a/", access="read", format="console", ttl_seconds=1800
    )
    [(url, form)] = federation
    session = json.loads(form["Session"])
    assert url == "https://signin.aws.amazon.com/federation"
    assert form["Action"] == "getSigninToken"
    assert session["sessionId"] == body["credential_id"] and session["sessionKey"] and session["sessionToken"]
    assert 1700 <= int(form["SessionDuration"]) <= 1800
    link = urlsplit(body["console_url"])
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert f"{link.scheme}://{link.netloc}{link.path}" == "https://signin.aws.amazon.com/federation"
    assert (query["Action"], query["SigninToken"]) == ("login", "SIGNIN-TOKEN-FROM-STUB")
    assert (
        query["Destination"] == f"https://console.aws.amazon.com/s3/buckets/{BUCKET}?region={REGION}&prefix=team-a%2F"
    )


def test_console_response_carries_no_raw_keys(service, idp, federation):
    body = vend(service, idp, ("team-a",), store="aws", path="team-a/", access="read", format="console")
    assert "credentials" not in body and "storage_options" not in body
    assert body["scope"] == {"bucket": BUCKET, "prefix": "team-a/"}


def test_console_is_not_offered_for_an_s3_compatible_endpoint(service, idp):
    problem = vend(service, idp, ("team-a",), path="team-a/", access="read", format="console", status=400)
    assert problem["type"].endswith("/bad-format")


def test_console_is_not_offered_in_a_partition_without_a_known_federation_endpoint(moto, idp):
    iso = store_block(moto, region="us-iso-east-1")
    del iso["endpoint_url"]
    svc = make_service(moto, idp, {"iso": iso})
    problem = vend(svc, idp, ("team-a",), store="iso", path="team-a/", access="read", format="console", status=400)
    assert problem["type"].endswith("/bad-format")


def test_console_link_opens_one_object_in_the_object_view(service, idp, federation):
    body = vend(service, idp, ("readers",), store="aws", path="team-a/seed.txt", access="read", format="console")
    destination = parse_qs(urlsplit(body["console_url"]).query)["Destination"][0]
    assert destination.startswith(f"https://console.aws.amazon.com/s3/object/{BUCKET}?")
    assert "prefix=team-a%2Fseed.txt" in destination


def test_console_link_sign_in_token_never_reaches_a_log_line(service, idp, federation):
    from shared.logsafe import redact

    body = vend(service, idp, ("team-a",), store="aws", path="team-a/", access="read", format="console")
    assert "SIGNIN-TOKEN-FROM-STUB" not in redact(f"opening {body['console_url']}")


@pytest.mark.parametrize("answer", [b"[]", b"null", b'"a string"', b'{"SigninToken": 5}', b'{"SigninToken": ""}'])
def test_federation_endpoint_answer_without_a_sign_in_token_becomes_503(answer):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from shared.errors import Problem

    class Federation(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Federation)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(Problem) as caught:
            formats.fetch_signin_token(
                f"http://127.0.0.1:{httpd.server_address[1]}/federation", {"Action": "getSigninToken"}
            )
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert caught.value.status == 503


def test_console_session_never_outlasts_the_reported_expiry_when_the_cached_session_is_short(
    moto, idp, federation, caplog
):
    """A cached session can have less than the console's 15 minutes left: the link is then made from a new one."""
    import logging
    from datetime import timedelta

    from shared.aws.clients import CLIENTS, Keys

    caplog.set_level(logging.INFO, "tvs.audit")
    aws_s3 = store_block(moto)
    del aws_s3["endpoint_url"]
    svc = make_service(moto, idp, {"aws": aws_s3}, cache=True)
    client = CLIENTS.client("sts", REGION, moto.url, Keys("testing", "testing"))
    calls = []

    def first_session_is_old(parsed, **kw):  # as if it had been minted 10 minutes ago
        calls.append(1)
        if len(calls) == 1:
            parsed["Credentials"]["Expiration"] = datetime.now(UTC) + timedelta(seconds=600)

    client.meta.events.register("after-call.sts.AssumeRole", first_session_is_old)
    try:
        native = vend(svc, idp, ("team-a",), store="aws", path="team-a/", access="read", ttl_seconds=900)
        body = vend(
            svc, idp, ("team-a",), store="aws", path="team-a/", access="read", format="console", ttl_seconds=900
        )
    finally:
        client.meta.events.unregister("after-call.sts.AssumeRole", first_session_is_old)
    [(_url, form)] = federation
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    console_ends = datetime.now(UTC) + timedelta(seconds=int(form["SessionDuration"]))
    assert console_ends <= expires + timedelta(seconds=30)
    assert json.loads(form["Session"])["sessionId"] == body["credential_id"] != native["credential_id"]
    audited = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tvs.audit"]
    assert any(a.get("credential_id") == body["credential_id"] and a["event"] == "issue" for a in audited)
