"""The Credential Access Boundary of a grant (docs/gcs.md, The access boundary), pinned by golden files.

A downscoped token is its source token cut down by a boundary: a list of at most 10 rules, each
naming one bucket (``//storage.googleapis.com/projects/_/buckets/<bucket>``), the roles whose
permissions stay available there (``inRole:roles/...``) and an optional CEL condition. The roles
per access level are Google's predefined ones (for a prefix ``p/``):

- ``list``: ``storage.objectViewer``, only for lists whose list prefix starts with ``p/`` (no object
  is readable);
- ``read``: ``storage.objectViewer``, for objects under ``p/`` and lists whose prefix starts with ``p/``;
- ``write``: the same, plus ``storage.objectCreator`` for objects under ``p/``;
- ``delete``: ``storage.objectAdmin`` under the read condition.

The whole bucket needs no condition, except ``list`` (nothing under ``objects/``: the bucket itself,
which ``storage.objects.list`` is checked against); one object gets ``resource.name ==`` its exact name.

Conditions are built only from literal paths: a prefix always ends with ``/`` (so ``team-a/`` never
matches ``team-ab/``), and the generator refuses, on its own, anything that could end or escape a
CEL string literal, whatever the request layer checked before. Pure: no SDK, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .names import bucket_problem

MAX_RULES = 10  # Google's limit of rules in one Credential Access Boundary
VIEWER = "inRole:roles/storage.objectViewer"
CREATOR = "inRole:roles/storage.objectCreator"
ADMIN = "inRole:roles/storage.objectAdmin"
LIST_PREFIX = "api.getAttribute('storage.googleapis.com/objectListPrefix', '')"
_NOT_IN_LITERAL = frozenset("'\"\\\n\r\t")


class UnsafeBoundaryInput(ValueError):
    """A bucket or path that cannot be written into a condition as a plain literal."""


class TooManyRules(ValueError):
    """The scopes need more rules than one boundary may hold."""


@dataclass(frozen=True)
class Scope:
    """One bucket, one path (``""``, a prefix ending with ``/``, or one object) and one access level."""

    bucket: str
    path: str
    access: str


def _literal(text: str) -> str:
    """``text`` as a single-quoted CEL string literal; refused if it holds anything but plain characters."""
    if any(ch in _NOT_IN_LITERAL or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text):
        raise UnsafeBoundaryInput("a path with quotes, backslashes or control characters cannot be scoped")
    return f"'{text}'"


def resource(bucket: str) -> str:
    return f"//storage.googleapis.com/projects/_/buckets/{bucket}"


def object_name(bucket: str, path: str) -> str:
    return f"projects/_/buckets/{bucket}/objects/{path}"


def prefix_condition(bucket: str, prefix: str, listing: bool = True) -> str:
    """Objects under ``prefix`` (and, with ``listing``, lists whose prefix starts with it)."""
    if not prefix.endswith("/"):
        raise UnsafeBoundaryInput("a prefix ends with '/': without it, 'team-a' would also reach 'team-ab/'")
    objects = f"resource.name.startsWith({_literal(object_name(bucket, prefix))})"
    return f"{objects} || {LIST_PREFIX}.startsWith({_literal(prefix)})" if listing else objects


def list_only_condition(bucket: str, prefix: str) -> str:
    """Listing only: with a list prefix under ``prefix``, or for the whole bucket nothing under ``objects/``."""
    if prefix == "":
        return f"!resource.name.startsWith({_literal(object_name(bucket, ''))})"
    if not prefix.endswith("/"):
        raise UnsafeBoundaryInput("a prefix ends with '/': without it, 'team-a' would also reach 'team-ab/'")
    return f"{LIST_PREFIX}.startsWith({_literal(prefix)})"


def object_condition(bucket: str, path: str) -> str:
    return f"resource.name == {_literal(object_name(bucket, path))}"


def _rule(bucket: str, role: str, condition: str | None, title: str) -> dict:
    rule: dict = {"availablePermissions": [role], "availableResource": resource(bucket)}
    if condition is not None:
        rule["availabilityCondition"] = {"title": title, "expression": condition}
    return rule


def scope_rules(scope: Scope) -> list[dict]:
    """The rules of one scope (see the module docstring)."""
    bucket, path, access = scope.bucket, scope.path, scope.access
    why = bucket_problem(bucket)
    if why:
        raise UnsafeBoundaryInput(f"bucket {bucket!r} {why}")
    _literal(path)
    if path == "":
        if access == "list":
            return [_rule(bucket, VIEWER, list_only_condition(bucket, ""), "list the bucket")]
        roles = {"read": [VIEWER], "write": [VIEWER, CREATOR], "delete": [ADMIN]}[access]
        return [_rule(bucket, role, None, "") for role in roles]
    if path.endswith("/"):
        if access == "list":
            return [_rule(bucket, VIEWER, list_only_condition(bucket, path), "list the prefix")]
        read = prefix_condition(bucket, path)
        if access == "read":
            return [_rule(bucket, VIEWER, read, "read the prefix")]
        if access == "write":
            return [
                _rule(bucket, VIEWER, read, "read the prefix"),
                _rule(bucket, CREATOR, prefix_condition(bucket, path, listing=False), "create under the prefix"),
            ]
        return [_rule(bucket, ADMIN, read, "manage the prefix")]
    if access == "list":
        raise UnsafeBoundaryInput("'list' needs a prefix ending with '/' or the whole bucket")
    exact = object_condition(bucket, path)
    roles = {"read": [VIEWER], "write": [VIEWER, CREATOR], "delete": [ADMIN]}[access]
    return [_rule(bucket, role, exact, "the object") for role in roles]


def access_boundary(scopes: Sequence[Scope]) -> dict:
    """The Credential Access Boundary document for ``scopes``; at most :data:`MAX_RULES` rules."""
    rules = [rule for scope in scopes for rule in scope_rules(scope)]
    if not rules:
        raise UnsafeBoundaryInput("a boundary without rules would not restrict its token")
    if len(rules) > MAX_RULES:
        raise TooManyRules(f"the boundary would need {len(rules)} rules; Google accepts at most {MAX_RULES}")
    return {"accessBoundary": {"accessBoundaryRules": rules}}


def text(document: dict) -> str:
    """The document as the STS ``options`` field carries it (compact JSON)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
