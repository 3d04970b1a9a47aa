"""Every returned shape works as returned, in the tools people use: the tvs client (login, creds,
credential-process, exec), the AWS CLI, s3fs, adlfs and PyIceberg, each against the emulators."""

from __future__ import annotations

import json
import os
import stat
import uuid

from tests.clients.conftest import AWSCLI, BUCKET, CLIENTS, CONTAINER, clients_python, run, tool_env


def test_tvs_login_with_the_development_provider_keeps_the_token_in_a_0600_file_and_never_prints_it(stack, tmp_path):
    env = tool_env(tmp_path)
    done = run(
        [str(CLIENTS / "tvs"), "login", "--dev", "--service", stack.url, "--sub", "alice", "--group", "users"], env
    )
    files = list((tmp_path / "tvs" / "tokens").iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    token = json.loads(files[0].read_text())["access_token"]
    assert token.count(".") == 2 and token not in done.stdout + done.stderr
    stores = json.loads(run([str(CLIENTS / "tvs"), "stores", "--json"], env).stdout)
    assert {"az", "s3", "vast"} <= {s["store"] for s in stores["stores"]}


def test_the_aws_cli_copies_and_lists_with_a_credential_process_profile_from_tvs(stack, signed_in):
    (signed_in.home / "aws-config").write_text(
        "[profile tvs]\nregion = eu-west-3\n"
        f"credential_process = {CLIENTS / 'tvs'} credential-process s3 --path users/alice/ --access write\n"
    )
    local = signed_in.home / "hello.txt"
    local.write_text("hello from the aws cli")
    key = f"users/alice/{uuid.uuid4().hex}.txt"
    aws = [str(AWSCLI), "--profile", "tvs", "--endpoint-url", stack.moto.url]
    run([*aws, "s3", "cp", str(local), f"s3://{BUCKET}/{key}"], signed_in.env)
    listed = run([*aws, "s3", "ls", f"s3://{BUCKET}/users/alice/"], signed_in.env).stdout
    assert key.rsplit("/", 1)[1] in listed


def test_tvs_exec_runs_the_aws_cli_with_the_credential_in_its_environment(stack, signed_in):
    key = f"users/alice/{uuid.uuid4().hex}.txt"
    (signed_in.home / "f.txt").write_text("through tvs exec")
    done = run(
        [
            str(CLIENTS / "tvs"),
            "exec",
            "s3",
            "--path",
            "users/alice/",
            "--access",
            "write",
            "--",
            str(AWSCLI),
            "--region",
            "eu-west-3",
            "--endpoint-url",
            stack.moto.url,
            "s3",
            "cp",
            str(signed_in.home / "f.txt"),
            f"s3://{BUCKET}/{key}",
        ],
        signed_in.env,
    )
    assert done.returncode == 0
    read = run(
        [
            str(CLIENTS / "tvs"),
            "exec",
            "s3",
            "--access",
            "read",
            "--",
            str(AWSCLI),
            "--region",
            "eu-west-3",
            "--endpoint-url",
            stack.moto.url,
            "s3",
            "cp",
            f"s3://{BUCKET}/{key}",
            "-",
        ],
        signed_in.env,
    )
    assert read.stdout == "through tvs exec"


def _native(stack, env, store, **body):
    out = run(
        [
            str(CLIENTS / "tvs"),
            "creds",
            store,
            "--format",
            "json",
            *[arg for k, v in body.items() for arg in (f"--{k}", str(v))],
        ],
        env,
    ).stdout
    return json.loads(out)


S3FS_SCRIPT = """
import json, sys, s3fs
options = json.loads(sys.argv[1])
fs = s3fs.S3FileSystem(**options)
path = sys.argv[2]
fs.pipe(path, b"written by s3fs")
print(json.dumps({"read": fs.cat(path).decode(), "listed": fs.ls(path.rsplit("/", 1)[0])}))
"""


def test_s3fs_lists_reads_and_writes_with_the_returned_storage_options_alone(stack, signed_in):
    answer = _native(stack, signed_in.env, "s3", path="users/alice/", access="write")
    path = f"{BUCKET}/users/alice/{uuid.uuid4().hex}.txt"
    result = json.loads(clients_python(S3FS_SCRIPT, signed_in.env, json.dumps(answer["storage_options"]), path))
    assert result["read"] == "written by s3fs" and path in result["listed"]


ADLFS_SCRIPT = """
import json, sys, adlfs
options = json.loads(sys.argv[1])
fs = adlfs.AzureBlobFileSystem(**options)
path = sys.argv[2]
fs.pipe(path, b"written by adlfs")
print(json.dumps({"read": fs.cat(path).decode(), "listed": fs.ls(path.rsplit("/", 1)[0])}))
"""


def test_adlfs_lists_reads_and_writes_with_the_returned_storage_options_alone(stack, signed_in):
    answer = _native(stack, signed_in.env, "az", access="write")
    path = f"{CONTAINER}/adlfs/{uuid.uuid4().hex}.txt"
    env = {**signed_in.env, "SSL_CERT_FILE": stack.ca}  # Azurite's certificate comes from the local test CA
    result = json.loads(clients_python(ADLFS_SCRIPT, env, json.dumps(answer["storage_options"]), path))
    assert result["read"] == "written by adlfs" and path in result["listed"]


ICEBERG_SCRIPT = """
import json, sys
from pyiceberg.io.fsspec import FsspecFileIO
answer = json.loads(sys.argv[1])
(entry,) = answer["storage-credentials"]
io = FsspecFileIO(properties=dict(entry["config"]))
location = entry["prefix"] + sys.argv[2]
with io.new_output(location).create(overwrite=True) as out:
    out.write(b"written through pyiceberg")
with io.new_input(location).open() as stream:
    print(stream.read().decode())
"""


def test_pyiceberg_writes_and_reads_an_s3_table_file_with_the_iceberg_properties(stack, signed_in):
    answer = run(
        [str(CLIENTS / "tvs"), "creds", "s3", "--path", "users/alice/", "--access", "write", "--format", "iceberg"],
        signed_in.env,
    ).stdout
    assert (
        clients_python(ICEBERG_SCRIPT, signed_in.env, answer, f"{uuid.uuid4().hex}.avro").strip()
        == "written through pyiceberg"
    )


def test_pyiceberg_writes_and_reads_an_azure_table_file_with_the_iceberg_properties(stack, signed_in):
    answer = run(
        [str(CLIENTS / "tvs"), "creds", "az", "--access", "write", "--format", "iceberg"], signed_in.env
    ).stdout
    env = {**signed_in.env, "SSL_CERT_FILE": stack.ca}
    assert (
        clients_python(ICEBERG_SCRIPT, env, answer, f"iceberg/{uuid.uuid4().hex}.avro").strip()
        == "written through pyiceberg"
    )


def test_the_tvs_client_package_builds_and_its_command_answers_help(tmp_path):
    done = run([str(CLIENTS / "tvs"), "--help"], tool_env(tmp_path))
    assert "login" in done.stdout and "credential-process" in done.stdout
    assert os.access(CLIENTS / "tvs", os.X_OK)


LONG_JOB_SCRIPT = """
import sys, time
from tvs_client.api import Client
from tvs_client.sdk import container_client
client = Client.from_profile(ca_file=sys.argv[2])
container = container_client(client, "az", access="write", ttl=60, connection_verify=sys.argv[2])
deadline, done = time.monotonic() + float(sys.argv[1]), 0
while time.monotonic() < deadline:
    name = f"long-job/{done % 5}.txt"
    container.upload_blob(name, f"round {done}".encode(), overwrite=True)
    assert container.download_blob(name).readall() == f"round {done}".encode()
    done += 1
    time.sleep(0.5)
print(done)
"""


def test_a_job_longer_than_two_credential_lifetimes_renews_by_half_life_not_per_request(stack, signed_in, caplog):
    caplog.set_level("INFO", logger="tvs.audit")
    lifetime = 60  # the shortest lifetime a store allows
    rounds = int(clients_python(LONG_JOB_SCRIPT, signed_in.env, str(2 * lifetime + 10), stack.ca, timeout=400))
    issued = [
        r.getMessage()
        for r in caplog.records
        if '"event":"issue"' in r.getMessage()
        and '"store":"az"' in r.getMessage()
        and '"ttl_seconds":60' in r.getMessage()
    ]
    assert rounds > 50  # the job kept reading and writing the whole time, without an error
    # renewed about every half lifetime (30 s, less a little jitter): 130 s of work take 4 to 6 SAS, not one per round
    assert 4 <= len(issued) <= 7, len(issued)
