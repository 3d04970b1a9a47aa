"""An independent evaluator of Credential Access Boundaries: what a downscoped token may do.

It knows the permissions of the predefined Cloud Storage roles (from Google's IAM roles reference,
the storage permissions only), how Cloud Storage names what a request touches (an object is
``projects/_/buckets/<bucket>/objects/<name>``; ``storage.objects.list`` is checked against the
bucket ``projects/_/buckets/<bucket>`` with the request's list prefix in the API attribute
``storage.googleapis.com/objectListPrefix``), and a small CEL subset: string literals,
``resource.name.startsWith(s)``, ``resource.name == s``,
``api.getAttribute(name, default).startsWith(s)``, ``!``, ``&&``, ``||`` and parentheses. Anything
else is a parse error, so an expression the generator should never write fails loudly.

A request is allowed when some rule names its bucket, one of the rule's roles holds the permission,
and the rule has no condition or its condition holds (Google's semantics: the boundary is the upper
bound of the token's permissions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROLES = {
    "roles/storage.objectViewer": {
        "storage.objects.get",
        "storage.objects.list",
        "storage.folders.get",
        "storage.folders.list",
        "storage.managedFolders.get",
        "storage.managedFolders.list",
    },
    "roles/storage.objectCreator": {
        "storage.objects.create",
        "storage.folders.create",
        "storage.managedFolders.create",
        "storage.multipartUploads.create",
        "storage.multipartUploads.abort",
        "storage.multipartUploads.listParts",
    },
    "roles/storage.objectAdmin": {
        "storage.objects.create",
        "storage.objects.delete",
        "storage.objects.get",
        "storage.objects.list",
        "storage.objects.update",
        "storage.objects.getIamPolicy",
        "storage.objects.setIamPolicy",
        "storage.objects.restore",
        "storage.folders.create",
        "storage.folders.delete",
        "storage.folders.get",
        "storage.folders.list",
        "storage.managedFolders.create",
        "storage.managedFolders.delete",
        "storage.managedFolders.get",
        "storage.managedFolders.list",
        "storage.multipartUploads.create",
        "storage.multipartUploads.abort",
        "storage.multipartUploads.list",
        "storage.multipartUploads.listParts",
    },
}
LIST_PREFIX_ATTRIBUTE = "storage.googleapis.com/objectListPrefix"


@dataclass(frozen=True)
class Request:
    """What one Cloud Storage request asks IAM: a permission on a resource (and a list's prefix)."""

    permission: str
    resource_name: str
    list_prefix: str | None = None  # set on storage.objects.list requests that name a prefix

    @staticmethod
    def on_object(permission: str, bucket: str, name: str) -> Request:
        return Request(permission, f"projects/_/buckets/{bucket}/objects/{name}")

    @staticmethod
    def listing(bucket: str, prefix: str | None) -> Request:
        return Request("storage.objects.list", f"projects/_/buckets/{bucket}", prefix)


# -- a CEL subset --------------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<str>'[^'\\]*')|(?P<op>\|\||&&|==|[!(),.])|(?P<id>[A-Za-z_][A-Za-z0-9_]*))")


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise SyntaxError(f"unexpected text at {pos}: {text[pos : pos + 20]!r}")
        out.append(m.group(m.lastgroup))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, request: Request):
        self.tokens, self.i, self.request = _tokens(text), 0, request

    def take(self, expected: str | None = None) -> str:
        if self.i >= len(self.tokens):
            raise SyntaxError("unexpected end")
        token = self.tokens[self.i]
        if expected is not None and token != expected:
            raise SyntaxError(f"expected {expected!r}, got {token!r}")
        self.i += 1
        return token

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self) -> bool:
        value = self.disjunction()
        if self.peek() is not None:
            raise SyntaxError(f"trailing {self.peek()!r}")
        return value

    def disjunction(self) -> bool:
        value = self.conjunction()
        while self.peek() == "||":
            self.take()
            right = self.conjunction()
            value = value or right
        return value

    def conjunction(self) -> bool:
        value = self.unary()
        while self.peek() == "&&":
            self.take()
            right = self.unary()
            value = value and right
        return value

    def unary(self) -> bool:
        if self.peek() == "!":
            self.take()
            return not self.unary()
        if self.peek() == "(":
            self.take()
            value = self.disjunction()
            self.take(")")
            return value
        return self.term()

    def string(self) -> str:
        token = self.take()
        if not (token.startswith("'") and token.endswith("'")):
            raise SyntaxError(f"expected a string literal, got {token!r}")
        return token[1:-1]

    def subject(self) -> str:
        first = self.take()
        if first == "resource":
            self.take(".")
            self.take("name")
            return self.request.resource_name
        if first == "api":
            self.take(".")
            self.take("getAttribute")
            self.take("(")
            name = self.string()
            self.take(",")
            default = self.string()
            self.take(")")
            if name != LIST_PREFIX_ATTRIBUTE:
                raise SyntaxError(f"unknown attribute {name!r}")
            return self.request.list_prefix if self.request.list_prefix is not None else default
        raise SyntaxError(f"unknown subject {first!r}")

    def term(self) -> bool:
        value = self.subject()
        if self.peek() == "==":
            self.take()
            return value == self.string()
        self.take(".")
        self.take("startsWith")
        self.take("(")
        prefix = self.string()
        self.take(")")
        return value.startswith(prefix)


