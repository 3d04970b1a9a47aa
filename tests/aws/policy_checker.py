"""An independent check of generated session policies: moto does not enforce session policies.

Written apart from ``shared.aws.policy`` and sharing no code with it:

- :func:`evaluate` is a tiny IAM evaluator (Allow/Deny statements, ``Action`` / ``Resource``
  wildcards, ``StringEquals`` / ``StringLike`` conditions, explicit deny wins). It refuses what
  it does not understand (``NotAction``, policy variables, other operators) instead of guessing.
- :func:`probes` lists requests inside and outside a grant: every S3 action at bucket and object
  level, sibling prefixes (``team-a/`` vs ``team-ab/``), parents, the other bucket, listing
  prefixes, KMS use through S3 or not, on the key or another.
- :func:`expected` says, from docs/design.md (Access levels) alone, whether a probe must be allowed.

:func:`violations` returns every probe where the policy and the specification disagree, in
either direction: an over-grant (allowed, not expected) or an under-grant (expected, refused).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

# -- the evaluator ---------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _pattern(text: str, case_insensitive: bool) -> re.Pattern:
    if "${" in text:
        raise ValueError(f"policy variables are not understood by this checker: {text!r}")
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL if case_insensitive else re.DOTALL)


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict, context: dict) -> bool:
    for operator, entries in condition.items():
        for key, wanted in entries.items():
            have = context.get(key)
            if have is None:
                return False  # StringEquals/StringLike on a missing key never match
            if operator == "StringEquals":
                if have not in _as_list(wanted):
                    return False
            elif operator == "StringLike":
                if not any(_pattern(w, False).match(have) for w in _as_list(wanted)):
                    return False
            else:
                raise ValueError(f"condition operator {operator!r} is not understood by this checker")
    return True


def _statement_matches(st: dict, action: str, resource: str, context: dict) -> bool:
    for unknown in ("NotAction", "NotResource", "Principal", "NotPrincipal"):
        if unknown in st:
            raise ValueError(f"{unknown} is not understood by this checker")
    if not any(_pattern(a, True).match(action) for a in _as_list(st["Action"])):
        return False
    if not any(_pattern(r, False).match(resource) for r in _as_list(st["Resource"])):
        return False
    return _condition_holds(st.get("Condition", {}), context)


def evaluate(policy: dict, action: str, resource: str, context: dict | None = None) -> str:
    """``"Allow"``, ``"Deny"`` (explicit) or ``"ImplicitDeny"`` for one request."""
    context = context or {}
    allowed = False
    for st in _as_list(policy["Statement"]):
        if _statement_matches(st, action, resource, context):
            if st["Effect"] == "Deny":
                return "Deny"
            if st["Effect"] == "Allow":
                allowed = True
            else:
                raise ValueError(f"unknown Effect {st['Effect']!r}")
    return "Allow" if allowed else "ImplicitDeny"


# -- the specification (docs/design.md, Access levels) ---------------------------------------------

OBJECT_ACTIONS = {
    "list": set(),
    "read": {"s3:GetObject", "s3:GetObjectVersion"},
    "write": {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    },
    "delete": {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
    },
}
LISTING_ACTIONS = {
    "list": {"s3:ListBucket"},
    "read": {"s3:ListBucket"},
    "write": {"s3:ListBucket", "s3:ListBucketMultipartUploads"},
    "delete": {"s3:ListBucket", "s3:ListBucketMultipartUploads"},
}
KMS_ACTIONS = {
    "list": set(),
    "read": {"kms:Decrypt"},
    "write": {"kms:Decrypt", "kms:GenerateDataKey"},
    "delete": {"kms:Decrypt", "kms:GenerateDataKey"},
}
# The bucket actions whose requests carry the s3:prefix condition key (Service Authorization
# Reference for Amazon S3). Other requests, ListBucketMultipartUploads among them, have no
# s3:prefix at all, so a StringLike on it never matches them: their probes carry none.
PREFIX_KEYED_ACTIONS = frozenset({"s3:ListBucket", "s3:ListBucketVersions"})
# Actions a credential must never have, whatever it is granted.
OTHER_OBJECT_ACTIONS = (
    "s3:GetObjectAcl",
    "s3:PutObjectAcl",
    "s3:GetObjectTagging",
    "s3:PutObjectTagging",
    "s3:DeleteObjectTagging",
    "s3:RestoreObject",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
    "s3:GetObjectAttributes",
    "s3:ReplicateObject",
)
OTHER_BUCKET_ACTIONS = (
    "s3:ListBucketVersions",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucket",
    "s3:PutBucketAcl",
    "s3:GetBucketAcl",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:GetBucketLocation",
    "s3:PutEncryptionConfiguration",
    "s3:DeleteBucketPolicy",
)
OTHER_ACTIONS = (
    "s3:ListAllMyBuckets",
    "s3:CreateBucket",
    "iam:PassRole",
    "iam:CreateUser",
    "sts:AssumeRole",
    "kms:Encrypt",
    "kms:ReEncryptFrom",
    "kms:CreateGrant",
    "kms:ScheduleKeyDeletion",
    "ec2:RunInstances",
)


@dataclass(frozen=True)
class Grant:
    bucket: str
    path: str  # "" whole bucket, "…/" prefix, else one object
    access: str
    kms_key_arn: str | None = None
    region: str = "eu-west-3"

    def covers_key(self, key: str) -> bool:
        if self.path == "":
            return True
        if self.path.endswith("/"):
            return key.startswith(self.path)
        return key == self.path

    def covers_listing(self, prefix: str | None) -> bool:
        if self.path != "" and not self.path.endswith("/"):
            return False  # a single-object grant lists nothing
        if self.path == "":
            return True
        return prefix is not None and prefix.startswith(self.path)


@dataclass(frozen=True)
class Probe:
    action: str
    resource: str
    context: dict = field(default_factory=dict, hash=False, compare=False)
    what: str = ""


def _keys_around(path: str) -> list[str]:
    """Object keys inside and just outside ``path``."""
    stem = path.rstrip("/")
    keys = {
        "seed.txt",
        "other/file",
        f"{path}file",
        f"{path}deeper/file",
        f"{stem}b/file",
        f"{stem}",
        f"{stem}-x",
        f"x/{path}file",
        f"{path}",
    }
    if "/" in stem:
        keys.add(stem.rsplit("/", 1)[0] + "/sibling")
    return sorted(k for k in keys if k)


def probes(grant: Grant, other_bucket: str = "some-other-bucket") -> list[Probe]:
    out = []
    kms_key = grant.kms_key_arn or "arn:aws:kms:eu-west-3:123456789012:key/none"
    for bucket in (grant.bucket, other_bucket, f"{grant.bucket}x"):
        for key in _keys_around(grant.path):
            obj = f"arn:aws:s3:::{bucket}/{key}"
            for action in sorted(set().union(*OBJECT_ACTIONS.values())) + list(OTHER_OBJECT_ACTIONS):
                out.append(Probe(action, obj, what=f"{action} {bucket}/{key}"))
            for via in (f"s3.{grant.region}.amazonaws.com", "s3.us-east-1.amazonaws.com", None):
                for key_arn in (kms_key, "arn:aws:kms:eu-west-3:123456789012:key/another"):
                    for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:ReEncryptFrom"):
                        ctx = {"kms:EncryptionContext:aws:s3:arn": obj}
                        if via:
                            ctx["kms:ViaService"] = via
                        out.append(Probe(action, key_arn, ctx, f"{action} {key_arn} via {via} for {bucket}/{key}"))
        bucket_arn = f"arn:aws:s3:::{bucket}"
        for prefix in [None, ""] + _keys_around(grant.path):
            for action in sorted(set().union(*LISTING_ACTIONS.values())) + list(OTHER_BUCKET_ACTIONS):
                ctx = {"s3:prefix": prefix} if prefix is not None and action in PREFIX_KEYED_ACTIONS else {}
                out.append(Probe(action, bucket_arn, ctx, f"{action} {bucket} prefix={prefix!r}"))
        for action in ("kms:Decrypt", "kms:GenerateDataKey"):  # S3 Bucket Keys: the context is the bucket
            ctx = {"kms:EncryptionContext:aws:s3:arn": bucket_arn, "kms:ViaService": f"s3.{grant.region}.amazonaws.com"}
            out.append(Probe(action, kms_key, ctx, f"{action} bucket key of {bucket}"))
    for action in OTHER_ACTIONS:
        out.append(Probe(action, "*", what=action))
    return out


def expected(grant: Grant, probe: Probe) -> bool:
    """Whether docs/design.md, Access levels (and docs/aws.md for KMS) says ``probe`` must be allowed for ``grant``."""
    bucket_arn = f"arn:aws:s3:::{grant.bucket}"
    if probe.action.startswith("kms:"):
        context_arn = probe.context.get("kms:EncryptionContext:aws:s3:arn", "")
        in_grant = context_arn == bucket_arn or (
            context_arn.startswith(bucket_arn + "/") and grant.covers_key(context_arn[len(bucket_arn) + 1 :])
        )
        return (
            grant.kms_key_arn is not None
            and probe.resource == grant.kms_key_arn
            and probe.action in KMS_ACTIONS[grant.access]
            and in_grant
            and probe.context.get("kms:ViaService") == f"s3.{grant.region}.amazonaws.com"
        )
    if probe.resource == bucket_arn:
        return probe.action in LISTING_ACTIONS[grant.access] and grant.covers_listing(probe.context.get("s3:prefix"))
    if probe.resource.startswith(bucket_arn + "/"):
        key = probe.resource[len(bucket_arn) + 1 :]
        return probe.action in OBJECT_ACTIONS[grant.access] and grant.covers_key(key)
    return False


def violations(policy: dict, grant: Grant) -> list[str]:
    """Every probe where ``policy`` disagrees with the specification (empty when it is exact)."""
    out = []
    for probe in probes(grant):
        allowed = evaluate(policy, probe.action, probe.resource, probe.context) == "Allow"
        want = expected(grant, probe)
        if allowed and not want:
            out.append(f"over-grant: {probe.what}")
        elif want and not allowed:
            out.append(f"under-grant: {probe.what}")
    return out
