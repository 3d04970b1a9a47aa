"""The IAM session policy generated for one grant (docs/aws.md; docs/design.md, Access levels). Pure: no I/O, no SDK.

An STS session is the intersection of the role's rights and this policy, so the policy is what
makes a credential exactly as broad as its grant:

- ``list``   s3:ListBucket on the bucket, with an ``s3:prefix`` condition for a prefix grant;
- ``read``   + s3:GetObject, s3:GetObjectVersion on the granted objects;
- ``write``  + s3:PutObject, s3:AbortMultipartUpload, s3:ListMultipartUploadParts, and
  s3:ListBucketMultipartUploads for the whole bucket only: its requests carry no ``s3:prefix``
  key (Service Authorization Reference for Amazon S3), so no condition can keep it to a prefix and
  it would show every upload in the bucket;
- ``delete`` + s3:DeleteObject, s3:DeleteObjectVersion.

A prefix grant covers ``arn:…:bucket/<prefix>*``; the ``*`` is ours, appended to a prefix that
ends with ``/``, so ``team-a/`` never reaches ``team-ab/``. A single-object grant names the exact
object ARN and gets no ListBucket: listing with the object's name as prefix would reveal the names
of other objects that start with it. When nothing is granted the policy denies everything, because
an *empty* session policy would hand over every right of the role.

With ``kms_key_arn`` (SSE-KMS buckets) the levels that read or write objects also get
kms:Decrypt (+ kms:GenerateDataKey for write and delete) on that one key, usable only through S3
in the store's region (``kms:ViaService``) and only for the granted objects or the bucket itself
(``kms:EncryptionContext:aws:s3:arn``; the bucket ARN is the context when S3 Bucket Keys are on).

The JSON is deterministic (sorted keys, compact) so golden files pin it byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..errors import Problem, problem

VERSION = "2012-10-17"
MAX_POLICY_CHARS = 2_048  # STS limit on the plaintext of an inline session policy
# Text that means more than itself in an IAM policy: wildcards and policy variables.
UNSAFE = ("*", "?", "${")

_BUCKET_ACTIONS = {
    "list": ("s3:ListBucket",),
    "read": ("s3:ListBucket",),
    "write": ("s3:ListBucket", "s3:ListBucketMultipartUploads"),
    "delete": ("s3:ListBucket", "s3:ListBucketMultipartUploads"),
}
# The only bucket actions whose requests carry the s3:prefix condition key.
_PREFIX_KEYED = frozenset({"s3:ListBucket", "s3:ListBucketVersions"})
_READ = ("s3:GetObject", "s3:GetObjectVersion")
_WRITE = _READ + ("s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject")
_OBJECT_ACTIONS = {
    "list": (),
    "read": _READ,
    "write": _WRITE,
    "delete": _WRITE + ("s3:DeleteObject", "s3:DeleteObjectVersion"),
}
_KMS_ACTIONS = {
    "list": (),
    "read": ("kms:Decrypt",),
    "write": ("kms:Decrypt", "kms:GenerateDataKey"),
    "delete": ("kms:Decrypt", "kms:GenerateDataKey"),
}


class UnsafePolicyInput(ValueError):
    """A bucket, path or key ARN that would mean more than itself inside a policy."""


# Region name prefix -> (ARN partition, DNS suffix), as in botocore's endpoints data; anything else is "aws".
_PARTITIONS = (
    ("cn-", "aws-cn", "amazonaws.com.cn"),
    ("us-gov-", "aws-us-gov", "amazonaws.com"),
    ("us-iso-", "aws-iso", "c2s.ic.gov"),
    ("us-isob-", "aws-iso-b", "sc2s.sgov.gov"),
    ("us-isof-", "aws-iso-f", "csp.hci.ic.gov"),
    ("eu-isoe-", "aws-iso-e", "cloud.adc-e.uk"),
    ("eusc-", "aws-eusc", "amazonaws.eu"),
)


def _partition(region: str) -> tuple[str, str]:
    for prefix, partition, dns_suffix in _PARTITIONS:
        if region.startswith(prefix):
            return partition, dns_suffix
    return "aws", "amazonaws.com"


def partition_of(region: str) -> str:
    """The ARN partition of an AWS region (``aws``, ``aws-cn``, ``aws-us-gov``, ``aws-iso``, …)."""
    return _partition(region)[0]


def s3_service_host(region: str) -> str:
    """``s3.<region>.<the partition's DNS suffix>``: the value of ``kms:ViaService``."""
    return f"s3.{region}.{_partition(region)[1]}"