def condition_holds(expression: str, request: Request) -> bool:
    return _Parser(expression, request).parse()


def allowed(document: dict, request: Request) -> bool:
    """True when a token downscoped by ``document`` may make ``request``."""
    bucket = request.resource_name.split("/")[3]
    for rule in document["accessBoundary"]["accessBoundaryRules"]:
        if rule["availableResource"] != f"//storage.googleapis.com/projects/_/buckets/{bucket}":
            continue
        roles = [p.removeprefix("inRole:") for p in rule["availablePermissions"]]
        if not any(request.permission in ROLES.get(role, ()) for role in roles):
            continue
        condition = rule.get("availabilityCondition")
        if condition is None or condition_holds(condition["expression"], request):
            return True
    return False


# -- what a grant means ------------------------------------------------------------------------------
LEVELS = ("list", "read", "write", "delete")
OBJECT_OPERATIONS = {
    "storage.objects.get": "read",
    "storage.objects.create": "write",
    "storage.objects.delete": "delete",
}


def expected(bucket: str, path: str, access: str, request: Request) -> bool:
    """What a grant of ``access`` on ``bucket`` at ``path`` allows (docs/design.md, Access levels)."""
    parts = request.resource_name.split("/")
    if parts[3] != bucket:
        return False
    rank = LEVELS.index(access)
    if request.permission == "storage.objects.list":
        if not (path == "" or path.endswith("/")):
            return False  # every level lists, but never by one object's name
        return path == "" or (request.list_prefix is not None and request.list_prefix.startswith(path))
    name = "/".join(parts[5:])
    inside = path == "" or (name.startswith(path) if path.endswith("/") else name == path)
    needed = OBJECT_OPERATIONS[request.permission]
    return inside and rank >= LEVELS.index(needed)


def probes(buckets: tuple[str, ...], names: tuple[str, ...], list_prefixes: tuple[str | None, ...]) -> list[Request]:
    out = []
    for bucket in buckets:
        for name in names:
            out += [Request.on_object(p, bucket, name) for p in OBJECT_OPERATIONS]
        out += [Request.listing(bucket, prefix) for prefix in list_prefixes]
    return out


def violations(document: dict, bucket: str, path: str, access: str, requests: list[Request]) -> list[str]:
    """Every probe on which the boundary and the grant disagree (empty when the boundary is exact)."""
    return [
        f"{r.permission} {r.resource_name} prefix={r.list_prefix!r}: boundary "
        f"{'allows' if allowed(document, r) else 'denies'}"
        for r in requests
        if allowed(document, r) != expected(bucket, path, access, r)
    ]
