"""Request checks done before asking the service, and the shapes tools read a credential in."""
from __future__ import annotations

import shlex
import unicodedata
from typing import Mapping

from .api import LEVELS
from .errors import TvsError, UsageError

MAX_TTL_SECONDS = 604_800  # the service refuses more (7 days)
AWS_DEFAULT_TTL_SECONDS = 3600  # AWS SDKs refresh 15 minutes before expiry: a 900 s credential would be refetched on every call
# The same characters the service refuses in a path, so a request it would refuse is not sent.
_FORBIDDEN = frozenset("*?${}[]'\"%\\#<>|^`~")


def check_path(path: str, what: str = "--path") -> None:
    if path == "":
        return
    if len(path) > 1024:
        raise UsageError(f"{what} is longer than 1024 characters")
    for ch in path:
        if ch in _FORBIDDEN:
            raise UsageError(f"{what} contains {ch!r}: paths are literal (no wildcards, variables or encodings)")
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise UsageError(f"{what} contains a control or format character (U+{ord(ch):04X})")
    if not unicodedata.is_normalized("NFC", path):
        raise UsageError(f"{what} is not in Unicode NFC form")
    body = path[:-1] if path.endswith("/") else path
    for seg in body.split("/"):
        if seg in ("", ".", ".."):
            raise UsageError(f"{what} has an empty, '.' or '..' segment (a prefix is like 'team-a/', an object "
                             "like 'team-a/x.csv')")
        if seg != seg.strip():
            raise UsageError(f"{what} has a segment with leading or trailing white space")


def check_request(store: str, path: str = "", access: str = "read", ttl: int | None = None) -> None:
    """Refuse here what the service would refuse, before any credential is minted."""
    if not store or len(store) > 63:
        raise UsageError("STORE must be a store id of 1-63 characters (see 'tvs stores')")
    check_path(path)
    if access not in LEVELS:
        raise UsageError(f"--access must be one of {', '.join(LEVELS)}")
    if ttl is not None and not 0 < ttl <= MAX_TTL_SECONDS:
        raise UsageError(f"--ttl must be between 1 and {MAX_TTL_SECONDS} seconds (the service clamps it to what "
                         "your grant allows)")


# -- shapes -------------------------------------------------------------------------------------------
def kind_of(answer: Mapping) -> str:
    """``s3`` (AWS S3 sessions, VAST key pairs), ``azure`` (SAS) or ``gcs`` (a downscoped token) for a
    native answer."""
    creds = answer.get("credentials") or {}
    if "sas_token" in creds:
        return "azure"
    if "access_key_id" in creds:
        return "s3"
    if "access_token" in creds:
        return "gcs"
    raise TvsError(f"this client does not know the credential shape of provider {answer.get('provider')!r}")


# Variables that would make a tool use another credential than the one handed to it.
AWS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                            "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                            "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_CREDENTIAL_EXPIRATION")
AZURE_CREDENTIAL_VARIABLES = ("AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_CONNECTION_STRING",
                              "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_AUTH_MODE")


def env_vars(answer: Mapping, isolate: bool = False) -> dict[str, str | None]:
    """The environment of a native answer; ``None`` means "unset this variable".

    AWS keys in the environment win over every other source of an AWS SDK, so only a stale session
    token is unset, unless ``isolate`` (a child of ``tvs exec``): then every variable that names
    another AWS credential is. For Azure, a connection string or account key would win over the SAS
    in the Azure CLI and adlfs: those are always unset.
    """
    c = answer["credentials"]
    out: dict[str, str | None] = {}
    if kind_of(answer) == "s3":
        out.update({name: None for name in (AWS_CREDENTIAL_VARIABLES if isolate else ("AWS_SECURITY_TOKEN",))})
        out["AWS_ACCESS_KEY_ID"] = c["access_key_id"]
        out["AWS_SECRET_ACCESS_KEY"] = c["secret_access_key"]
        out["AWS_SESSION_TOKEN"] = c.get("session_token") or None  # a VAST key pair has none
        if c.get("region"):
            out["AWS_REGION"] = out["AWS_DEFAULT_REGION"] = c["region"]
        if c.get("endpoint_url"):
            out["AWS_ENDPOINT_URL_S3"] = c["endpoint_url"]
        out["AWS_CREDENTIAL_EXPIRATION"] = answer["expires_at"]
        if c.get("bucket"):
            out["TVS_BUCKET"] = c["bucket"]
    else:
        out.update({name: None for name in AZURE_CREDENTIAL_VARIABLES})
        out["AZURE_STORAGE_ACCOUNT"] = out["AZURE_STORAGE_ACCOUNT_NAME"] = c["account_name"]
        out["AZURE_STORAGE_SAS_TOKEN"] = c["sas_token"]
        out["AZURE_STORAGE_ACCOUNT_URL"] = c["account_url"]
        out["AZURE_STORAGE_CONTAINER"] = c["container"]
        out["AZURE_STORAGE_CONTAINER_URL"] = c["container_url"]
    out["TVS_STORE"] = answer.get("store") or None
    out["TVS_EXPIRES_AT"] = answer["expires_at"]
    return out


def env_lines(answer: Mapping) -> str:
    """POSIX shell lines (``eval "$(tvs creds STORE)"``)."""
    lines = [f"# {answer.get('store')}: {answer.get('provider')} credential, expires {answer.get('expires_at')}"]
    for name, value in env_vars(answer).items():
        if value is None:
            lines.append(f"unset {name}")
        else:
            lines.append(f"export {name}={shlex.quote(value)}")
    return "\n".join(lines) + "\n"


def apply_env(base: Mapping[str, str], variables: Mapping[str, str | None]) -> dict[str, str]:
    env = dict(base)
    for name, value in variables.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def credential_process_doc(answer: Mapping) -> dict:
    """The AWS ``credential_process`` document, checked (``SessionToken`` only when there is one)."""
    if not isinstance(answer, Mapping) or answer.get("Version") != 1 or not answer.get("AccessKeyId") \
            or not answer.get("SecretAccessKey") or not answer.get("Expiration"):
        raise TvsError("the service did not answer in the credential_process format")
    doc = {"Version": 1, "AccessKeyId": answer["AccessKeyId"], "SecretAccessKey": answer["SecretAccessKey"]}
    if answer.get("SessionToken"):
        doc["SessionToken"] = answer["SessionToken"]
    doc["Expiration"] = answer["Expiration"]
    return doc


def shared_credentials_text(answer: Mapping, profile: str = "default") -> str:
    """An AWS shared-credentials file (``AWS_SHARED_CREDENTIALS_FILE``) holding a native S3 answer."""
    c = answer["credentials"]
    lines = [f"# written by tvs exec; expires {answer['expires_at']}", f"[{profile}]",
             f"aws_access_key_id = {c['access_key_id']}", f"aws_secret_access_key = {c['secret_access_key']}"]
    if c.get("session_token"):
        lines.append(f"aws_session_token = {c['session_token']}")
    return "\n".join(lines) + "\n"