def _literal(text: str, what: str) -> str:
    # Defence in depth: paths.py refuses these too, but this module must never depend on it.
    for token in UNSAFE:
        if token in text:
            raise UnsafePolicyInput(
                f"{what} contains {token!r}, which an IAM policy would read as a wildcard or variable"
            )
    return text


@dataclass(frozen=True)
class SessionPolicy:
    """An inline session policy: ``document`` as sent, ``text`` its canonical JSON."""

    document: dict[str, Any]

    @property
    def text(self) -> str:
        return json.dumps(self.document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @property
    def denies_all(self) -> bool:
        return all(s["Effect"] == "Deny" for s in self.document["Statement"])

    def check_size(self) -> None:
        """Raise a 400 ``policy-too-large`` before STS is called if the text is over the limit."""
        if len(self.text) > MAX_POLICY_CHARS:
            raise policy_too_large(
                f"the session policy for this grant has {len(self.text)} characters "
                f"and STS accepts at most {MAX_POLICY_CHARS}"
            )


def policy_too_large(detail: str) -> Problem:
    return problem("policy-too-large", f"{detail}. Ask for a shorter path, or for a parent prefix you are granted.")


def deny_all() -> SessionPolicy:
    """The policy for "nothing granted": never an empty policy, which would allow the whole role."""
    return SessionPolicy(
        {"Version": VERSION, "Statement": [{"Sid": "DenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"}]}
    )


def session_policy(
    bucket: str, path: str, access: str, *, region: str, kms_key_arn: str | None = None
) -> SessionPolicy:
    """The least policy that allows ``access`` on ``path`` (``""`` bucket, ``…/`` prefix, else one object).

    Guarantees: every Allow names ``bucket`` (and ``kms_key_arn``) only; object resources are
    ``bucket/<path>*`` for a prefix and exactly ``bucket/<path>`` for an object; ListBucket carries an
    ``s3:prefix`` condition unless the whole bucket is granted. Raises :class:`UnsafePolicyInput`
    for wildcards or policy variables in any input, :class:`KeyError` for an unknown level.
    """
    _literal(bucket, "the bucket name")
    _literal(path, "the path")
    if kms_key_arn is not None:
        _literal(kms_key_arn, "the KMS key ARN")
    partition = partition_of(region)
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    is_object = path != "" and not path.endswith("/")
    objects = f"{bucket_arn}/{path}" if is_object else f"{bucket_arn}/{path}*"
    statements: list[dict[str, Any]] = []
    if not is_object:
        actions = [a for a in _BUCKET_ACTIONS[access] if not path or a in _PREFIX_KEYED]
        listing: dict[str, Any] = {
            "Sid": "ListGrantedPrefix",
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": bucket_arn,
        }
        if path:
            listing["Condition"] = {"StringLike": {"s3:prefix": [f"{path}*", path]}}
        statements.append(listing)
    if _OBJECT_ACTIONS[access]:
        statements.append(
            {"Sid": "GrantedObjects", "Effect": "Allow", "Action": sorted(_OBJECT_ACTIONS[access]), "Resource": objects}
        )
    if kms_key_arn and _KMS_ACTIONS[access]:
        statements.append(
            {
                "Sid": "KmsThroughS3",
                "Effect": "Allow",
                "Action": sorted(_KMS_ACTIONS[access]),
                "Resource": kms_key_arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": s3_service_host(region)},
                    "StringLike": {"kms:EncryptionContext:aws:s3:arn": [objects, bucket_arn]},
                },
            }
        )
    if not statements:
        return deny_all()
    return SessionPolicy({"Version": VERSION, "Statement": statements})
