"""Path rules (docs/design.md, Literal paths): literal paths only, checked before anything else happens.

Generated credentials (SAS scopes, IAM session policies, CEL conditions) carry the caller's
path literally, so anything that could mean more than itself there is refused, never escaped:
wildcards and policy variables, percent-encodings, backslashes, control and format characters,
``.``/``..`` segments, empty segments and text that is not in Unicode NFC form.
"""

from __future__ import annotations

import string
import unicodedata

MAX_PATH_CHARS = 1024
# The claims a grant's prefix (and an AWS session tag) may name, filled from verified claims only.
PLACEHOLDERS = ("sub", "oid", "tid", "preferred_username", "email")
# * ? are IAM wildcards, ${ } policy variables, [ ] ' " CEL/JSON metacharacters,
# % would let an encoded form slip past these checks, \ is a separator on some clients, # ends URLs.
FORBIDDEN = frozenset("*?${}[]'\"%\\#<>|^`~")

# The rules below as JSON Schema patterns, for the OpenAPI document (shared/api/openapi.py): the portable
# subset, printable ASCII without the characters above and the Latin-1 letters, in segments that are not
# empty, '.' or '..' and neither start nor end with a space. Everything they match passes validate_path
# (tests/core/test_paths.py); validate_path also accepts other Unicode text in NFC form.
_ANY = " !&()+,\\-.0-9:;=@A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff"
_EDGE = _ANY[1:]  # no space at either end of a segment
_NOT_DOT = _EDGE.replace(".", "")
_SEGMENT = f"(?:[{_NOT_DOT}]|[{_EDGE}][{_NOT_DOT}]|[{_NOT_DOT}][{_EDGE}]|[{_EDGE}][{_ANY}]+[{_EDGE}])"
PATH_PATTERN = f"^(?:{_SEGMENT}(?:/{_SEGMENT})*/?)?$"  # "" (everything), a prefix ending with '/', or one object
OBJECT_PATTERN = f"^{_SEGMENT}(?:/{_SEGMENT})*$"  # one object: not empty, not ending with '/'


def _check_text(text: str, what: str) -> None:
    if len(text) > MAX_PATH_CHARS:
        raise ValueError(f"{what} is longer than {MAX_PATH_CHARS} characters")
    for ch in text:
        if ch in FORBIDDEN:
            raise ValueError(f"{what} contains the character {ch!r}, which is not allowed in a path")
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise ValueError(f"{what} contains a control or format character (U+{ord(ch):04X})")
    if not unicodedata.is_normalized("NFC", text):
        raise ValueError(f"{what} is not in Unicode NFC form")


def _check_segments(segments: list[str], what: str) -> None:
    for seg in segments:
        if seg == "":
            raise ValueError(f"{what} has an empty segment ('//' or a leading '/')")
        if seg in (".", ".."):
            raise ValueError(f"{what} has a '.' or '..' segment")
        if seg != seg.strip():
            raise ValueError(f"{what} has a segment with leading or trailing white space")


def validate_path(path: object, what: str = "path") -> str:
    """Return ``path`` unchanged if it is a safe object path or prefix (``""`` = everything).

    Raises :class:`ValueError` with a message fit for the caller otherwise. A prefix ends with
    ``/``; anything else names one object.
    """
    if not isinstance(path, str):
        raise ValueError(f"{what} must be a string")
    if path == "":
        return path
    _check_text(path, what)
    body = path[:-1] if path.endswith("/") else path
    _check_segments(body.split("/"), what)
    return path


def validate_object(path: object, what: str = "object") -> str:
    """A single object name: a non-empty path that does not end with ``/``."""
    if not isinstance(path, str) or path == "" or path.endswith("/"):
        raise ValueError(f"{what} must name one object (not empty, not ending with '/')")
    return validate_path(path, what)


def is_prefix(path: str) -> bool:
    return path == "" or path.endswith("/")


def validate_prefix_template(template: str, placeholders: tuple[str, ...]) -> None:
    """Configuration-time check of a grant prefix such as ``users/{sub}/``."""
    if template == "":
        return
    if not template.endswith("/"):
        raise ValueError("a grant prefix ends with '/' (or is empty for the whole store)")
    literal = []
    for text, name, spec, conv in string.Formatter().parse(template):
        literal.append(text)
        if name is not None:
            if name not in placeholders or spec or conv:
                raise ValueError(f"unknown placeholder {{{name}}}; allowed: {', '.join(placeholders)}")
            literal.append("x")
    validate_path("".join(literal), "grant prefix")


def fill_prefix(template: str, claims: dict[str, str]) -> str | None:
    """Fill ``{placeholders}`` from verified claims; ``None`` if a value is missing or unsafe.

    A claim value must be one safe path segment: a subject of ``../x`` or ``a/b`` never widens
    a grant, it just makes the grant not apply.
    """
    if "{" not in template:
        return template
    out = []
    for text, name, _spec, _conv in string.Formatter().parse(template):
        out.append(text)
        if name is None:
            continue
        value = claims.get(name)
        if not isinstance(value, str) or not value or "/" in value:
            return None
        try:
            _check_text(value, "claim")
            _check_segments([value], "claim")
        except ValueError:
            return None
        out.append(value)
    return "".join(out)
