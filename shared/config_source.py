"""The configuration document kept in AWS instead of in ``TVS_CONFIG`` itself.

``TVS_CONFIG`` names the document (DESIGN §3): inline JSON, a file path, or one of

- ``ssm:/<name>``: an SSM parameter (String or SecureString, read with decryption), up to 8 KB on
  the advanced tier;
- ``s3://<bucket>/<key>``: an S3 object, up to :data:`MAX_DOCUMENT_BYTES`.

Both are read once, at cold start, with the platform's credentials (on Lambda the function's role,
which the SAM template lets read exactly that parameter or object). boto3 is imported only when a
document is read this way, so the inline and file forms cost no SDK import. The endpoints follow
boto3's own settings (``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL_SSM``, ``AWS_ENDPOINT_URL_S3``, ...).

Every failure is a :class:`ConfigError` on ``TVS_CONFIG`` naming the parameter or object and the
reason, never the document's content.
"""

from __future__ import annotations

import re

from .errors import ConfigError

SOURCE_ENV = "TVS_CONFIG"
SSM_PREFIX = "ssm:"
S3_PREFIX = "s3://"
MAX_DOCUMENT_BYTES = 1024 * 1024  # a configuration document is a few kB; refuse anything absurd before reading it
SSM_NAME = re.compile(r"^/?[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*\Z")  # SSM's name characters, no version selector
S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]\Z")
# total_max_attempts counts the first attempt too (botocore's max_attempts counts retries only): 3 in all.
TIMEOUTS = {"connect_timeout": 3, "read_timeout": 10, "retries": {"total_max_attempts": 3, "mode": "standard"}}


def is_remote(source: str) -> bool:
    """Whether ``source`` names a document in SSM or S3 (rather than inline JSON or a file)."""
    return source.startswith((SSM_PREFIX, S3_PREFIX))


def fetch_document(source: str) -> str:
    """The text of the document ``source`` names (``ssm:/name`` or ``s3://bucket/key``)."""
    if source.startswith(S3_PREFIX):
        bucket, key = _s3_location(source)
        return _text(_read_s3(bucket, key), f"the S3 object s3://{bucket}/{key}")
    if source.startswith(SSM_PREFIX):
        name = _ssm_name(source)
        return _text(_read_ssm(name), f"the SSM parameter {name}")
    raise ConfigError(SOURCE_ENV, "names neither an SSM parameter (ssm:/name) nor an S3 object (s3://bucket/key)")


def _ssm_name(source: str) -> str:
    name = source[len(SSM_PREFIX) :]
    if not SSM_NAME.match(name) or len(name) > 2048:
        raise ConfigError(SOURCE_ENV, "must name an SSM parameter as ssm:/<name> (letters, digits and _.-/ only)")
    return name


def _s3_location(source: str) -> tuple[str, str]:
    bucket, _, key = source[len(S3_PREFIX) :].partition("/")
    if not S3_BUCKET.match(bucket) or not key or len(key.encode("utf-8")) > 1024:
        raise ConfigError(SOURCE_ENV, "must name an S3 object as s3://<bucket>/<key>")
    return bucket, key


def _client(service: str):
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise ConfigError(SOURCE_ENV, f"names an {service.upper()} document, but boto3 is not installed") from None
    try:
        return boto3.client(service, config=Config(**TIMEOUTS))
    except Exception as exc:  # noqa: BLE001 - NoRegionError and friends: say what is missing
        raise ConfigError(
            SOURCE_ENV,
            f"cannot make an {service.upper()} client ({type(exc).__name__}): is the AWS "
            "region set (AWS_DEFAULT_REGION)?",
        ) from None


def _read_ssm(name: str) -> bytes:
    client = _client("ssm")
    try:
        value = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except Exception as exc:  # noqa: BLE001 - every failure becomes one ConfigError
        code = _error_code(exc)
        if code == "ParameterNotFound":
            raise ConfigError(
                SOURCE_ENV, f"the SSM parameter {name} does not exist in this account and region"
            ) from None
        if code in ("AccessDeniedException", "AccessDenied"):
            raise ConfigError(
                SOURCE_ENV,
                f"reading the SSM parameter {name} is denied: the role needs ssm:GetParameter "
                "on it (and kms:Decrypt on a customer-managed key)",
            ) from None
        raise ConfigError(SOURCE_ENV, f"the SSM parameter {name} cannot be read ({code})") from None
    return value.encode("utf-8")


def _read_s3(bucket: str, key: str) -> bytes:
    client = _client("s3")
    where = f"s3://{bucket}/{key}"
    try:
        response = client.get_object(Bucket=bucket, Key=key)
        size = response.get("ContentLength")
        if size is not None and size > MAX_DOCUMENT_BYTES:
            response["Body"].close()
            raise ConfigError(
                SOURCE_ENV,
                f"the S3 object {where} is {size} bytes, more than a configuration document "
                f"may be ({MAX_DOCUMENT_BYTES})",
            )
        data = response["Body"].read(MAX_DOCUMENT_BYTES + 1)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes one ConfigError
        code = _error_code(exc)
        if code in ("NoSuchKey", "NoSuchBucket", "404"):
            raise ConfigError(SOURCE_ENV, f"the S3 object {where} does not exist ({code})") from None
        if code in ("AccessDenied", "403"):
            raise ConfigError(
                SOURCE_ENV,
                f"reading the S3 object {where} is denied, or it does not exist: the role "
                "needs s3:GetObject on it (and kms:Decrypt on a customer-managed key)",
            ) from None
        raise ConfigError(SOURCE_ENV, f"the S3 object {where} cannot be read ({code})") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ConfigError(
            SOURCE_ENV,
            f"the S3 object {where} is larger than a configuration document may be ({MAX_DOCUMENT_BYTES} bytes)",
        )
    return data


def _error_code(exc: Exception) -> str:
    """The AWS error code of a ClientError, else the exception's type name (never its message)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if isinstance(code, str) and code:
            return code
    return type(exc).__name__


def _text(data: bytes, what: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(SOURCE_ENV, f"{what} is not UTF-8 text") from None
    if not text.strip():
        raise ConfigError(SOURCE_ENV, f"{what} is empty")
    return text


__all__ = ["MAX_DOCUMENT_BYTES", "fetch_document", "is_remote"]
