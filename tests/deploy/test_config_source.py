"""A configuration document kept in SSM or S3 (``TVS_CONFIG=ssm:/name`` or ``s3://bucket/key``),
read at cold start against moto server; every failure is a ConfigError on TVS_CONFIG that names the
parameter or object and never the document."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import pytest

from shared.config import parse_config
from shared.config_source import MAX_DOCUMENT_BYTES, fetch_document, is_remote
from shared.errors import ConfigError
from tests.deploy.template import REPO

DOCUMENT = (REPO / "examples" / "config.aws.json").read_text()


@pytest.fixture
def aws(moto_server, monkeypatch):
    """boto3 pointed at moto server through its own settings (what a deployment leaves to the platform)."""
    import boto3

    for name, value in {
        "AWS_ENDPOINT_URL": moto_server.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "eu-west-3",
        "AWS_DEFAULT_REGION": "eu-west-3",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return {"ssm": boto3.client("ssm"), "s3": boto3.client("s3")}


@pytest.fixture
def bucket(aws):
    name = f"tvs-config-{uuid.uuid4().hex[:12]}"
    aws["s3"].create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return name


def _name() -> str:
    return f"/tvs/{uuid.uuid4().hex[:12]}/config"


def refused(source: str) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        fetch_document(source)
    assert err.value.key == "TVS_CONFIG"
    return err.value


@pytest.mark.emulator
def test_an_ssm_source_is_the_parameters_value(aws):
    name = _name()
    aws["ssm"].put_parameter(Name=name, Value=DOCUMENT, Type="String", Tier="Advanced")
    assert fetch_document(f"ssm:{name}") == DOCUMENT


@pytest.mark.emulator
def test_a_secure_string_parameter_is_read_decrypted(aws):
    name = _name()
    aws["ssm"].put_parameter(Name=name, Value=DOCUMENT, Type="SecureString", Tier="Advanced")
    assert json.loads(fetch_document(f"ssm:{name}")) == json.loads(DOCUMENT)


@pytest.mark.emulator
def test_a_parameter_without_a_leading_slash_is_read_too(aws):
    name = f"tvs-{uuid.uuid4().hex[:12]}"
    aws["ssm"].put_parameter(Name=name, Value=DOCUMENT, Type="String", Tier="Advanced")
    assert fetch_document(f"ssm:{name}") == DOCUMENT


@pytest.mark.emulator
def test_an_s3_source_is_the_objects_content(aws, bucket):
    aws["s3"].put_object(Bucket=bucket, Key="prod/tvs-config.json", Body=DOCUMENT.encode())
    assert fetch_document(f"s3://{bucket}/prod/tvs-config.json") == DOCUMENT


@pytest.mark.emulator
def test_a_document_read_from_a_source_is_one_the_configuration_parser_takes(aws, bucket):
    aws["s3"].put_object(Bucket=bucket, Key="tvs.json", Body=DOCUMENT.encode())
    config = parse_config(json.loads(fetch_document(f"s3://{bucket}/tvs.json")))
    assert set(config.stores) == set(json.loads(DOCUMENT)["stores"])


@pytest.mark.emulator
def test_a_missing_parameter_is_a_configuration_error_naming_it(aws):
    name = _name()
    problem = refused(f"ssm:{name}")
    assert name in str(problem) and "does not exist" in str(problem)


@pytest.mark.emulator
def test_a_missing_object_is_a_configuration_error_naming_it(aws, bucket):
    problem = refused(f"s3://{bucket}/missing.json")
    assert f"s3://{bucket}/missing.json" in str(problem) and "NoSuchKey" in str(problem)


@pytest.mark.emulator
def test_a_missing_bucket_is_a_configuration_error_naming_it(aws):
    problem = refused("s3://tvs-no-such-bucket-0000/tvs.json")
    assert "s3://tvs-no-such-bucket-0000/tvs.json" in str(problem) and "NoSuchBucket" in str(problem)


@pytest.mark.emulator
def test_an_empty_object_is_a_configuration_error(aws, bucket):
    aws["s3"].put_object(Bucket=bucket, Key="empty.json", Body=b" \n")
    assert "is empty" in str(refused(f"s3://{bucket}/empty.json"))


@pytest.mark.emulator
def test_an_object_larger_than_a_document_may_be_is_refused(aws, bucket):
    aws["s3"].put_object(Bucket=bucket, Key="huge.json", Body=b"{" + b" " * MAX_DOCUMENT_BYTES + b"}")
    assert "more than a configuration document may be" in str(refused(f"s3://{bucket}/huge.json"))


@pytest.mark.emulator
def test_a_document_that_is_not_text_is_refused_without_showing_it(aws, bucket):
    aws["s3"].put_object(Bucket=bucket, Key="bin.json", Body=b'{"secret": "hunter2-\xff\xfe"}')
    problem = refused(f"s3://{bucket}/bin.json")
    assert "not UTF-8 text" in str(problem) and "hunter2" not in str(problem)


def test_an_unreachable_endpoint_is_a_configuration_error_soon(monkeypatch):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for name, value in {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-3",
    }.items():
        monkeypatch.setenv(name, value)
    started = time.monotonic()
    problem = refused("ssm:/tvs/config")
    assert "/tvs/config" in str(problem) and "EndpointConnectionError" in str(problem)
    assert time.monotonic() - started < 20


def test_an_ssm_source_without_a_region_says_so(monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert "AWS_DEFAULT_REGION" in str(refused("ssm:/tvs/config"))


@pytest.mark.parametrize(
    "source",
    [
        "ssm:",
        "ssm:/",
        "ssm:/tvs/",
        "ssm:/tvs/config:3",
        "ssm:/tvs config",
        "s3://",
        "s3://bucket",
        "s3://bucket/",
        "s3:///key",
        "s3://Bad_Bucket/key",
    ],
)
def test_a_malformed_source_is_refused_before_any_call(source, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # a call would fail differently
    assert "must name" in str(refused(source))


@pytest.mark.parametrize(
    "source, remote",
    [
        ("ssm:/tvs/config", True),
        ("s3://b/k.json", True),
        ('{"issuers": []}', False),
        ("/etc/tvs/config.json", False),
        ("examples/config.aws.json", False),
        ("ssm-config.json", False),
    ],
)
def test_only_ssm_and_s3_sources_are_remote(source, remote):
    assert is_remote(source) is remote


def test_the_module_imports_no_aws_sdk_until_a_document_is_fetched():
    code = (
        "import sys, shared.config_source as c; c.is_remote('ssm:/x'); "
        "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
